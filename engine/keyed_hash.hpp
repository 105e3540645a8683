// KeyedHash: SipHash-1-3 (SipHash of Aumasson and Bernstein, 2012, with one
// round per block and three at the end, as hash tables use it), the hash that
// places user names and idempotency keys in the state's indexes.
//
// Clients choose those strings. Under a hash anyone can compute they could
// choose thousands that share one index slot, and every insert and lookup
// would then scan them all (hash flooding: the core thread stalls). Under a
// key they do not know they cannot. The key only decides where an entry
// sits in an index, never what a command decides, so a log replays to the
// same state, and a snapshot encodes to the same bytes, under any key.
#pragma once

#include <cstdint>
#include <string_view>

namespace boxoffice {

struct HashKey {
  // The reference key of the SipHash paper (bytes 00..0f): fixed, for tests
  // and tools. The server draws its own at start.
  uint64_t k0 = 0x0706050403020100ULL;
  uint64_t k1 = 0x0f0e0d0c0b0a0908ULL;
};

// SipHash-1-3 of `bytes` under `key`.
uint64_t keyed_hash(const HashKey& key, std::string_view bytes);

}  // namespace boxoffice
