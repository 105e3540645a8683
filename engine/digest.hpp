// A stable 64-bit digest of the durable state.
//
// Two states built from the same events have the same digest, on any
// machine: fields are hashed as explicit little-endian integers in a fixed
// order. Soft state (tokens' last activity), the engine's clock and derived
// indexes are left out.
#pragma once

#include <cstdint>

#include "engine/state.hpp"

namespace boxoffice {

uint64_t state_digest(const State& state);

}  // namespace boxoffice
