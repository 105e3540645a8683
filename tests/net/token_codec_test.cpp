#include "net/token_codec.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace boxoffice::net {
namespace {

TokenSecret secret_of(uint8_t fill) {
  TokenSecret s;
  for (size_t i = 0; i < s.size(); i++) s[i] = static_cast<uint8_t>(fill + i);
  return s;
}

std::string sign(TokenCodec& codec, uint64_t id, std::string_view user) {
  std::string out;
  codec.sign(TokenId{id}, user, out);
  return out;
}

TEST_CASE("a signed token verifies to its id and user") {
  TokenCodec codec(secret_of(1));
  for (const auto& [id, user] : std::vector<std::pair<uint64_t, std::string>>{
           {1, "a"}, {42, "alice"}, {UINT64_MAX, std::string(64, 'z')}, {1ULL << 40, "x.y@z-_9"}}) {
    const std::string token = sign(codec, id, user);
    CAPTURE(token);
    CHECK(token.size() <= token_chars_max);
    const auto v = codec.verify(token);
    REQUIRE(v.has_value());
    CHECK(raw(v->token) == id);
    CHECK(v->user.view() == user);
    CHECK(token.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
  }
}

TEST_CASE("signing is deterministic and tokens differ by id and user") {
  TokenCodec codec(secret_of(1));
  CHECK(sign(codec, 5, "alice") == sign(codec, 5, "alice"));
  CHECK(sign(codec, 5, "alice") != sign(codec, 6, "alice"));
  CHECK(sign(codec, 5, "alice") != sign(codec, 5, "alicf"));
}

TEST_CASE("a token signed with another secret is refused") {
  TokenCodec mine(secret_of(1));
  TokenCodec theirs(secret_of(2));
  CHECK_FALSE(mine.verify(sign(theirs, 5, "alice")).has_value());
  CHECK(theirs.verify(sign(theirs, 5, "alice")).has_value());
}

TEST_CASE("every truncation and extension is refused") {
  TokenCodec codec(secret_of(1));
  const std::string token = sign(codec, 77, "mallory");
  for (size_t n = 0; n < token.size(); n++) {
    CAPTURE(n);
    CHECK_FALSE(codec.verify(token.substr(0, n)).has_value());
    CHECK_FALSE(codec.verify(token.substr(token.size() - n)).has_value());
  }
  for (const char c : std::string("Aa0-_=. ")) CHECK_FALSE(codec.verify(token + c).has_value());
}

TEST_CASE("every single-character alteration is refused") {
  TokenCodec codec(secret_of(1));
  const std::string token = sign(codec, 77, "mallory");
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.";
  for (size_t i = 0; i < token.size(); i++) {
    for (const char c : alphabet) {
      if (c == token[i]) continue;
      std::string altered = token;
      altered[i] = c;
      CAPTURE(altered);
      CHECK_FALSE(codec.verify(altered).has_value());
    }
  }
}

TEST_CASE("a token re-signed for another user or id does not verify with the first MAC") {
  // Splice: the header of one token with the MAC of another.
  TokenCodec codec(secret_of(1));
  const std::string a = sign(codec, 1, "alice");
  const std::string b = sign(codec, 2, "alice");
  CHECK(a.size() == b.size());
  const std::string spliced = b.substr(0, 16) + a.substr(16);
  CHECK_FALSE(codec.verify(spliced).has_value());
}

TEST_CASE("garbage is refused without reading out of bounds") {
  TokenCodec codec(secret_of(1));
  for (const std::string_view s :
       {"", "a", "abcd", "Bearer", "....", "eyJhbGciOiJIUzI1NiJ9.e30.sig",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    CHECK_FALSE(codec.verify(s).has_value());
  }
  CHECK_FALSE(codec.verify(std::string(token_chars_max + 1, 'A')).has_value());
  CHECK_FALSE(codec.verify(std::string(100000, 'A')).has_value());
}

TEST_CASE("base64url round trips and refuses non-canonical text") {
  std::vector<uint8_t> bytes;
  for (size_t n = 0; n < 40; n++) {
    std::string text;
    base64url_encode(bytes, text);
    std::vector<uint8_t> back(64);
    size_t size = 0;
    REQUIRE(base64url_decode(text, back.data(), back.size(), &size));
    back.resize(size);
    CHECK(back == bytes);
    bytes.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
  uint8_t out[8];
  size_t size = 0;
  CHECK(base64url_decode("QQ", out, sizeof out, &size));  // "A"
  CHECK(size == 1);
  CHECK(out[0] == 'A');
  CHECK_FALSE(base64url_decode("QR", out, sizeof out, &size));              // trailing bits set
  CHECK_FALSE(base64url_decode("Q", out, sizeof out, &size));               // impossible length
  CHECK_FALSE(base64url_decode("QQ==", out, sizeof out, &size));            // padding
  CHECK_FALSE(base64url_decode("Q+Q/", out, sizeof out, &size));            // standard alphabet
  CHECK_FALSE(base64url_decode("QUFBQUFBQUFBQQ", out, sizeof out, &size));  // too long
}

}  // namespace
}  // namespace boxoffice::net
