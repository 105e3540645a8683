// RingFenwick against a brute-force model, across many wrap-arounds
// (ring_fenwick.hpp).
#include "engine/ring_fenwick.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <set>

#include "tests/support/splitmix.hpp"

namespace boxoffice {
namespace {

uint64_t model_count(const std::set<uint64_t>& marked, uint64_t first, uint64_t last) {
  return static_cast<uint64_t>(std::distance(marked.lower_bound(first), marked.upper_bound(last)));
}

TEST_CASE("RingFenwick: small cases by hand, including a range that wraps the ring") {
  RingFenwick f(8);
  CHECK(f.span() == 8);
  CHECK(f.marked() == 0);
  CHECK(f.count(0, 7) == 0);
  f.mark(6);
  f.mark(7);
  f.mark(9);   // slot 1
  f.mark(12);  // slot 4
  CHECK(f.marked() == 4);
  CHECK(f.count(6, 6) == 1);
  CHECK(f.count(6, 9) == 3);   // slots 6, 7, 0, 1: wraps
  CHECK(f.count(6, 12) == 4);  // slots 6..7, 0..4
  CHECK(f.count(8, 12) == 2);  // no wrap
  CHECK(f.count(10, 11) == 0);
  f.unmark(7);
  CHECK(f.count(6, 9) == 2);
  CHECK(f.count(7, 12) == 2);
  f.unmark(6);
  f.mark(13);  // slot 5: 9..13 lie in one span
  f.mark(16);  // slot 0
  CHECK(f.count(9, 16) == 4);
  CHECK(f.count(13, 16) == 2);
  CHECK(f.marked() == 4);
}

// Marks arrive in increasing order (like token ids), unmarks hit any marked
// sequence (like leaving the line), and all marks stay within one span.
void run_model(uint64_t span, uint64_t seed, int operations) {
  RingFenwick f(span);
  std::set<uint64_t> marked;
  test::SplitMix rng(seed);
  uint64_t next = 1 + rng.next() % 1000;  // the next sequence to mark
  for (int op = 0; op < operations; op++) {
    const uint64_t roll = rng.next() % 10;
    const bool room = marked.empty() || next - *marked.begin() < span;
    if (roll < 5 && room) {
      f.mark(next);
      marked.insert(next);
      next += 1 + (rng.next() % 4 == 0 ? rng.next() % 3 : 0);  // with gaps
    } else if (!marked.empty()) {
      auto it = marked.begin();
      // Mostly the head, sometimes from the middle.
      if (roll >= 8) std::advance(it, static_cast<long>(rng.next() % marked.size()));
      f.unmark(*it);
      marked.erase(it);
    }
    CHECK(f.marked() == marked.size());
    // A query: [first, last] and the marks all within one span.
    const uint64_t low = marked.empty() ? next : *marked.begin();
    const uint64_t high = marked.empty() ? next : *marked.rbegin();
    const uint64_t slack = span - 1 - (high - low);
    const uint64_t base = low - std::min(low, rng.next() % (slack + 1));
    const uint64_t first = base + rng.next() % span;
    const uint64_t window_end = base + span - 1;
    const uint64_t last = first + rng.next() % (window_end - first + 1);
    CAPTURE(op);
    CAPTURE(first);
    CAPTURE(last);
    CHECK(f.count(first, last) == model_count(marked, first, last));
    if (!marked.empty()) {
      // The rank of every marked sequence from the lowest one: a place in line.
      const uint64_t pick =
          *std::next(marked.begin(), static_cast<long>(rng.next() % marked.size()));
      CHECK(f.count(low, pick) == model_count(marked, low, pick));
    }
  }
  CHECK(next > 4 * span);  // wrapped around the ring several times
}

TEST_CASE("RingFenwick agrees with a brute-force model over random operations") {
  for (const uint64_t span : {2ULL, 4ULL, 16ULL, 64ULL}) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
      CAPTURE(span);
      CAPTURE(seed);
      run_model(span, seed, 20000);
    }
  }
}

}  // namespace
}  // namespace boxoffice
