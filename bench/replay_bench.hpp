// The replay benchmark: how fast a restart rebuilds the state from the log.
//
// A log of `events` events (a few more when the command that reaches the
// count emits several) is built once, and reused while it is complete and
// was built for that count, by running the engine on a seeded sale: a crowd
// joins the queue, polls, leaves or idles out, holds seats, pays, cancels,
// comes back for refunds, and holds and windows expire. Its layout in `dir`:
//
//   dir/log    the log, with a snapshot of the state after the first command
//              ending at or past events - 50,000 (SnapshotCodec, stored with
//              EventLog::put_snapshot as the server's snapshotter does), and a
//              meta record of what was built (written last: it marks the
//              build complete)
//   dir/full   a checkpoint of dir/log taken before the snapshot was stored,
//              so a recovery from it replays the whole log
//
// Both measurements run net/recovery.hpp's recover(), the server's start-up
// path (it ends with the invariant check over the whole state):
//   - full replay: recover() on dir/full, opened read-write as the server
//     opens it; replay_events_per_s = events / the time of recover();
//   - restart with a snapshot: EventLog::open of dir/log through the end of
//     recover(): recovery_s.
// Each runs `runs` times; the median is reported. After every run the
// recovered state's digest must equal the digest of the state that wrote the
// log (an assertion). The page cache is warm unless `cold` is set, which
// drops the directory's files from it before each run (posix_fadvise).
#pragma once

#include <cstdint>
#include <string>

namespace boxoffice::bench {

struct ReplayBenchOptions {
  uint64_t events = 10000000;
  std::string dir;  // empty: <system temp dir>/boxoffice-bench-replay-<events>
  uint32_t runs = 3;
  bool cold = false;
  uint64_t seed = 42;
};

struct ReplayBenchResult {
  std::string dir;
  bool built = false;  // by this run (else reused)
  double build_s = 0;
  uint64_t events = 0;            // in the log
  std::string mix;                // events by type
  uint64_t log_bytes = 0;         // dir/log on disk, snapshot included
  uint64_t events_sst_bytes = 0;  // the events' table files
  uint64_t snapshot_seq = 0;
  uint64_t snapshot_bytes = 0;  // as stored (the envelope)
  uint32_t runs = 0;
  bool cold = false;
  double replay_s = 0;       // median over the runs: recover() alone
  double replay_open_s = 0;  // median: the EventLog::open before it
  double replay_events_per_s = 0;
  double recovery_s = 0;         // median over the runs
  uint64_t recovery_events = 0;  // replayed after the snapshot
};

// Returns "" and fills *result, or what went wrong (I/O, a failed recovery).
std::string run_replay_bench(const ReplayBenchOptions& options, ReplayBenchResult* result);
std::string to_json(const ReplayBenchResult& result);

}  // namespace boxoffice::bench
