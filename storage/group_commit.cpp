#include "storage/group_commit.hpp"

#include <chrono>
#include <utility>

#include "engine/assert.hpp"

namespace boxoffice::storage {

GroupCommitter::GroupCommitter(EventLog& log, OnDurable on_durable)
    : log_(log), on_durable_(std::move(on_durable)) {
  BOXOFFICE_ASSERT(on_durable_ != nullptr);
  BOXOFFICE_ASSERT(log_.options().mode == OpenMode::read_write);
  for (size_t i = 0; i < batches_in_flight_max; i++) {
    states_[i] = BatchState::free;
    free_[i] = &batches_[i];
  }
  free_count_ = batches_in_flight_max;
  thread_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter() { stop(); }

size_t GroupCommitter::index_of(const EventBatch* batch) const {
  BOXOFFICE_ASSERT(batch >= batches_.data() && batch < batches_.data() + batches_in_flight_max);
  return static_cast<size_t>(batch - batches_.data());
}

EventBatch* GroupCommitter::acquire() {
  std::unique_lock lock(mutex_);
  free_cv_.wait(lock, [this] { return free_count_ > 0; });
  EventBatch* batch = free_[--free_count_];
  BatchState& state = states_[index_of(batch)];
  BOXOFFICE_ASSERT(state == BatchState::free);
  state = BatchState::filling;
  return batch;
}

void GroupCommitter::submit(EventBatch* batch, uint64_t tag) {
  BOXOFFICE_ASSERT(batch->sealed());
  {
    std::lock_guard lock(mutex_);
    BOXOFFICE_ASSERT(!stopping_);
    BatchState& state = states_[index_of(batch)];
    BOXOFFICE_ASSERT(state == BatchState::filling);
    // Only the pool's batches are queued, each at most once: the ring has room.
    BOXOFFICE_ASSERT(queue_count_ < batches_in_flight_max);
    queue_[(queue_head_ + queue_count_) % batches_in_flight_max] = Queued{batch, tag};
    queue_count_++;
    state = BatchState::queued;
  }
  queued_cv_.notify_one();
}

void GroupCommitter::commit_here(EventBatch* batch, uint64_t tag) {
  BOXOFFICE_ASSERT(batch->sealed());
  {
    std::lock_guard lock(mutex_);
    BOXOFFICE_ASSERT(!stopping_);
    // Nothing queued and nothing committing: the committer thread is idle
    // (or about to wait) and appends nothing until the next submit(), which
    // only this thread makes.
    BOXOFFICE_ASSERT(queue_count_ == 0);
    for (const BatchState state : states_) BOXOFFICE_ASSERT(state != BatchState::committing);
    BatchState& state = states_[index_of(batch)];
    BOXOFFICE_ASSERT(state == BatchState::filling);
    state = BatchState::committing;
  }
  std::array<Queued, batches_in_flight_max> taken{};
  taken[0] = Queued{batch, tag};
  commit(taken, 1);
}

void GroupCommitter::release(EventBatch* batch) {
  {
    std::lock_guard lock(mutex_);
    BatchState& state = states_[index_of(batch)];
    BOXOFFICE_ASSERT(state == BatchState::completed);
    BOXOFFICE_ASSERT(free_count_ < batches_in_flight_max);
    state = BatchState::free;
    free_[free_count_++] = batch;
  }
  free_cv_.notify_one();
}

void GroupCommitter::stop() {
  BOXOFFICE_ASSERT(std::this_thread::get_id() != thread_.get_id());
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitter::run() {
  std::array<Queued, batches_in_flight_max> taken{};
  while (true) {
    size_t count = 0;
    {
      std::unique_lock lock(mutex_);
      queued_cv_.wait(lock, [this] { return queue_count_ > 0 || stopping_; });
      if (queue_count_ == 0) return;  // stopping, and everything is committed
      // Everything queued goes into one write.
      while (queue_count_ > 0) {
        const Queued q = queue_[queue_head_];
        queue_head_ = (queue_head_ + 1) % batches_in_flight_max;
        queue_count_--;
        BatchState& state = states_[index_of(q.batch)];
        BOXOFFICE_ASSERT(state == BatchState::queued);
        state = BatchState::committing;
        taken[count++] = q;
      }
    }
    commit(taken, count);
  }
}

void GroupCommitter::commit(const std::array<Queued, batches_in_flight_max>& taken, size_t count) {
  BOXOFFICE_ASSERT(count >= 1 && count <= batches_in_flight_max);
  std::array<const EventBatch*, batches_in_flight_max> batches{};
  uint64_t events = 0;
  for (size_t i = 0; i < count; i++) {
    batches[i] = taken[i].batch;
    events += taken[i].batch->count();
  }
  const auto start = std::chrono::steady_clock::now();
  const Status status = log_.append(std::span(batches.data(), count));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (status.is_ok()) {
    BOXOFFICE_ASSERT(log_.last_seq() == taken[count - 1].batch->last_seq());
    commits_.fetch_add(1, std::memory_order_relaxed);
    batches_committed_.fetch_add(count, std::memory_order_relaxed);
    events_committed_.fetch_add(events, std::memory_order_relaxed);
    last_commit_us_.store(
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
        std::memory_order_relaxed);
    last_commit_events_.store(events, std::memory_order_relaxed);
    last_commit_batches_.store(count, std::memory_order_relaxed);
  }
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < count; i++) {
      BatchState& state = states_[index_of(taken[i].batch)];
      BOXOFFICE_ASSERT(state == BatchState::committing);
      state = BatchState::completed;
    }
  }
  // Outside the lock: the callback may release() right away.
  for (size_t i = 0; i < count; i++) on_durable_(taken[i].batch, taken[i].tag, status);
}

}  // namespace boxoffice::storage
