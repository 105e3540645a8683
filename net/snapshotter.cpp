#include "net/snapshotter.hpp"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

#include "engine/event_codec.hpp"
#include "engine/snapshot.hpp"
#include "engine/state.hpp"

namespace boxoffice::net {

Snapshotter::Snapshotter(storage::EventLog& log, const Config& config, uint64_t every_events)
    : log_(log), config_(config), every_events_(every_events) {
  durable_seq_.store(log.last_seq());
  next_due_seq_.store(UINT64_MAX);  // until the thread knows where the shadow starts
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "bo-snapshot");
    run();
  });
}

Snapshotter::~Snapshotter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Snapshotter::durable(uint64_t seq) {
  durable_seq_.store(seq, std::memory_order_relaxed);
  if (seq >= next_due_seq_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(mutex_);
    cv_.notify_one();
  }
}

void Snapshotter::run() {
  State shadow(config_.queue_span_tokens);
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  if (log_.load_newest_snapshot(&seq, &bytes).is_ok()) {
    if (!SnapshotCodec::decode(bytes, &shadow).empty()) {
      spdlog::warn("snapshotter: the newest snapshot does not load; no more snapshots");
      return;
    }
  }
  Event event;
  while (true) {
    next_due_seq_.store(shadow.last_seq() + every_events_);
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::seconds(1),
                   [&] { return stop_ || durable_seq_.load() >= next_due_seq_.load(); });
      if (stop_) return;
    }
    const uint64_t to = durable_seq_.load();
    if (to < next_due_seq_.load()) continue;
    std::string error;
    const storage::Status r =
        log_.read(shadow.last_seq() + 1, to, [&](uint64_t, std::span<const uint8_t> e) {
          const DecodeError d = decode_event(e, &event);
          if (d != DecodeError::none) {
            error = decode_error_name(d);
            return false;
          }
          shadow.apply(event);
          return true;
        });
    if (!r.is_ok() || !error.empty() || shadow.last_seq() != to) {
      spdlog::error("snapshotter: cannot follow the log ({}{}); no more snapshots", r.to_string(),
                    error);
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    bytes.clear();
    SnapshotCodec::encode(shadow, bytes);
    const storage::Status s = log_.put_snapshot(to, bytes);
    if (!s.is_ok()) {
      spdlog::error("snapshotter: cannot store the snapshot at seq {}: {}", to, s.to_string());
      return;
    }
    written_.fetch_add(1);
    spdlog::info("snapshot at seq {} ({} bytes) in {} ms", to, bytes.size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
}

}  // namespace boxoffice::net
