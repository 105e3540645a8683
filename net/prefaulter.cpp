#include "net/prefaulter.hpp"

#include <sys/mman.h>

#include <algorithm>

namespace boxoffice::net {

namespace {

constexpr uintptr_t page_bytes = 4096;

uintptr_t page_up(uintptr_t a) { return (a + page_bytes - 1) & ~(page_bytes - 1); }
uintptr_t page_down(uintptr_t a) { return a & ~(page_bytes - 1); }

}  // namespace

Prefaulter::Prefaulter() : thread_([this] { run(); }) {}

Prefaulter::~Prefaulter() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_one();
  thread_.join();
}

void Prefaulter::publish(const Regions& regions) {
  {
    std::lock_guard lock(mutex_);
    regions_ = regions;
    generation_++;
  }
  wake_.notify_one();
}

uint64_t Prefaulter::populated_bytes() const {
  std::lock_guard lock(mutex_);
  return populated_bytes_;
}

void Prefaulter::run() {
  std::array<uintptr_t, State::table_region_count> done{};
  std::array<const void*, State::table_region_count> seen{};
  uint64_t generation = 0;
  for (;;) {
    Regions regions;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_.load() || generation_ != generation; });
      if (stopping_.load()) return;
      regions = regions_;
      generation = generation_;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < regions.size(); i++) {
      if (regions[i].data != seen[i]) done[i] = 0;  // the table moved
      seen[i] = regions[i].data;
      bytes += populate(regions[i], &done[i]);
    }
    std::lock_guard lock(mutex_);
    populated_bytes_ += bytes;
  }
}

uint64_t Prefaulter::populate(const State::TableRegion& r, uintptr_t* done) {
  if (r.data == nullptr || r.capacity_bytes <= r.used_bytes) return 0;
  const auto base = reinterpret_cast<uintptr_t>(r.data);
  const size_t ahead = std::max(ahead_bytes_min, r.used_bytes / 4);
  const uintptr_t end = page_down(base + std::min(r.capacity_bytes, r.used_bytes + ahead));
  uintptr_t from = std::max(*done, page_up(base + r.used_bytes));
  uint64_t bytes = 0;
  while (from < end && !stopping_.load(std::memory_order_relaxed)) {
    const size_t n = std::min<uintptr_t>(step_bytes, end - from);
    // A failure (an old kernel, a range freed meanwhile) only leaves the
    // pages to their first writer.
    (void)madvise(reinterpret_cast<void*>(from), n, MADV_POPULATE_WRITE);
    from += n;
    bytes += n;
  }
  *done = std::max(*done, from);
  return bytes;
}

}  // namespace boxoffice::net
