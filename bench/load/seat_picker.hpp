// Seeded choices shared by the scenarios: SplitMix draws, a uniform double, and
// the seat picker (a date uniformly, then a seat uniformly or by Zipf rank).
#pragma once

#include <cstdint>
#include <vector>

#include "tests/support/splitmix.hpp"

namespace boxoffice::load {

using SplitMix = boxoffice::test::SplitMix;

// A double uniform in [0, 1) from 53 bits of one draw.
inline double uniform01(SplitMix& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }

// The seed of stream `index` of a run seeded `seed`: independent streams for
// each virtual user, fixed by (seed, index) alone.
uint64_t stream_seed(uint64_t seed, uint64_t index);

struct SeatChoice {
  uint32_t date_index;  // 0-based
  uint32_t seat;        // 1-based seat number
};

// Picks seats for holds. With a Zipf exponent s > 0, seat number k (1-based)
// comes up with probability proportional to 1/k^s on every date: the front rows
// are the hot spot. Read-only after construction.
class SeatPicker {
 public:
  SeatPicker(uint32_t dates, uint32_t seats, double zipf_exponent);
  SeatChoice pick(SplitMix& rng) const;
  uint32_t dates() const { return dates_; }
  uint32_t seats() const { return seats_; }

 private:
  uint32_t dates_;
  uint32_t seats_;
  std::vector<double> cdf_;  // Zipf only: cdf_[k - 1] = P(seat <= k); empty when uniform
};

}  // namespace boxoffice::load
