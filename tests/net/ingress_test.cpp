// Ingress: items pushed by the I/O threads reach the core in order, a
// sleeping core is woken by the first producer that sees it asleep and by
// that one only, and no wake-up is lost (net/ingress.hpp).
#include "net/ingress.hpp"

#include <doctest/doctest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
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

// The core side of a test: a thread that records its kernel thread id, so
// that the test can see when it is blocked, then runs `body`.
class CoreThread {
 public:
  template <typename Body>
  explicit CoreThread(Body body)
      : thread_([this, body] {
          tid_.store(static_cast<pid_t>(syscall(SYS_gettid)));
          body();
        }) {}
  ~CoreThread() { thread_.join(); }

  // Returns once the core is in wait() and blocked in the kernel (state S
  // in /proc): only a wake-up, or its deadline, lets it out from there.
  void until_blocked(const Ingress& ingress) const {
    while (!ingress.core_sleeping() || state() != 'S') std::this_thread::yield();
  }

 private:
  char state() const {
    const pid_t tid = tid_.load();
    if (tid == 0) return '?';
    std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');  // the name may hold spaces
    return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
  }

  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

TEST_CASE("the first producer to see the core asleep wakes it; the pushes after it do not") {
  Ingress ingress(1, 16);
  std::vector<uint64_t> seen;
  {
    CoreThread core([&] {
      ingress.wait(std::chrono::steady_clock::now() + wait_forever);
      ingress.drain(16, [&](IngressItem& it) { seen.push_back(it.seq); });
    });
    core.until_blocked(ingress);
    REQUIRE(ingress.push(0, item(1)));
    CHECK(ingress.wake_if_sleeping());
    CHECK_FALSE(ingress.core_sleeping());
    REQUIRE(ingress.push(0, item(2)));
    CHECK_FALSE(ingress.wake_if_sleeping());
    REQUIRE(ingress.push(0, item(3)));
    CHECK_FALSE(ingress.wake_if_sleeping());
  }
  // The core drained after its wake-up: the first item, and perhaps more.
  REQUIRE(!seen.empty());
  for (size_t i = 0; i < seen.size(); i++) CHECK(seen[i] == i + 1);
}

TEST_CASE("two producers racing to wake the core: exactly one of them does") {
  Ingress ingress(2, 16);
  std::atomic<int> woke{0};
  {
    CoreThread core([&] { ingress.wait(std::chrono::steady_clock::now() + wait_forever); });
    core.until_blocked(ingress);
    std::atomic<bool> go{false};
    std::vector<std::thread> producers;
    for (uint32_t ring = 0; ring < 2; ring++) {
      producers.emplace_back([&, ring] {
        while (!go.load()) std::this_thread::yield();
        if (!ingress.push(ring, item(ring))) return;  // cannot happen: 16 slots
        if (ingress.wake_if_sleeping()) woke++;
      });
    }
    go.store(true);
    for (auto& p : producers) p.join();
  }
  CHECK(woke.load() == 1);
}

TEST_CASE("wake() ends a wait with nothing pushed, and a wait after it returns at once") {
  Ingress ingress(1, 4);
  {
    CoreThread core([&] { ingress.wait(std::chrono::steady_clock::now() + wait_forever); });
    core.until_blocked(ingress);
    ingress.wake();
  }
  ingress.wake();  // the core is awake: its next wait() does not sleep
  ingress.wait(std::chrono::steady_clock::now() + wait_forever);
  CHECK_FALSE(ingress.core_sleeping());
}

TEST_CASE(
    "no wake-up is lost: one item at a time, pushed at any moment of the core's way to sleep") {
  // Each round the producer pushes one item once the core has taken the
  // one before, after a random pause, so that its push lands anywhere
  // between the core's last drain and its sleep; it pushes nothing more
  // until that item is taken. A lost wake-up leaves the core asleep for an
  // hour with the item in the ring: the test does not finish.
  constexpr uint64_t rounds = 20'000;
  Ingress ingress(1, 4);
  std::atomic<uint64_t> taken{0};
  std::thread producer([&] {
    std::mt19937 rng(7);
    for (uint64_t seq = 1; seq <= rounds; seq++) {
      while (taken.load() != seq - 1) std::this_thread::yield();
      for (auto spin = rng() % 2000; spin > 0; spin--) {
        std::atomic_signal_fence(std::memory_order_seq_cst);  // a pause the compiler keeps
      }
      if (!ingress.push(0, item(seq))) break;  // cannot happen: the ring is empty
      ingress.wake_if_sleeping();
    }
  });
  uint64_t next = 1;
  while (next <= rounds) {
    const size_t n = ingress.drain(4, [&](IngressItem& it) {
      CHECK(it.seq == next);
      next++;
    });
    if (n > 0) taken.store(next - 1);
    if (n == 0) ingress.wait(std::chrono::steady_clock::now() + wait_forever);
  }
  producer.join();
  CHECK(next == rounds + 1);
}

}  // namespace
}  // namespace boxoffice::net
