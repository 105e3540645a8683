// The in-process core benchmark: commands decided + applied + encoded per
// second on one thread, encoded events decoded + applied per second, and the
// cost of the keyed hash that places user names and idempotency keys.
#pragma once

#include <cstdint>
#include <string>

namespace boxoffice::bench {

struct CoreBenchOptions {
  uint32_t dates = 100;
  uint32_t seats_per_date = 10000;
  uint32_t users = 20000;
  uint64_t holds = 2000000;  // commands in the pure hold storm
  uint64_t mixed = 2000000;  // commands in the realistic mix
  uint64_t seed = 42;
  bool sequential = false;  // storm seats in order (every hold succeeds; no cache misses)
};

struct CoreBenchResult {
  double holds_per_s = 0;         // hold storm: decided + applied + encoded
  double holds_accepted = 0;      // fraction of storm holds that succeeded
  double mixed_per_s = 0;         // realistic mix: commands per second
  double apply_events_per_s = 0;  // decode + apply of the storm's log
  uint64_t events = 0;
  double bytes_per_seat = 0;  // catalog memory (date entries + seat arrays) per seat
  double name_hash_ns = 0;    // keyed hash of one user name (6 to 11 bytes)
};

CoreBenchResult run_core_bench(const CoreBenchOptions& options);
std::string to_json(const CoreBenchResult& result);

}  // namespace boxoffice::bench
