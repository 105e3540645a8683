// SplitMix64: a small, fast pseudo-random generator whose sequence is the
// same on every platform (unlike std's distributions), for the simulator,
// tests and benchmarks. The engine itself uses no randomness.
#pragma once

#include <cstdint>

namespace boxoffice::test {

class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform enough for tests: `n` is far below 2^64.
  uint64_t below(uint64_t n) { return next() % n; }
  // Inclusive range.
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool chance(uint32_t percent) { return below(100) < percent; }

 private:
  uint64_t s_;
};

}  // namespace boxoffice::test
