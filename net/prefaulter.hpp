// Prefaulter: faults in the pages of the state's tables a little ahead of a
// recovery's appends, on a thread other than the one appending.
//
// A fresh page costs its first writer the kernel's zeroing of it; during a
// full replay that is a quarter of the time, spent on the one thread that
// applies events. After State::reserve_for_events the tables do not move,
// so another thread can touch (MADV_POPULATE_WRITE) the reserved pages just
// past each table's end while this one replays: recovery's log reader does
// it whenever it is ahead of the applier (EventFeed's idle work). It never
// reads or writes the tables' contents: populating a page that is present,
// or that the replay is writing at the same moment, changes nothing, and a
// range that was freed or reused meanwhile is only faulted in. On a kernel
// without MADV_POPULATE_WRITE the calls fail and change nothing.
//
// Contract: publish() from the replaying thread as the tables grow (cheap:
// it copies six regions under a mutex); step() from one other thread at a
// time, which it keeps busy for at most one step_bytes call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "engine/state.hpp"

namespace boxoffice::net {

class Prefaulter {
 public:
  using Regions = std::array<State::TableRegion, State::table_region_count>;

  // How far past a table's end its pages are faulted in: at least this,
  // or a quarter of what the table already holds.
  static constexpr size_t ahead_bytes_min = 32 << 20;
  static constexpr size_t step_bytes = 2 << 20;  // one madvise call (a huge page)

  void publish(const Regions& regions);

  // Faults in at most step_bytes of what the tables published last should
  // have ahead. False when there was nothing left to do.
  bool step();

  // Bytes asked to be faulted in so far.
  uint64_t populated_bytes() const;

 private:
  mutable std::mutex mutex_;
  Regions published_{};           // guarded by mutex_
  uint64_t generation_ = 0;       // of published_; guarded by mutex_
  uint64_t populated_bytes_ = 0;  // guarded by mutex_

  // The stepping thread's own.
  Regions regions_{};
  uint64_t seen_generation_ = 0;
  std::array<uintptr_t, State::table_region_count> done_{};  // faulted in up to here
};

}  // namespace boxoffice::net
