#include "storage/crc32c.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace boxoffice::storage {

namespace {

constexpr uint32_t polynomial_reflected = 0x82F63B78u;

// table[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-8).
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ ((crc & 1u) ? polynomial_reflected : 0u);
    t[0][b] = crc;
  }
  for (size_t k = 1; k < 8; k++) {
    for (uint32_t b = 0; b < 256; b++) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr auto tables = make_tables();

uint32_t extend_raw_portable(uint32_t crc, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint32_t lo = 0;
    uint32_t hi = 0;
    std::memcpy(&lo, p, 4);  // the table walk below assumes a little-endian load
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = tables[7][lo & 0xFFu] ^ tables[6][(lo >> 8) & 0xFFu] ^ tables[5][(lo >> 16) & 0xFFu] ^
          tables[4][lo >> 24] ^ tables[3][hi & 0xFFu] ^ tables[2][(hi >> 8) & 0xFFu] ^
          tables[1][(hi >> 16) & 0xFFu] ^ tables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ tables[0][(crc ^ *p) & 0xFFu];
    p++;
    n--;
  }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_raw_sse42(uint32_t crc, const uint8_t* p,
                                                            size_t n) {
  uint64_t crc64 = crc;
  while (n >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    crc64 = _mm_crc32_u64(crc64, word);
    p += 8;
    n -= 8;
  }
  auto crc32 = static_cast<uint32_t>(crc64);
  while (n > 0) {
    crc32 = _mm_crc32_u8(crc32, *p);
    p++;
    n--;
  }
  return crc32;
}

const bool have_sse42 = __builtin_cpu_supports("sse4.2");
#endif

static_assert(std::endian::native == std::endian::little,
              "the slicing-by-8 table walk assumes a little-endian host");

}  // namespace

uint32_t crc32c_extend_portable(uint32_t crc, std::span<const uint8_t> data) {
  return ~extend_raw_portable(~crc, data.data(), data.size());
}

uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) {
#if defined(__x86_64__)
  if (have_sse42) return ~extend_raw_sse42(~crc, data.data(), data.size());
#endif
  return crc32c_extend_portable(crc, data);
}

uint32_t crc32c(std::span<const uint8_t> data) { return crc32c_extend(0, data); }

}  // namespace boxoffice::storage
