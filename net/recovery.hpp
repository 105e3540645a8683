// Recovery: rebuilds the engine from a data directory's log (DESIGN rule 6).
//
// Contract of recover(log, config, engine, report):
// - Loads the newest snapshot, if there is one, and applies every event after
//   it through Engine::recover, the same apply the core ran; without a usable
//   snapshot it replays the whole log. A snapshot is an optimisation: one
//   that is unreadable or does not restore is refused (report->
//   snapshot_refused says why, naming its seq) and the whole log is replayed,
//   so the state is the same, only slower to reach.
// - Then checks DESIGN's invariants 1 to 3 over the whole state (invariant 4
//   depends on --active-limit, which a restart may change).
// - Returns "" or what is wrong: an event that is unreadable or does not
//   decode (naming its seq), a gap, or a broken invariant. On an error the
//   engine must not be served: the server refuses to start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/engine.hpp"
#include "storage/event_log.hpp"

namespace boxoffice::net {

struct RecoveryReport {
  uint64_t snapshot_seq = 0;     // the snapshot started from; 0 for none
  uint64_t events_replayed = 0;  // events applied after it
  std::string snapshot_refused;  // why the newest snapshot was not used; empty if it was
};

struct RecoveryOptions {
  // A replay of this many events or more reserves the state's tables for
  // them and has the log reader fault their pages in ahead (Prefaulter).
  uint64_t prefault_events_min = uint64_t{1} << 16;
};

std::string recover(const storage::EventLog& log, const Config& config,
                    std::optional<Engine>& engine, RecoveryReport* report,
                    const RecoveryOptions& options = {});

}  // namespace boxoffice::net
