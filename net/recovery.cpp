#include "net/recovery.hpp"

#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "engine/assert.hpp"
#include "engine/invariants.hpp"
#include "engine/snapshot.hpp"
#include "net/event_feed.hpp"
#include "net/prefaulter.hpp"

namespace boxoffice::net {

namespace {

constexpr size_t prefetch_ahead = 8;  // events prefetched ahead of the one applied
// A prefaulted replay tells the prefaulter where the tables end this often.
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
                    std::optional<Engine>& engine, RecoveryReport* report,
                    const RecoveryOptions& options) {
  *report = RecoveryReport{};
  report->snapshot_seq = start_from_snapshot(log, config, engine, report);
  BOXOFFICE_ASSERT(engine->state().last_seq() == report->snapshot_seq);
  const uint64_t events = log.last_seq() - report->snapshot_seq;
  std::optional<Prefaulter> prefaulter;
  if (events >= options.prefault_events_min) {
    engine->reserve_for_events(events);
    prefaulter.emplace();
    prefaulter->publish(engine->state().table_regions());
  }
  // Another thread reads and decodes the events (EventFeed); this one applies
  // them, prefetching the memory of the one prefetch_ahead places on, so the
  // cache misses of a large state overlap with the work on the events before.
  AssertContext context("recovering event");
  std::function<bool()> idle;
  if (prefaulter.has_value()) idle = [&prefaulter] { return prefaulter->step(); };
  EventFeed feed(log, report->snapshot_seq + 1, std::move(idle));
  while (const EventFeed::Item* item = feed.next()) {
    if (const EventFeed::Item* ahead = feed.peek(prefetch_ahead)) {
      engine->state().prefetch(ahead->event);
    }
    context.set(item->seq);
    engine->recover(item->event);
    report->events_replayed++;
    if (prefaulter.has_value() && report->events_replayed % prefault_publish_events == 0) {
      prefaulter->publish(engine->state().table_regions());
    }
  }
  if (!feed.error().empty()) return feed.error();
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
