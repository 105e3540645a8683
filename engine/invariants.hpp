// The invariant checker: DESIGN.md's invariants 1-4, checked over a state.
//
// Invariant 5 (state rebuilt from the log equals the live state) is checked
// by comparing digests (digest.hpp). Returns a description of the first
// violation, or nullopt. `full` also walks every reservation (O(state));
// without it the check walks seats, users and tokens' counters only, which
// is cheap enough to run after every simulated command on small catalogs.
#pragma once

#include <optional>
#include <string>

#include "engine/state.hpp"

namespace boxoffice {

struct InvariantOptions {
  TimeMs now_ms = 0;          // the engine's clock: no held reservation expires at or before it
  uint32_t active_limit = 0;  // 0: do not check invariant 4
  bool full = true;
};

std::optional<std::string> check_invariants(const State& state, const InvariantOptions& options);

}  // namespace boxoffice
