// Ingress: items pushed by the I/O threads reach the core in order, a
// sleeping core is woken by the first producer that sees it asleep and by
// that one only, and no wake-up is lost (net/ingress.hpp).
#include "net/ingress.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace boxoffice::net {
namespace {

// Long enough that a wait() which ends by its deadline shows up as a test
// that does not finish, rather than as a timing the test would measure.
constexpr auto wait_forever = std::chrono::hours(1);

IngressItem item(uint64_t seq) {
  IngressItem it;
  it.seq = seq;
  return it;
}

void until_core_sleeps(const Ingress& ingress) {
  while (!ingress.core_sleeping()) std::this_thread::yield();
}

TEST_CASE("the first producer to see the core asleep wakes it; the pushes after it do not") {
  Ingress ingress(1, 16);
  std::vector<uint64_t> seen;
  std::thread core([&] {
    ingress.wait(std::chrono::steady_clock::now() + wait_forever);
    ingress.drain(16, [&](IngressItem& it) { seen.push_back(it.seq); });
  });
  until_core_sleeps(ingress);
  REQUIRE(ingress.push(0, item(1)));
  CHECK(ingress.wake_if_sleeping());
  CHECK_FALSE(ingress.core_sleeping());
  REQUIRE(ingress.push(0, item(2)));
  CHECK_FALSE(ingress.wake_if_sleeping());
  REQUIRE(ingress.push(0, item(3)));
  CHECK_FALSE(ingress.wake_if_sleeping());
  core.join();
  // The core drained after its wake-up: some or all of the three.
  REQUIRE(!seen.empty());
  for (size_t i = 0; i < seen.size(); i++) CHECK(seen[i] == i + 1);
}

TEST_CASE("two producers racing to wake the core: exactly one of them does") {
  Ingress ingress(2, 16);
  std::thread core([&] { ingress.wait(std::chrono::steady_clock::now() + wait_forever); });
  until_core_sleeps(ingress);
  std::atomic<int> woke{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  for (uint32_t ring = 0; ring < 2; ring++) {
    producers.emplace_back([&, ring] {
      while (!go.load()) std::this_thread::yield();
      REQUIRE(ingress.push(ring, item(ring)));
      if (ingress.wake_if_sleeping()) woke++;
    });
  }
  go.store(true);
  for (auto& p : producers) p.join();
  core.join();
  CHECK(woke.load() == 1);
}

TEST_CASE("wake() ends a wait with nothing pushed, and a wait after it returns at once") {
  Ingress ingress(1, 4);
  std::thread core([&] { ingress.wait(std::chrono::steady_clock::now() + wait_forever); });
  until_core_sleeps(ingress);
  ingress.wake();
  core.join();
  ingress.wake();  // the core is awake: its next wait() does not sleep
  ingress.wait(std::chrono::steady_clock::now() + wait_forever);
  CHECK_FALSE(ingress.core_sleeping());
}

TEST_CASE("no wake-up is lost: every item pushed reaches a core that sleeps whenever it can") {
  constexpr uint64_t items = 50'000;
  constexpr uint32_t capacity = 8;  // small: the producer often finds it full
  Ingress ingress(1, capacity);
  std::thread producer([&] {
    for (uint64_t seq = 1; seq <= items; seq++) {
      while (!ingress.push(0, item(seq))) {
        ingress.wake_if_sleeping();
        std::this_thread::yield();
      }
      ingress.wake_if_sleeping();
    }
  });
  uint64_t next = 1;
  while (next <= items) {
    const size_t n = ingress.drain(capacity, [&](IngressItem& it) {
      CHECK(it.seq == next);
      next++;
    });
    // A lost wake-up leaves this asleep for an hour: the test times out.
    if (n == 0) ingress.wait(std::chrono::steady_clock::now() + wait_forever);
  }
  producer.join();
  CHECK(next == items + 1);
}

}  // namespace
}  // namespace boxoffice::net
