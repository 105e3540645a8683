#include "bench/load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "engine/assert.hpp"

namespace boxoffice::load {
namespace {
__extension__ typedef unsigned __int128 uint128;
}  // namespace

// Bucket index: shift = max(0, bit_width(v) - sub_bits - 1); index = shift * sub_count +
// (v >> shift). For shift 0 the index is v itself (v < 2 * sub_count); each later shift
// covers one octave with sub_count buckets of width 2^shift.
size_t Histogram::index_of(uint64_t value) {
  const int width = static_cast<int>(std::bit_width(value));
  const int shift = std::max(0, width - sub_bits - 1);
  return static_cast<size_t>(shift) * sub_count + static_cast<size_t>(value >> shift);
}

uint64_t Histogram::lowest_in(size_t index) {
  BOXOFFICE_ASSERT(index < bucket_count);
  if (index < 2 * sub_count) return index;
  const size_t shift = index / sub_count - 1;
  const uint64_t mantissa = index - shift * sub_count;  // in [sub_count, 2 * sub_count)
  return mantissa << shift;
}

uint64_t Histogram::highest_in(size_t index) {
  if (index < 2 * sub_count) return index;
  const size_t shift = index / sub_count - 1;
  return lowest_in(index) + ((uint64_t{1} << shift) - 1);
}

void Histogram::record_n(uint64_t value, uint64_t n) {
  if (n == 0) return;
  if (counts_.empty()) counts_.assign(bucket_count, 0);
  const size_t index = index_of(value);
  BOXOFFICE_ASSERT(index < bucket_count);
  counts_[index] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * static_cast<long double>(n);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (counts_.empty()) counts_.assign(bucket_count, 0);
  for (size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() { *this = Histogram{}; }

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t Histogram::value_at_ppm(uint32_t ppm) const {
  BOXOFFICE_ASSERT(ppm <= ppm_max);
  if (count_ == 0) return 0;
  // rank = ceil(ppm * count / 10^6), at least 1; 128-bit so no count can overflow.
  const uint128 product = static_cast<uint128>(ppm) * count_;
  uint64_t rank = static_cast<uint64_t>((product + (ppm_max - 1)) / ppm_max);
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in(i), max_);
  }
  return max_;
}

uint64_t Histogram::percentile(double percent) const {
  const double clamped = std::clamp(percent, 0.0, 100.0);
  return value_at_ppm(static_cast<uint32_t>(std::llround(clamped * 10'000.0)));
}

}  // namespace boxoffice::load
