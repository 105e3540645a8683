// A seeded simulator of the whole engine.
//
// Many users join the line, poll, leave, hold, cancel, charge, pay and refund
// against a few small concerts, with time advancing irregularly (ticks late,
// bunched, or stamped in the past). After every command the invariants are
// checked; every event goes through the binary codec into an in-memory log,
// and at the end the state rebuilt from that log must have the live state's
// digest. Commands run in batches, as the server's group commit does; a few
// batches end in a crash (the batch lost whole, or durable but never
// acknowledged), after which a new engine recovers from the newest snapshot
// and the log and must reach the last durable state exactly. The same seed
// always gives the same run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace boxoffice::sim {

struct SimOptions {
  uint64_t seed = 1;
  uint64_t commands = 100000;
  uint64_t full_check_every = 1000;  // O(state) invariant walk period, in commands
  uint32_t crash_per_mille = 2;      // batches that end in a crash (torn or unacknowledged)
  uint64_t snapshot_every_events = 500;
};

struct SimReport {
  uint64_t commands = 0;
  uint64_t events = 0;
  uint64_t holds_ok = 0;
  uint64_t payments_ok = 0;
  uint64_t refunds_ok = 0;
  uint64_t expiries = 0;
  uint64_t crashes = 0;
  uint64_t digest = 0;
  uint64_t codes[32] = {};             // results by Code wire number
  std::optional<std::string> failure;  // the first violation, with the command index
};

SimReport run_simulation(const SimOptions& options);

}  // namespace boxoffice::sim
