// A stable 64-bit digest of the durable state.
//
// The digest is a hash of the state's canonical encoding (the body of a
// snapshot, snapshot.hpp): two states with the same durable content have the
// same digest on any machine, and the digest covers exactly what a snapshot
// keeps. Soft state (tokens' last activity), the engine's clock and derived
// indexes are left out. Not cryptographic: it detects divergence.
#pragma once

#include <cstdint>
#include <span>

#include "engine/state.hpp"

namespace boxoffice {

uint64_t state_digest(const State& state);

// The hash itself, over any bytes.
uint64_t digest_bytes(std::span<const uint8_t> bytes);

}  // namespace boxoffice
