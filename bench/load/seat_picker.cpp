#include "bench/load/seat_picker.hpp"

#include <algorithm>
#include <cmath>

#include "engine/assert.hpp"

namespace boxoffice::load {

uint64_t stream_seed(uint64_t seed, uint64_t index) {
  SplitMix mix(seed ^ (index * 0xd1b54a32d192ed03ULL));
  return mix.next();
}

SeatPicker::SeatPicker(uint32_t dates, uint32_t seats, double zipf_exponent)
    : dates_(dates), seats_(seats) {
  BOXOFFICE_ASSERT(dates >= 1 && seats >= 1);
  if (zipf_exponent <= 0) return;
  cdf_.resize(seats);
  double sum = 0;
  for (uint32_t k = 1; k <= seats; ++k) {
    sum += 1.0 / std::pow(static_cast<double>(k), zipf_exponent);
    cdf_[k - 1] = sum;
  }
  for (double& c : cdf_) c /= sum;
  cdf_.back() = 1.0;
}

SeatChoice SeatPicker::pick(SplitMix& rng) const {
  const auto date = static_cast<uint32_t>(rng.below(dates_));
  if (cdf_.empty()) return {date, static_cast<uint32_t>(rng.below(seats_)) + 1};
  const double u = uniform01(rng);
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  const auto index = static_cast<uint64_t>(it - cdf_.begin());
  const auto rank = static_cast<uint32_t>(std::min<uint64_t>(index, seats_ - 1));
  return {date, rank + 1};
}

}  // namespace boxoffice::load
