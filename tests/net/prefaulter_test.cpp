// Prefaulter: the pages just past a table's end become resident, what the
// table holds is left alone, and a moved or freed table is harmless
// (net/prefaulter.hpp).
#include "net/prefaulter.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace boxoffice::net {
namespace {

constexpr size_t page_bytes = 4096;

// Fresh anonymous memory of `bytes`, untouched.
struct Mapping {
  explicit Mapping(size_t n) : bytes(n) {
    data = static_cast<uint8_t*>(
        mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    REQUIRE(data != MAP_FAILED);
    (void)madvise(data, n, MADV_NOHUGEPAGE);  // count 4 KiB pages exactly
  }
  ~Mapping() { munmap(data, bytes); }
  // Resident pages in [from, to).
  size_t resident(size_t from, size_t to) const {
    std::vector<unsigned char> vec((to - from) / page_bytes);
    REQUIRE(mincore(data + from, to - from, vec.data()) == 0);
    size_t n = 0;
    for (const unsigned char v : vec) n += v & 1;
    return n;
  }
  uint8_t* data;
  size_t bytes;
};

State::TableRegion region(const Mapping& m, size_t used, size_t capacity) {
  return State::TableRegion{m.data, used, capacity};
}

// Steps until there is nothing left to do; returns the number of steps.
size_t run_steps(Prefaulter& p) {
  size_t steps = 0;
  while (p.step()) steps++;
  return steps;
}

TEST_CASE("the pages past a table's end are faulted in, up to the distance ahead") {
  constexpr size_t capacity = 3 * Prefaulter::ahead_bytes_min;
  Mapping m(capacity);
  constexpr size_t used = 1 << 20;
  std::memset(m.data, 0xab, used);  // what the table holds
  CHECK(m.resident(used, capacity) == 0);

  Prefaulter p;
  State::TableRegion none{};
  std::array<State::TableRegion, State::table_region_count> regions{};
  regions.fill(none);
  regions[2] = region(m, used, capacity);
  p.publish(regions);
  const size_t ahead_end = used + Prefaulter::ahead_bytes_min;
  CHECK(run_steps(p) == (ahead_end - used) / Prefaulter::step_bytes);
  CHECK(p.populated_bytes() == ahead_end - used);
  CHECK(m.resident(used, ahead_end) == (ahead_end - used) / page_bytes);
  CHECK(m.resident(ahead_end, capacity) == 0);  // not beyond the distance ahead
  for (size_t i = 0; i < used; i++) REQUIRE(m.data[i] == 0xab);
  for (size_t i = used; i < ahead_end; i += page_bytes) REQUIRE(m.data[i] == 0);

  // The table grew: the distance ahead moves with it, never past capacity.
  regions[2] = region(m, ahead_end, capacity);
  p.publish(regions);
  const size_t next_end = ahead_end + Prefaulter::ahead_bytes_min;
  run_steps(p);
  CHECK(p.populated_bytes() == next_end - used);
  CHECK(m.resident(ahead_end, next_end) == (next_end - ahead_end) / page_bytes);
  CHECK(m.resident(next_end, capacity) == 0);
  regions[2] = region(m, capacity - page_bytes, capacity);
  p.publish(regions);
  run_steps(p);
  CHECK(m.resident(capacity - page_bytes, capacity) == 1);
  CHECK_FALSE(p.step());  // full: nothing ahead
}

TEST_CASE("a table that moved is faulted in at its new place; a freed one is harmless") {
  constexpr size_t capacity = 2 * Prefaulter::ahead_bytes_min;
  Prefaulter p;
  std::array<State::TableRegion, State::table_region_count> regions{};
  auto old_table = std::make_unique<Mapping>(capacity);
  regions[0] = region(*old_table, 0, capacity);
  p.publish(regions);
  run_steps(p);
  CHECK(p.populated_bytes() == Prefaulter::ahead_bytes_min);

  Mapping moved(capacity);  // as a vector grows: the new block, then the old one freed
  std::memset(moved.data, 0xcd, page_bytes);
  regions[0] = region(moved, page_bytes, capacity);
  old_table.reset();
  p.publish(regions);
  run_steps(p);
  CHECK(p.populated_bytes() == 2 * Prefaulter::ahead_bytes_min);
  CHECK(moved.resident(page_bytes, page_bytes + Prefaulter::ahead_bytes_min) ==
        Prefaulter::ahead_bytes_min / page_bytes);
  for (size_t i = 0; i < page_bytes; i++) REQUIRE(moved.data[i] == 0xcd);

  // A region that is no longer mapped: madvise fails, nothing else happens.
  regions[1] = State::TableRegion{reinterpret_cast<void*>(uintptr_t{1} << 46), 0, capacity};
  const uint64_t before = p.populated_bytes();
  p.publish(regions);
  CHECK(run_steps(p) == Prefaulter::ahead_bytes_min / Prefaulter::step_bytes);
  CHECK(p.populated_bytes() == before + Prefaulter::ahead_bytes_min);
}

TEST_CASE("steps run on another thread while the owner publishes") {
  constexpr size_t capacity = 4 * Prefaulter::ahead_bytes_min;
  Mapping m(capacity);
  Prefaulter p;
  std::array<State::TableRegion, State::table_region_count> regions{};
  std::atomic<bool> stop{false};
  std::thread stepper([&] {
    while (!stop.load()) {
      if (!p.step()) std::this_thread::yield();
    }
  });
  // The table grows as a replay appends, until its distance ahead reaches
  // the capacity.
  constexpr size_t last_used = capacity - Prefaulter::ahead_bytes_min;
  for (size_t used = 0; used <= last_used; used += Prefaulter::step_bytes / 2) {
    regions[3] = region(m, used, capacity);
    p.publish(regions);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (m.resident(last_used, capacity) < Prefaulter::ahead_bytes_min / page_bytes &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop.store(true);
  stepper.join();
  CHECK(m.resident(last_used, capacity) == Prefaulter::ahead_bytes_min / page_bytes);
}

}  // namespace
}  // namespace boxoffice::net
