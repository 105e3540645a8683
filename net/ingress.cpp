#include "net/ingress.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace boxoffice::net {

namespace {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "the futex word is the atomic's own storage");

uint32_t* futex_word(std::atomic<uint32_t>& word) { return reinterpret_cast<uint32_t*>(&word); }

// Sleeps while `word` holds `expected`, until futex_wake or `deadline`
// (steady_clock is CLOCK_MONOTONIC, the clock of FUTEX_WAIT_BITSET).
// False once the deadline has passed.
bool futex_wait_until(std::atomic<uint32_t>& word, uint32_t expected,
                      std::chrono::steady_clock::time_point deadline) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  const timespec at{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  const long r = syscall(SYS_futex, futex_word(word), FUTEX_WAIT_BITSET_PRIVATE, expected, &at,
                         nullptr, FUTEX_BITSET_MATCH_ANY);
  if (r == 0) return true;  // woken (or spuriously)
  // Anything but these would make the core spin: a deadline the kernel
  // refuses, or a futex it cannot reach.
  BOXOFFICE_ASSERT(errno == EAGAIN || errno == EINTR || errno == ETIMEDOUT);
  return errno != ETIMEDOUT;  // EAGAIN: the word changed before the core slept
}

void futex_wake_one(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, futex_word(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace

Ingress::Ingress(uint32_t rings, uint32_t capacity) {
  BOXOFFICE_ASSERT(rings >= 1 && capacity >= 1);
  for (uint32_t i = 0; i < rings; i++) rings_.push_back(std::make_unique<Ring>(capacity));
}

bool Ingress::push(uint32_t ring, const IngressItem& item) {
  BOXOFFICE_ASSERT(ring < rings_.size());
  if (!rings_[ring]->push(item)) return false;
  // Pairs with the fence in wait(): either the core sees this item when it
  // checks the rings, or the producer sees it asleep (wake_if_sleeping())
  // and wakes it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return true;
}

bool Ingress::empty() const {
  for (const auto& ring : rings_) {
    if (ring->read_available() != 0) return false;
  }
  return true;
}

void Ingress::wait(std::chrono::steady_clock::time_point deadline) {
  sleeping_.store(1, std::memory_order_relaxed);
  // Pairs with the fence in push(): either this sees the item, or its
  // producer sees the core asleep and wakes it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Acquire: pairs with the producer's exchange, so the drain after a
  // wake-up sees the item of the producer that woke the core.
  while (sleeping_.load(std::memory_order_acquire) == 1 && !woken_.load() && empty()) {
    if (!futex_wait_until(sleeping_, 1, deadline)) break;
  }
  // Seq_cst, as is stop_ in CoreLoop: a stop whose wake() this clears is
  // seen by the core's next check of stop_, before it waits again.
  woken_.store(false);
  sleeping_.store(0, std::memory_order_relaxed);
}

bool Ingress::wake_if_sleeping() {
  // The load after push()'s fence pairs with the fence in wait(). Only the
  // producer whose exchange takes the flag wakes the core; the others see
  // it taken and leave the core to drain their items with the first one.
  if (sleeping_.load(std::memory_order_relaxed) == 0) return false;
  if (sleeping_.exchange(0, std::memory_order_release) == 0) return false;
  futex_wake_one(sleeping_);
  return true;
}

void Ingress::wake() {
  woken_.store(true);
  if (sleeping_.exchange(0) == 1) futex_wake_one(sleeping_);
}

}  // namespace boxoffice::net
