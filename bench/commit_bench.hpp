// The commit benchmark: holds decided by the core and made durable through
// the server's storage path, with many producers feeding the core.
//
// The path is the server's (net/core_loop.cpp), without HTTP: producer
// threads stand in for the I/O threads and push HoldSeat commands, stamped
// with a steady clock in ms, onto net::Ingress (one SPSC ring each; an item's
// session is null). The core thread drains up to batch_commands_max commands
// as one batch, executes them on the Engine, encodes their events into an
// EventBatch from the GroupCommitter and submits it; a batch's outcomes count
// only when on_durable reports it durable (an event-free batch with nothing
// in flight completes at once, as in the server). The log is a fresh
// EventLog in a temporary directory, synced per commit unless fsync is off.
#pragma once

#include <cstdint>
#include <string>

namespace boxoffice::bench {

struct CommitBenchOptions {
  uint32_t producers = 2;
  double seconds = 5;  // producers run this long, unless holds is set
  uint64_t holds = 0;  // when non-zero: this many holds in all, then stop
  bool fsync = true;
  std::string dir;  // the temporary data directory goes inside; empty: the system's
  // A sale big enough that most holds succeed all along.
  uint32_t dates = 1000;
  uint32_t seats_per_date = 10000;
  uint32_t users = 100000;
  uint64_t seed = 42;
};

// Percentiles of a per-commit quantity.
struct Distribution {
  double mean = 0;
  uint64_t p50 = 0;
  uint64_t p90 = 0;
  uint64_t p99 = 0;
  uint64_t max = 0;
};

struct CommitBenchResult {
  uint32_t producers = 0;
  bool fsync = true;
  double seconds = 0;           // from the first push to the last durable batch
  uint64_t holds_durable = 0;   // hold commands whose batch is durable
  uint64_t holds_accepted = 0;  // ... that succeeded (a SeatHeld event each)
  uint64_t holds_rejected = 0;  // ... that were refused (seat taken, hold limit)
  double durable_holds_per_s = 0;
  double accepted_holds_per_s = 0;
  uint64_t commits = 0;  // appends by the group committer (one sync each with fsync)
  double commits_per_s = 0;
  uint64_t events = 0;            // events made durable during the run
  double batches_per_commit = 0;  // core batches merged into one append
  Distribution commands_per_commit;
  Distribution events_per_commit;
  Distribution durable_latency_us;  // a batch's submit to its on_durable
  uint64_t immediate_batches = 0;   // event-free batches answered with nothing in flight
  uint64_t ring_full_waits = 0;     // pushes retried because a ring was full
  uint64_t log_bytes = 0;           // the data directory at the end
};

// Runs the benchmark; returns "" and fills *result, or what went wrong
// (the data directory could not be created, a write failed).
std::string run_commit_bench(const CommitBenchOptions& options, CommitBenchResult* result);
std::string to_json(const CommitBenchResult& result);

}  // namespace boxoffice::bench
