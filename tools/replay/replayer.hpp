// The replay tool's work, independent of where the events come from.
//
// A source reads the log in order: source(from_seq, to_seq, visit) calls
// visit(seq, bytes) for each event until visit returns false, and returns ""
// or what went wrong (for example a corrupt record, naming its sequence).
// Every operation replays through State::apply, the code the server runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "engine/state.hpp"

namespace boxoffice::replay {

using EventVisit = std::function<bool(uint64_t seq, std::span<const uint8_t> bytes)>;
using EventSource = std::function<std::string(uint64_t from, uint64_t to, const EventVisit&)>;

// Where a replay stops: at a sequence number, or before the first event
// after an instant ("as it was then").
struct Until {
  uint64_t seq = UINT64_MAX;
  TimeMs time_ms = INT64_MAX;
};

struct SnapshotRef {
  uint64_t seq = 0;
  std::span<const uint8_t> bytes;
};

struct VerifyReport {
  uint64_t events = 0;
  uint64_t last_seq = 0;
  uint64_t digest = 0;
  bool snapshot_compared = false;
  std::optional<std::string> failure;  // the first problem, naming its sequence number
};

// Replays [1, until], checking after every event the records it touched
// (seat and reservation agree, the user's balance identity holds, active
// tokens within `active_limit` when non-zero), every invariant at the end,
// and, when `snapshot` is given and reached, that the replayed state's
// digest equals the snapshot's.
VerifyReport verify(const EventSource& source, Until until, std::optional<SnapshotRef> snapshot,
                    uint32_t active_limit, State& state);

// What an audit selects: one user's history, or one seat's.
struct AuditFilter {
  std::string user;  // userId; empty: not by user
  uint32_t concert = 0;
  Day day = 0;
  uint32_t seat = 0;  // 0: not by seat
};

// Replays and calls line(text) for every event the filter selects.
std::string audit(const EventSource& source, Until until, const AuditFilter& filter,
                  const std::function<void(const std::string&)>& line);

// Calls line(json) for each event in [from, until] (no replay needed).
std::string dump(const EventSource& source, uint64_t from, Until until,
                 const std::function<void(const std::string&)>& line);

struct Stats {
  uint64_t events = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  TimeMs first_ms = 0;
  TimeMs last_ms = 0;
  uint64_t bytes = 0;
  std::map<std::string, uint64_t> by_type;
};
std::string stats(const EventSource& source, Stats* out);

// Progress on stderr for long runs: events per second and an ETA.
void set_progress(bool on, uint64_t total_events);

}  // namespace boxoffice::replay
