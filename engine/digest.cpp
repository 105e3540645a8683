#include "engine/digest.hpp"

#include <vector>

#include "engine/snapshot.hpp"

namespace boxoffice {

uint64_t digest_bytes(std::span<const uint8_t> bytes) {
  // A multiply-rotate over little-endian 8-byte words, with a murmur-style
  // finalizer; the length is mixed in so that trailing zeros count.
  uint64_t h = 0x243f6a8885a308d3ULL ^ (bytes.size() * 0x9e3779b97f4a7c15ULL);
  size_t i = 0;
  const auto mix = [&h](uint64_t word) {
    h ^= word * 0x9e3779b97f4a7c15ULL;
    h = (h << 27 | h >> 37) * 0xbf58476d1ce4e5b9ULL + 0x94d049bb133111ebULL;
  };
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word = 0;
    for (size_t k = 0; k < 8; k++) word |= uint64_t{bytes[i + k]} << (8 * k);
    mix(word);
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < bytes.size(); k++) tail |= uint64_t{bytes[i + k]} << (8 * k);
  mix(tail);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

uint64_t state_digest(const State& state) {
  std::vector<uint8_t> body;
  SnapshotCodec::encode_body(state, body);
  return digest_bytes(body);
}

}  // namespace boxoffice
