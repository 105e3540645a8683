// A seeded simulator of the whole engine.
//
// Many users join the line, poll, leave, hold, cancel, charge, pay and refund
// against a few small concerts, with time advancing irregularly (ticks late,
// bunched, or stamped in the past, and clock stalls: stretches of commands
// all stamped at one instant, then a jump). After every command the
// invariants are checked; every event goes through the binary codec into an
// in-memory log, and at the end the state rebuilt from that log must have the
// live state's digest. The same seed always gives the same run.
//
// Commands run in batches, as the server's group commit does. Most batches
// are durable and acknowledged; a few end in a fault, after which a new
// engine recovers from the newest snapshot and the log:
//   torn              the batch never reached the log; recovery must reach
//                     the state before it;
//   crash_after_write the batch is durable but no reply was sent; recovery
//                     must reach the state after it;
//   write_failed      the log reported the write failed: nothing of the batch
//                     is acknowledged and the process restarts; its events
//                     may or may not be in the log (the seed picks), and
//                     recovery must reach exactly the state before or after
//                     the batch, whichever the log holds.
// Every acknowledged reply is entered in a ledger as facts that stay true
// whatever happens later (reservation R is user U's, for this seat and
// deadline; payment P of amount A paid R; user U was charged at least C in
// all); after every recovery, and at the end, each fact must hold in the
// recovered state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace boxoffice::sim {

struct SimOptions {
  uint64_t seed = 1;
  uint64_t commands = 100000;
  uint64_t full_check_every = 1000;        // O(state) invariant walk period, in commands
  uint32_t crash_per_mille = 2;            // batches that crash (torn or unacknowledged)
  uint32_t write_failed_per_mille = 2;     // batches whose write the log reports failed
  uint32_t stalls_per_million_cmds = 200;  // commands that start a clock stall
  uint64_t snapshot_every_events = 500;
};

struct SimReport {
  uint64_t commands = 0;
  uint64_t events = 0;
  uint64_t holds_ok = 0;
  uint64_t payments_ok = 0;
  uint64_t refunds_ok = 0;
  uint64_t expiries = 0;
  uint64_t expiries_at_one_instant_max = 0;  // the most holds expired at one instant
  // Faults, by kind; each one is followed by a recovery.
  uint64_t torn = 0;
  uint64_t unacknowledged = 0;     // crash_after_write
  uint64_t write_failed = 0;       // of which ...
  uint64_t write_failed_kept = 0;  // ... the events reached the log anyway
  uint64_t stalls = 0;
  uint64_t stalled_commands = 0;  // commands stamped at a stalled instant
  uint64_t facts_acknowledged = 0;
  uint64_t facts_checked = 0;  // ledger facts checked against recovered states
  uint64_t digest = 0;
  uint64_t codes[32] = {};             // results by Code wire number
  std::optional<std::string> failure;  // the first violation, with the command index
};

SimReport run_simulation(const SimOptions& options);

}  // namespace boxoffice::sim
