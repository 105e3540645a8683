#include "net/prefaulter.hpp"

#include <sys/mman.h>

#include <algorithm>

namespace boxoffice::net {

namespace {

constexpr uintptr_t page_bytes = 4096;

uintptr_t page_up(uintptr_t a) { return (a + page_bytes - 1) & ~(page_bytes - 1); }
uintptr_t page_down(uintptr_t a) { return a & ~(page_bytes - 1); }

// Where faulting in should stop for `r`: the distance ahead of its end,
// within its capacity. 0 for a table without room.
uintptr_t target_of(const State::TableRegion& r) {
  if (r.data == nullptr || r.capacity_bytes <= r.used_bytes) return 0;
  const auto base = reinterpret_cast<uintptr_t>(r.data);
  const size_t ahead = std::max(Prefaulter::ahead_bytes_min, r.used_bytes / 4);
  return page_down(base + std::min(r.capacity_bytes, r.used_bytes + ahead));
}

}  // namespace

void Prefaulter::publish(const Regions& regions) {
  std::lock_guard lock(mutex_);
  published_ = regions;
  generation_++;
}

uint64_t Prefaulter::populated_bytes() const {
  std::lock_guard lock(mutex_);
  return populated_bytes_;
}

bool Prefaulter::step() {
  {
    std::lock_guard lock(mutex_);
    if (generation_ != seen_generation_) {
      for (size_t i = 0; i < regions_.size(); i++) {
        if (published_[i].data != regions_[i].data) done_[i] = 0;  // the table moved
      }
      regions_ = published_;
      seen_generation_ = generation_;
    }
  }
  for (size_t i = 0; i < regions_.size(); i++) {
    const State::TableRegion& r = regions_[i];
    const uintptr_t end = target_of(r);
    const uintptr_t from =
        std::max(done_[i], page_up(reinterpret_cast<uintptr_t>(r.data) + r.used_bytes));
    if (end == 0 || from >= end) continue;
    const size_t n = std::min<uintptr_t>(step_bytes, end - from);
    // A failure (an old kernel, a range freed meanwhile) only leaves the
    // pages to their first writer.
    (void)madvise(reinterpret_cast<void*>(from), n, MADV_POPULATE_WRITE);
    done_[i] = from + n;
    std::lock_guard lock(mutex_);
    populated_bytes_ += n;
    return true;
  }
  return false;
}

}  // namespace boxoffice::net
