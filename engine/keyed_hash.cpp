#include "engine/keyed_hash.hpp"

#include <bit>
#include <cstring>

namespace boxoffice {

namespace {

uint64_t rotl(uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

uint64_t load_le64(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// The `n` (< 8) bytes at `p`, as a little-endian integer.
uint64_t load_tail(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

struct Sip {
  uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }

  void compress(uint64_t m) {
    v3 ^= m;
    round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t keyed_hash(const HashKey& key, std::string_view bytes) {
  Sip s{0x736f6d6570736575ULL ^ key.k0, 0x646f72616e646f6dULL ^ key.k1,
        0x6c7967656e657261ULL ^ key.k0, 0x7465646279746573ULL ^ key.k1};
  const size_t whole = bytes.size() & ~size_t{7};
  for (size_t i = 0; i < whole; i += 8) s.compress(load_le64(bytes.data() + i));
  // The last block: the bytes left over, and the length's low byte on top.
  const uint64_t length_byte = static_cast<uint64_t>(bytes.size() & 0xff) << 56;
  s.compress(length_byte | load_tail(bytes.data() + whole, bytes.size() - whole));
  s.v2 ^= 0xff;
  for (int i = 0; i < 3; i++) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace boxoffice
