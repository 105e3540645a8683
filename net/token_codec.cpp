#include "net/token_codec.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

namespace boxoffice::net {

namespace {

constexpr uint8_t token_version = 1;
constexpr size_t header_bytes = 1 + 8;
constexpr size_t token_bytes_max = header_bytes + limits::user_name_bytes_max + token_mac_bytes;

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; i++) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> decode_table = make_decode_table();

}  // namespace

void base64url_encode(std::span<const uint8_t> bytes, std::string& out) {
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{bytes[i]} << 16;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
}

bool base64url_decode(std::string_view text, uint8_t* out, size_t out_capacity, size_t* out_size) {
  if (text.size() % 4 == 1) return false;
  const size_t size = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  if (size > out_capacity) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (const char c : text) {
    const int8_t v = decode_table[static_cast<uint8_t>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<uint8_t>(acc >> bits);
      acc &= (1U << bits) - 1;
    }
  }
  if (acc != 0) return false;  // non-canonical: trailing bits set
  BOXOFFICE_ASSERT(n == size);
  *out_size = n;
  return true;
}

TokenCodec::TokenCodec(const TokenSecret& secret) {
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  BOXOFFICE_ASSERT(hmac != nullptr);
  ctx_ = EVP_MAC_CTX_new(hmac);
  EVP_MAC_free(hmac);  // the context keeps its own reference
  BOXOFFICE_ASSERT(ctx_ != nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  BOXOFFICE_ASSERT(EVP_MAC_init(ctx_, secret.data(), secret.size(), params) == 1);
}

TokenCodec::~TokenCodec() { EVP_MAC_CTX_free(ctx_); }

void TokenCodec::mac(std::span<const uint8_t> message, uint8_t* out) {
  // A NULL key restarts the MAC with the key set in the constructor.
  size_t out_size = 0;
  const bool ok = EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1 &&
                  EVP_MAC_update(ctx_, message.data(), message.size()) == 1 &&
                  EVP_MAC_final(ctx_, out, &out_size, token_mac_bytes) == 1;
  BOXOFFICE_ASSERT(ok && out_size == token_mac_bytes);
}

void TokenCodec::sign(TokenId id, std::string_view user, std::string& out) {
  BOXOFFICE_ASSERT(!user.empty() && user.size() <= limits::user_name_bytes_max);
  std::array<uint8_t, token_bytes_max> bytes;
  bytes[0] = token_version;
  const uint64_t v = raw(id);
  for (int i = 0; i < 8; i++)
    bytes[1 + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (56 - 8 * i));
  std::memcpy(&bytes[header_bytes], user.data(), user.size());
  const size_t signed_bytes = header_bytes + user.size();
  mac(std::span(bytes.data(), signed_bytes), &bytes[signed_bytes]);
  base64url_encode(std::span(bytes.data(), signed_bytes + token_mac_bytes), out);
}

std::optional<VerifiedToken> TokenCodec::verify(std::string_view text) {
  if (text.size() > token_chars_max) return std::nullopt;
  std::array<uint8_t, token_bytes_max> bytes;
  size_t size = 0;
  if (!base64url_decode(text, bytes.data(), bytes.size(), &size)) return std::nullopt;
  if (size < header_bytes + 1 + token_mac_bytes || bytes[0] != token_version) return std::nullopt;
  const size_t signed_bytes = size - token_mac_bytes;
  std::array<uint8_t, token_mac_bytes> expected;
  mac(std::span(bytes.data(), signed_bytes), expected.data());
  if (CRYPTO_memcmp(expected.data(), &bytes[signed_bytes], token_mac_bytes) != 0) {
    return std::nullopt;
  }
  uint64_t id = 0;
  for (size_t i = 1; i < header_bytes; i++) id = id << 8 | bytes[i];
  const std::string_view user(reinterpret_cast<const char*>(&bytes[header_bytes]),
                              signed_bytes - header_bytes);
  if (id == 0 || !is_valid_user_name(user)) return std::nullopt;
  VerifiedToken out;
  out.token = TokenId{id};
  out.user = UserName::from(user);
  return out;
}

}  // namespace boxoffice::net
