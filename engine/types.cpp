#include "engine/types.hpp"

namespace boxoffice {

bool utf8_length(std::string_view s, uint32_t* chars_out) {
  uint32_t chars = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<uint8_t>(s[i]);
    size_t extra = 0;
    uint32_t min_code = 0;
    uint32_t code = 0;
    if (lead < 0x80) {
      code = lead;
    } else if ((lead & 0xe0) == 0xc0) {
      extra = 1, min_code = 0x80, code = lead & 0x1fu;
    } else if ((lead & 0xf0) == 0xe0) {
      extra = 2, min_code = 0x800, code = lead & 0x0fu;
    } else if ((lead & 0xf8) == 0xf0) {
      extra = 3, min_code = 0x10000, code = lead & 0x07u;
    } else {
      return false;
    }
    if (i + extra + 1 > s.size()) return false;
    for (size_t k = 1; k <= extra; k++) {
      const auto cont = static_cast<uint8_t>(s[i + k]);
      if ((cont & 0xc0) != 0x80) return false;
      code = (code << 6) | (cont & 0x3fu);
    }
    if (code < min_code || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += extra + 1;
    chars++;
  }
  *chars_out = chars;
  return true;
}

}  // namespace boxoffice
