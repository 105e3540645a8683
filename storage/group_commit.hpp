// GroupCommitter: makes batches durable on a thread of its own, in order,
// while the core fills the next batch (pipelining, DESIGN rule 3).
//
//   core thread:      b = acquire(); b->reset(next_seq); fill b; submit(b, tag)
//   committer thread: appends every batch submitted so far as one write (one
//                     WriteBatch, one sync), then calls on_durable(b, tag,
//                     status) for each of them, in submission order
//   whoever consumes a completion: release(b) (may be inside on_durable)
//
// Contract:
// - Completions arrive in submission order, on the committer thread, each
//   exactly once. status ok means the batch's events are durable (synced
//   when the log's fsync option is set) and so is every batch before it.
// - A failed write fails its batches and, the log's failure being sticky,
//   every later one: nothing is acknowledged that is not durable.
// - The pool holds batches_in_flight_max batches. acquire() blocks only while
//   all of them are filled, queued, committing or not yet released.
// - commit_here() is submit() done on the caller's thread, for a caller that
//   has nothing in flight: it appends the batch, delivers its completion and
//   only then returns. Under light load that saves two hand-overs between
//   threads per batch (to the committer and back), which cost more than the
//   overlap of deciding and syncing gains while batches are small.
// - stop() commits everything submitted, delivers its completions, and joins
//   the thread. After it, submit() and commit_here() are programmer errors.
// - acquire(), submit() and commit_here() from one thread (the core);
//   release() from any.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "storage/event_batch.hpp"
#include "storage/event_log.hpp"
#include "storage/status.hpp"

namespace boxoffice::storage {

inline constexpr size_t batches_in_flight_max = 4;

class GroupCommitter {
 public:
  using OnDurable = std::function<void(EventBatch* batch, uint64_t tag, const Status& status)>;

  // Starts the committer thread. REQUIRES: `log` is open read_write and
  // outlives this; nothing else appends to it meanwhile.
  GroupCommitter(EventLog& log, OnDurable on_durable);
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;
  ~GroupCommitter();  // stop()

  // A batch of the pool to fill (reset() it first). Blocks while none is free.
  EventBatch* acquire();
  // Queues a filled batch (from acquire()) for commit; `tag` comes back with
  // its completion.
  void submit(EventBatch* batch, uint64_t tag);
  // Commits a filled batch on this thread and calls on_durable(batch, tag,
  // status) before it returns. REQUIRES: every completion of the batches
  // submitted before it has been delivered (nothing queued or committing).
  void commit_here(EventBatch* batch, uint64_t tag);
  // Returns a batch whose completion was delivered to the pool.
  void release(EventBatch* batch);
  // Drains and joins. Idempotent. Not from the committer thread.
  void stop();

  // Counters, readable from any thread.
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  uint64_t batches_committed() const { return batches_committed_.load(std::memory_order_relaxed); }
  uint64_t events_committed() const { return events_committed_.load(std::memory_order_relaxed); }
  uint64_t last_commit_us() const { return last_commit_us_.load(std::memory_order_relaxed); }
  uint64_t last_commit_events() const {
    return last_commit_events_.load(std::memory_order_relaxed);
  }
  uint64_t last_commit_batches() const {
    return last_commit_batches_.load(std::memory_order_relaxed);
  }

 private:
  enum class BatchState : uint8_t { free, filling, queued, committing, completed };
  struct Queued {
    EventBatch* batch = nullptr;
    uint64_t tag = 0;
  };

  size_t index_of(const EventBatch* batch) const;
  void run();
  void commit(const std::array<Queued, batches_in_flight_max>& taken, size_t count);

  EventLog& log_;
  const OnDurable on_durable_;
  std::array<EventBatch, batches_in_flight_max> batches_;

  std::mutex mutex_;
  std::condition_variable free_cv_;    // acquire() waits for a released batch
  std::condition_variable queued_cv_;  // the committer waits for work
  // Guarded by mutex_:
  std::array<BatchState, batches_in_flight_max> states_{};
  std::array<EventBatch*, batches_in_flight_max> free_{};
  size_t free_count_ = 0;
  std::array<Queued, batches_in_flight_max> queue_{};  // a ring; never full (see submit)
  size_t queue_head_ = 0;
  size_t queue_count_ = 0;
  bool stopping_ = false;

  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> batches_committed_{0};
  std::atomic<uint64_t> events_committed_{0};
  std::atomic<uint64_t> last_commit_us_{0};
  std::atomic<uint64_t> last_commit_events_{0};
  std::atomic<uint64_t> last_commit_batches_{0};

  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace boxoffice::storage
