#include "net/ingress.hpp"

namespace boxoffice::net {

Ingress::Ingress(uint32_t rings, uint32_t capacity) {
  BOXOFFICE_ASSERT(rings >= 1 && capacity >= 1);
  for (uint32_t i = 0; i < rings; i++) rings_.push_back(std::make_unique<Ring>(capacity));
}

bool Ingress::push(uint32_t ring, const IngressItem& item) {
  BOXOFFICE_ASSERT(ring < rings_.size());
  if (!rings_[ring]->push(item)) return false;
  // Pairs with the fence in wait(): either the core sees this item when it
  // checks the rings, or the producer sees it asleep (core_sleeping()) and
  // wakes it.
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
  std::unique_lock lock(mutex_);
  sleeping_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  while (!woken_ && empty()) {
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  woken_ = false;
  sleeping_.store(false, std::memory_order_relaxed);
}

bool Ingress::wake_if_sleeping() {
  // The load after push()'s fence pairs with the fence in wait(). Only the
  // producer whose exchange takes the flag wakes the core; the others see
  // it taken and leave the core to drain their items with the first one.
  if (!sleeping_.load(std::memory_order_relaxed)) return false;
  if (!sleeping_.exchange(false, std::memory_order_relaxed)) return false;
  wake();
  return true;
}

void Ingress::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_one();
}

}  // namespace boxoffice::net
