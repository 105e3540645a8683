// Ingress: the bounded lock-free queues from the I/O threads to the core.
//
// Contract: one single-producer single-consumer ring per I/O thread
// (boost::lockfree::spsc_queue); only I/O thread i pushes to ring i, only
// the core thread drains. push() never blocks: a full ring returns false
// and the request is answered 503 OVERLOADED at once. drain() takes what
// is there from every ring in a fixed order (up to a bound), so one busy
// thread cannot starve the others for more than one batch. The core sleeps
// in wait() when every ring is empty and is woken by the first producer
// that sees it asleep after a push (or by the deadline it gives, for
// ticks): one wake-up per sleep, however many pushes follow before the core
// runs again.
#pragma once

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/request_parser.hpp"

namespace boxoffice::net {

class Session;

// One request on its way to the core, and where its answer goes.
struct IngressItem {
  std::shared_ptr<Session> session;
  uint64_t seq = 0;  // the request's number on its connection
  ParsedRequest request;
};

class Ingress {
 public:
  Ingress(uint32_t rings, uint32_t capacity);

  // I/O thread `ring` only. False when the ring is full. After a push that
  // returned true, the producer must call wake_if_sleeping().
  bool push(uint32_t ring, const IngressItem& item);
  // Any producer: wakes the core if it sleeps in wait() and no other
  // producer has woken it since it went to sleep. True if this call woke it.
  bool wake_if_sleeping();
  // Whether the core is in wait() and no producer has woken it yet.
  bool core_sleeping() const { return sleeping_.load(std::memory_order_relaxed) == 1; }

  // Core thread only: hands up to `max` items to visit(IngressItem&), ring
  // by ring. Returns how many.
  template <typename Visit>
  size_t drain(size_t max, Visit&& visit) {
    size_t n = 0;
    for (auto& ring : rings_) {
      while (n < max && ring->consume_one(visit)) n++;
    }
    return n;
  }

  // Core thread only: sleeps until an item may be there, wake() is called,
  // or `deadline` passes.
  void wait(std::chrono::steady_clock::time_point deadline);
  // Any thread: wakes the core, asleep or not (its next wait() returns at once).
  void wake();

  uint32_t ring_count() const { return static_cast<uint32_t>(rings_.size()); }

 private:
  bool empty() const;

  using Ring = boost::lockfree::spsc_queue<IngressItem>;
  std::vector<std::unique_ptr<Ring>> rings_;
  // The futex word the core sleeps on: 1 from its entry into wait() until
  // it leaves it or a producer takes it to wake the core, 0 otherwise.
  std::atomic<uint32_t> sleeping_{0};
  std::atomic<bool> woken_{false};  // wake() was called: the next wait() returns at once
};

}  // namespace boxoffice::net
