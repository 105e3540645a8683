// Prefaulter: faults in the pages of the state's tables a little ahead of a
// recovery's appends, from a thread of its own.
//
// A fresh page costs its first writer the kernel's zeroing of it; during a
// full replay that is a quarter of the time, spent on the one thread that
// applies events. After State::reserve_for_events the tables do not move,
// so this thread can touch (MADV_POPULATE_WRITE) the reserved pages just past
// each table's end while the other core replays. It never reads or writes
// the tables' contents: populating a page that is present, or that the
// replay is writing at the same moment, changes nothing, and a range that
// was freed or reused meanwhile is only faulted in. On a kernel without
// MADV_POPULATE_WRITE the calls fail and change nothing.
//
// Contract: publish() from the replaying thread as the tables grow (cheap:
// it copies six regions and wakes the thread); the destructor stops and
// joins it, waiting for at most one step (step_bytes) in progress.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "engine/state.hpp"

namespace boxoffice::net {

class Prefaulter {
 public:
  // How far past a table's end its pages are faulted in: at least this,
  // or a quarter of what the table already holds.
  static constexpr size_t ahead_bytes_min = 32 << 20;
  static constexpr size_t step_bytes = 2 << 20;  // one madvise call (a huge page)

  Prefaulter();
  ~Prefaulter();
  Prefaulter(const Prefaulter&) = delete;
  Prefaulter& operator=(const Prefaulter&) = delete;

  void publish(const std::array<State::TableRegion, State::table_region_count>& regions);

  // Bytes asked to be faulted in so far (for tests).
  uint64_t populated_bytes() const;

 private:
  using Regions = std::array<State::TableRegion, State::table_region_count>;
  void run();
  // Faults in what `r` should have ahead; `done` is where the last call
  // for the same table stopped (reset when the table moved).
  uint64_t populate(const State::TableRegion& r, uintptr_t* done);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Regions regions_{};
  uint64_t generation_ = 0;  // of regions_
  // Set under mutex_ (so the wait cannot miss it); read between steps too,
  // so that a stop waits for one step at most.
  std::atomic<bool> stopping_{false};
  uint64_t populated_bytes_ = 0;
  std::thread thread_;
};

}  // namespace boxoffice::net
