// What the HTTP-layer fuzz targets share: the fixed token secret (the seed
// corpora's tokens are signed with it), the admin key and the instant every
// request is stamped with, and simdjson.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/types.hpp"
#include "net/simdjson.hpp"
#include "net/token_codec.hpp"

namespace boxoffice::fuzz {

// Bytes 0xa0, 0xa1, ..., 0xbf.
inline net::TokenSecret fuzz_secret() {
  net::TokenSecret s{};
  for (size_t i = 0; i < s.size(); i++) s[i] = static_cast<uint8_t>(0xa0 + i);
  return s;
}

inline constexpr std::string_view admin_key = "fuzz-admin-key";
inline constexpr TimeMs now_ms = 1798761600000;  // 2027-01-01T00:00:00Z

}  // namespace boxoffice::fuzz
