// A log-linear latency histogram in the manner of HdrHistogram.
//
// Values below 2^(sub_bits + 1) are counted exactly. Above that, each power-of-two
// range [2^k, 2^(k+1)) is split into 2^sub_bits equal buckets, so any reported value
// is within 2^-sub_bits (0.8 %) of a recorded one. The whole uint64 range is covered;
// memory is fixed (bucket_count counters), allocated on the first record.
//
// Single writer; copy or merge to read from another thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace boxoffice::load {

class Histogram {
 public:
  static constexpr int sub_bits = 7;
  static constexpr uint64_t sub_count = uint64_t{1} << sub_bits;
  static constexpr size_t bucket_count = (65 - sub_bits) * sub_count;
  static constexpr uint32_t ppm_max = 1'000'000;  // 100 % in parts per million

  void record(uint64_t value) { record_n(value, 1); }
  void record_n(uint64_t value, uint64_t n);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // The smallest recorded-bucket value v such that at least ceil(ppm * count / 10^6)
  // values are <= v, reported as the highest value of v's bucket, capped at max().
  // REQUIRES: ppm <= ppm_max. Returns 0 when empty.
  uint64_t value_at_ppm(uint32_t ppm) const;
  // value_at_ppm with a percentage (99.9 -> 999000 ppm), rounded to the nearest ppm.
  uint64_t percentile(double percent) const;

  static size_t index_of(uint64_t value);
  static uint64_t lowest_in(size_t index);
  static uint64_t highest_in(size_t index);

 private:
  std::vector<uint64_t> counts_;  // empty until the first record
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace boxoffice::load
