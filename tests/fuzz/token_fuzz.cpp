// Fuzz target: the bearer token codec (net/token_codec.hpp).
//
// Every input is used twice.
//
// 1. As token text. The seeds (tests/fuzz/corpus/token/) are tokens signed
//    with fuzz_secret() below, so the fuzzer's own mutations are the
//    single-byte changes, truncations and extensions of valid tokens.
//    Properties: under a secret that signed nothing, nothing verifies; under
//    fuzz_secret(), whatever verifies is exactly the text the codec issues
//    for the (id, user) it verified to, so no second text is ever accepted
//    for a token; and base64url decoding is canonical (what decodes
//    re-encodes to the same text).
//
// 2. As a recipe: bytes 0..7 a token id (big-endian), byte 8 an edit kind,
//    byte 9 a place, byte 10 a byte value, then the user (1..64 bytes, any
//    bytes). The codec signs (id, user). Properties: the token follows the
//    grammar at the top of token_codec.hpp; it verifies to exactly (id,
//    user) when the id is not 0 and the user a valid name, and otherwise not
//    at all; the edited token (one byte replaced, removed or inserted, a
//    byte appended, or a truncation) never verifies to another (id, user),
//    and, unless it decodes to the very bytes of the token, never verifies.
//    Decoding is canonical, so any edited text that verifies is a finding.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/assert.hpp"
#include "net/token_codec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using boxoffice::fuzz::fuzz_secret;

using boxoffice::net::TokenCodec;
using boxoffice::net::TokenSecret;

// A secret that signed nothing.
TokenSecret other_secret() {
  TokenSecret s = fuzz_secret();
  s[0] ^= 1;
  return s;
}

constexpr size_t recipe_header_bytes = 11;  // id (8), edit kind, place, byte
constexpr size_t token_bytes_max =
    1 + 8 + boxoffice::limits::user_name_bytes_max + boxoffice::net::token_mac_bytes;

struct Decoded {
  bool ok = false;
  std::array<uint8_t, token_bytes_max> bytes{};
  size_t size = 0;

  bool operator==(const Decoded& o) const {
    return ok == o.ok && size == o.size &&
           std::equal(bytes.begin(), bytes.begin() + size, o.bytes.begin(),
                      o.bytes.begin() + o.size);
  }
};

Decoded decode(std::string_view text) {
  Decoded d;
  d.ok = boxoffice::net::base64url_decode(text, d.bytes.data(), d.bytes.size(), &d.size);
  return d;
}

void check_as_text(TokenCodec& codec, TokenCodec& other, std::string_view text) {
  BOXOFFICE_ASSERT(!other.verify(text).has_value());
  const std::optional<boxoffice::net::VerifiedToken> v = codec.verify(text);
  if (v.has_value()) {
    std::string issued;
    codec.sign(v->token, v->user.view(), issued);
    BOXOFFICE_ASSERT(issued == text);
  }
  std::array<uint8_t, 256> bytes;
  size_t size = 0;
  if (boxoffice::net::base64url_decode(text, bytes.data(), bytes.size(), &size)) {
    std::string again;
    boxoffice::net::base64url_encode(std::span(bytes.data(), size), again);
    BOXOFFICE_ASSERT(again == text);
  }
}

// The edited text differs from `token`; it must not verify.
void check_edited(TokenCodec& codec, std::string_view token, std::string_view edited, uint64_t id,
                  std::string_view user) {
  BOXOFFICE_ASSERT(edited != token);
  const std::optional<boxoffice::net::VerifiedToken> v = codec.verify(edited);
  if (!v.has_value()) return;
  // Another (id, user) would be a forgery.
  BOXOFFICE_ASSERT(raw(v->token) == id && v->user.view() == user);
  // Other bytes under a valid MAC: the MAC would not cover every byte.
  const bool decodes_to_the_token_bytes = decode(edited) == decode(token);
  BOXOFFICE_ASSERT(decodes_to_the_token_bytes);
  // The same bytes from other text: base64url decoding is not canonical.
  const bool second_encoding_verifies = true;
  BOXOFFICE_ASSERT(!second_encoding_verifies);
}

std::string edit(std::string_view token, uint8_t kind, uint8_t place, uint8_t byte) {
  std::string out(token);
  const size_t at = place % (token.size() + 1);
  switch (kind % 5) {
    case 0:  // replace one byte with another
      if (at == token.size()) return out + static_cast<char>(byte);
      out[at] = static_cast<char>(out[at] == static_cast<char>(byte) ? byte ^ 1 : byte);
      return out;
    case 1:  // remove one byte
      out.erase(std::min(at, token.size() - 1), 1);
      return out;
    case 2:  // insert one byte
      out.insert(at, 1, static_cast<char>(byte));
      return out;
    case 3:  // append one byte
      return out + static_cast<char>(byte);
    default:  // truncate
      return out.substr(0, std::min(at, token.size() - 1));
  }
}

void check_as_recipe(TokenCodec& codec, const uint8_t* data, size_t size) {
  if (size <= recipe_header_bytes) return;
  uint64_t id = 0;
  for (size_t i = 0; i < 8; i++) id = id << 8 | data[i];
  const size_t user_size =
      std::min<size_t>(size - recipe_header_bytes, boxoffice::limits::user_name_bytes_max);
  const std::string_view user(reinterpret_cast<const char*>(data + recipe_header_bytes), user_size);
  std::string token;
  codec.sign(boxoffice::TokenId{id}, user, token);
  BOXOFFICE_ASSERT(token.size() <= boxoffice::net::token_chars_max);

  // The grammar: version 1, the id big-endian, the user, a 32-byte MAC.
  const Decoded d = decode(token);
  BOXOFFICE_ASSERT(d.ok && d.size == 1 + 8 + user.size() + boxoffice::net::token_mac_bytes);
  BOXOFFICE_ASSERT(d.bytes[0] == 1);
  BOXOFFICE_ASSERT(std::equal(data, data + 8, d.bytes.begin() + 1));
  BOXOFFICE_ASSERT(std::equal(data + recipe_header_bytes, data + recipe_header_bytes + user_size,
                              d.bytes.begin() + 9));

  const std::optional<boxoffice::net::VerifiedToken> v = codec.verify(token);
  const bool valid = id != 0 && boxoffice::is_valid_user_name(user);
  BOXOFFICE_ASSERT(v.has_value() == valid);
  if (valid) BOXOFFICE_ASSERT(raw(v->token) == id && v->user.view() == user);
  check_edited(codec, token, edit(token, data[8], data[9], data[10]), id, user);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static TokenCodec codec(fuzz_secret());
  static TokenCodec other(other_secret());
  check_as_text(codec, other, std::string_view(reinterpret_cast<const char*>(data), size));
  check_as_recipe(codec, data, size);
  return 0;
}
