// TokenCodec: signs and verifies the bearer tokens of the waiting room.
//
//   token := base64url(version: u8 (1)  token_id: u64 big-endian  user: bytes[n]
//                      mac: bytes[32]),  no padding,  1 <= n <= 64
//   mac   := HMAC-SHA256(secret, version  token_id  user)
//
// A token is opaque to clients. Only the server, which holds the 32-byte
// secret, can make one; any change (a flipped bit, a missing or extra
// character, another user or id) fails verification, and the MAC is compared
// in constant time. Verification does not know whether the token id exists:
// that, and the token's state, are the core's to check.
//
// One codec per thread: it keeps an OpenSSL MAC context that it reuses.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/types.hpp"

struct evp_mac_ctx_st;

namespace boxoffice::net {

inline constexpr size_t token_secret_bytes = 32;
inline constexpr size_t token_mac_bytes = 32;
// The longest token text: base64url of 1 + 8 + 64 + 32 bytes.
inline constexpr size_t token_chars_max = ((1 + 8 + limits::user_name_bytes_max + 32) * 4 + 2) / 3;

using TokenSecret = std::array<uint8_t, token_secret_bytes>;

struct VerifiedToken {
  TokenId token = TokenId::none;
  UserName user;
};

class TokenCodec {
 public:
  explicit TokenCodec(const TokenSecret& secret);
  ~TokenCodec();
  TokenCodec(const TokenCodec&) = delete;
  TokenCodec& operator=(const TokenCodec&) = delete;

  // Appends the token for (id, user) to `out`. REQUIRES: a valid user name.
  void sign(TokenId id, std::string_view user, std::string& out);
  // The token's id and user, or nullopt when it is malformed or forged.
  std::optional<VerifiedToken> verify(std::string_view text);

 private:
  void mac(std::span<const uint8_t> message, uint8_t* out);

  evp_mac_ctx_st* ctx_ = nullptr;
};

// base64url without padding (RFC 4648 §5). decode returns false on any
// character outside the alphabet, a length that no encoding has, or
// non-zero trailing bits (so every byte string has exactly one encoding).
void base64url_encode(std::span<const uint8_t> bytes, std::string& out);
bool base64url_decode(std::string_view text, uint8_t* out, size_t out_capacity, size_t* out_size);

}  // namespace boxoffice::net
