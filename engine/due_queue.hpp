// DueQueue: items ordered by due time, cheap when due times arrive in order.
//
// Deadlines of one kind are nearly always pushed in ascending order (a fixed
// TTL added to a clock that never runs backwards), so the common path is a
// FIFO ring: O(1) push and pop. A deadline earlier than the newest one (a TTL
// lowered across a restart, an idle deadline pushed again) goes to a small
// binary heap instead. front() is the earlier of the two. Entries are not
// removed when their item changes: the consumer checks each popped entry
// against the current state and skips stale ones.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/assert.hpp"
#include "engine/types.hpp"

namespace boxoffice {

template <typename Id>
class DueQueue {
 public:
  struct Entry {
    TimeMs due_ms;
    Id id;
    friend bool operator>(const Entry& a, const Entry& b) {
      return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : raw(a.id) > raw(b.id);
    }
  };

  explicit DueQueue(size_t capacity_hint = 1024) : ring_(round_up(capacity_hint)) {}

  bool empty() const { return ring_count_ == 0 && heap_.empty(); }

  // Makes room for `n` in-order entries, so that pushing them does not grow
  // (and first touch) the ring on the hot path.
  void reserve(size_t n) {
    if (n > ring_.size()) resize(round_up(n));
  }
  // In-order entries the ring holds before it grows.
  size_t capacity() const { return ring_.size(); }
  size_t size() const { return ring_count_ + heap_.size(); }

  void push(TimeMs due_ms, Id id) {
    const Entry e{due_ms, id};
    if (ring_count_ > 0 && due_ms < ring_back().due_ms) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<Entry>{});
      return;
    }
    if (ring_count_ == ring_.size()) grow();
    ring_[(ring_head_ + ring_count_) & (ring_.size() - 1)] = e;
    ring_count_++;
  }

  // REQUIRES: !empty().
  const Entry& front() const {
    BOXOFFICE_ASSERT(!empty());
    if (heap_.empty()) return ring_[ring_head_];
    if (ring_count_ == 0) return heap_.front();
    return heap_.front() > ring_[ring_head_] ? ring_[ring_head_] : heap_.front();
  }

  // REQUIRES: !empty().
  void pop() {
    BOXOFFICE_ASSERT(!empty());
    const bool from_ring = heap_.empty() || (ring_count_ > 0 && heap_.front() > ring_[ring_head_]);
    if (from_ring) {
      ring_head_ = (ring_head_ + 1) & (ring_.size() - 1);
      ring_count_--;
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Entry>{});
      heap_.pop_back();
    }
  }

 private:
  static size_t round_up(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
  }
  const Entry& ring_back() const {
    return ring_[(ring_head_ + ring_count_ - 1) & (ring_.size() - 1)];
  }
  void grow() { resize(ring_.size() * 2); }
  void resize(size_t capacity) {
    BOXOFFICE_ASSERT(capacity >= ring_count_ && (capacity & (capacity - 1)) == 0);
    std::vector<Entry> bigger(capacity);
    for (size_t i = 0; i < ring_count_; i++)
      bigger[i] = ring_[(ring_head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    ring_head_ = 0;
  }

  std::vector<Entry> ring_;
  size_t ring_head_ = 0;
  size_t ring_count_ = 0;
  std::vector<Entry> heap_;
};

}  // namespace boxoffice
