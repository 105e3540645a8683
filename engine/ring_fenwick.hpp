// RingFenwick: ranks in a sliding window of sequence numbers, in O(log n).
//
// A Fenwick (binary indexed) tree over `span` slots, addressed by
// `sequence mod span`. It answers "how many marked sequences lie in [a, b]"
// as long as every marked sequence lies within one span of each other —
// the caller keeps that true (REQUIRES below). The waiting room marks the
// ids of waiting tokens and asks for the rank of one: its place in line.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/assert.hpp"

namespace boxoffice {

class RingFenwick {
 public:
  // REQUIRES: span is a power of two.
  explicit RingFenwick(uint64_t span) : mask_(span - 1), tree_(span + 1, 0) {
    BOXOFFICE_ASSERT(span >= 2 && (span & (span - 1)) == 0);
  }

  uint64_t span() const { return mask_ + 1; }
  uint64_t marked() const { return marked_; }

  // REQUIRES: `sequence` is not marked; all marked sequences stay within one span.
  void mark(uint64_t sequence) {
    add(slot(sequence), 1);
    marked_++;
  }
  // REQUIRES: `sequence` is marked.
  void unmark(uint64_t sequence) {
    BOXOFFICE_ASSERT(marked_ > 0);
    add(slot(sequence), -1);
    marked_--;
  }

  // Marked sequences in [first, last]. REQUIRES: first <= last < first + span.
  uint64_t count(uint64_t first, uint64_t last) const {
    BOXOFFICE_ASSERT(first <= last && last - first <= mask_);
    const uint64_t a = slot(first);
    const uint64_t b = slot(last);
    int64_t sum = 0;
    if (a <= b) {
      sum = prefix(b) - (a == 0 ? 0 : prefix(a - 1));
    } else {
      sum = prefix(mask_) - prefix(a - 1) + prefix(b);
    }
    BOXOFFICE_ASSERT(sum >= 0 && static_cast<uint64_t>(sum) <= marked_);
    return static_cast<uint64_t>(sum);
  }

 private:
  uint64_t slot(uint64_t sequence) const { return sequence & mask_; }

  void add(uint64_t index, int32_t delta) {
    for (uint64_t i = index + 1; i < tree_.size(); i += i & (~i + 1)) {
      tree_[i] += delta;
      BOXOFFICE_ASSERT(tree_[i] >= 0);
    }
  }
  // Sum of slots [0, index].
  int64_t prefix(uint64_t index) const {
    int64_t sum = 0;
    for (uint64_t i = index + 1; i > 0; i -= i & (~i + 1)) sum += tree_[i];
    return sum;
  }

  uint64_t mask_;
  uint64_t marked_ = 0;
  std::vector<int32_t> tree_;
};

}  // namespace boxoffice
