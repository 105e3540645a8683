#include "net/recovery.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <thread>
#include <vector>

#include "engine/assert.hpp"
#include "engine/event_codec.hpp"
#include "engine/invariants.hpp"
#include "engine/snapshot.hpp"
#include "net/prefaulter.hpp"

namespace boxoffice::net {

namespace {

constexpr uint64_t prefetch_ahead = 8;  // events decoded ahead of the one applied
// A replay this long reserves its tables and has them prefaulted ahead of it
// (Prefaulter), telling the prefaulter where they end this often.
constexpr uint64_t prefault_events_min = 1 << 16;
constexpr uint64_t prefault_publish_events = 1 << 14;

// Starts `engine` from the newest snapshot, or empty. Returns the snapshot's
// seq, 0 when none was used. The snapshot is decoded where RocksDB read it,
// while another thread checks its digest (the storage envelope's CRC, checked
// before, has already shown the bytes are the ones written).
uint64_t start_from_snapshot(const storage::EventLog& log, const Config& config,
                             std::optional<Engine>& engine, RecoveryReport* report) {
  engine.emplace(config);
  uint64_t seq = 0;
  std::string error;
  const storage::Status s =
      log.visit_newest_snapshot([&](uint64_t snapshot_seq, std::span<const uint8_t> bytes) {
        seq = snapshot_seq;
        std::string digest_error;
        std::thread checker([&] { digest_error = SnapshotCodec::check_digest(bytes); });
        error = engine->restore(bytes, DigestCheck::by_caller);
        checker.join();
        if (!digest_error.empty()) error = digest_error;  // the cause of any decode error
      });
  if (s.code == storage::Status::Code::not_found) return 0;
  if (!s.is_ok()) {
    report->snapshot_refused = s.to_string();
    return 0;
  }
  if (!error.empty()) {
    report->snapshot_refused = "snapshot at seq " + std::to_string(seq) + ": " + error;
    engine.emplace(config);
    return 0;
  }
  return seq;
}

}  // namespace

std::string recover(const storage::EventLog& log, const Config& config,
                    std::optional<Engine>& engine, RecoveryReport* report) {
  *report = RecoveryReport{};
  report->snapshot_seq = start_from_snapshot(log, config, engine, report);
  BOXOFFICE_ASSERT(engine->state().last_seq() == report->snapshot_seq);
  const uint64_t events = log.last_seq() - report->snapshot_seq;
  std::optional<Prefaulter> prefaulter;
  if (events >= prefault_events_min) {
    engine->reserve_for_events(events);
    prefaulter.emplace();
    prefaulter->publish(engine->state().table_regions());
  }
  // Events are decoded prefetch_ahead ahead of being applied, and each one's
  // memory is prefetched when decoded: the cache misses of a large state
  // overlap with the work on the events before.
  std::array<Event, prefetch_ahead> ring;
  uint64_t decoded = 0;
  std::string error;
  AssertContext context("recovering event");
  const auto apply = [&](uint64_t seq) {
    context.set(seq);
    engine->recover(ring[seq % prefetch_ahead]);
    report->events_replayed++;
    if (prefaulter.has_value() && report->events_replayed % prefault_publish_events == 0) {
      prefaulter->publish(engine->state().table_regions());
    }
  };
  const storage::Status r = log.read(
      report->snapshot_seq + 1, UINT64_MAX, [&](uint64_t seq, std::span<const uint8_t> bytes) {
        if (decoded == prefetch_ahead) apply(seq - prefetch_ahead);
        Event& e = ring[seq % prefetch_ahead];
        const DecodeError d = decode_event(bytes, &e);
        if (d != DecodeError::none) {
          error = "event " + std::to_string(seq) + " does not decode: " + decode_error_name(d);
          return false;
        }
        engine->state().prefetch(e);
        decoded = std::min<uint64_t>(decoded + 1, prefetch_ahead);
        return true;
      });
  if (r.is_ok() && error.empty()) {
    const uint64_t last = report->snapshot_seq + report->events_replayed + decoded;
    for (uint64_t seq = last - decoded + 1; seq <= last; seq++) apply(seq);
  }
  if (!r.is_ok()) return r.to_string();
  if (!error.empty()) return error;
  if (engine->state().last_seq() != log.last_seq()) {
    return "the log ends at seq " + std::to_string(log.last_seq()) + " but recovery reached " +
           std::to_string(engine->state().last_seq()) + " (events missing before it)";
  }
  InvariantOptions check;
  check.now_ms = engine->now_ms();
  if (const auto violation = check_invariants(engine->state(), check)) {
    return "the recovered state breaks an invariant: " + *violation;
  }
  return "";
}

}  // namespace boxoffice::net
