#include "bench/load/histogram.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/support/splitmix.hpp"

using boxoffice::load::Histogram;

TEST_CASE("every value falls inside its bucket, and buckets are narrow") {
  boxoffice::test::SplitMix rng(7);
  std::vector<uint64_t> values = {
      0, 1, 2, 127, 128, 255, 256, 257, 511, 512, 1000, 123456789, UINT64_MAX - 1, UINT64_MAX};
  for (int i = 0; i < 10000; ++i) values.push_back(rng.next() >> rng.below(64));
  for (const uint64_t v : values) {
    const size_t index = Histogram::index_of(v);
    REQUIRE(index < Histogram::bucket_count);
    CHECK(Histogram::lowest_in(index) <= v);
    CHECK(v <= Histogram::highest_in(index));
    const uint64_t width = Histogram::highest_in(index) - Histogram::lowest_in(index);
    CHECK(width <= Histogram::lowest_in(index) / Histogram::sub_count);
  }
  for (size_t i = 1; i < Histogram::bucket_count; ++i) {
    REQUIRE(Histogram::lowest_in(i) == Histogram::highest_in(i - 1) + 1);  // no gaps, no overlap
  }
}

TEST_CASE("small values are exact: percentiles of 1..200") {
  Histogram h;
  for (uint64_t v = 1; v <= 200; ++v) h.record(v);
  CHECK(h.count() == 200);
  CHECK(h.min() == 1);
  CHECK(h.max() == 200);
  CHECK(h.percentile(50) == 100);
  CHECK(h.percentile(90) == 180);
  CHECK(h.percentile(99) == 198);
  CHECK(h.percentile(99.5) == 199);
  CHECK(h.percentile(100) == 200);
  CHECK(h.percentile(0) == 1);
  CHECK(h.mean() == doctest::Approx(100.5));
}

TEST_CASE("percentiles of 1..1,000,000 are within the bucket precision") {
  Histogram h;
  for (uint64_t v = 1; v <= 1'000'000; ++v) h.record(v);
  for (const double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const double exact = std::ceil(p / 100.0 * 1'000'000);
    const double got = static_cast<double>(h.percentile(p));
    CHECK(got >= exact);
    CHECK(got <= exact * (1.0 + 1.0 / Histogram::sub_count) + 1);
  }
  CHECK(h.percentile(100) == 1'000'000);
}

TEST_CASE("a rare outlier shows at p99.99 and max, not at p99") {
  Histogram h;
  h.record_n(1'000'000, 9'999);  // 1 ms in ns
  h.record(1'000'000'000);       // 1 s
  CHECK(h.count() == 10'000);
  CHECK(h.percentile(99) <= 1'000'000 * 1.008);
  CHECK(h.percentile(99.99) <= 1'000'000 * 1.008);
  CHECK(h.value_at_ppm(Histogram::ppm_max) == 1'000'000'000);
  CHECK(h.max() == 1'000'000'000);
}

TEST_CASE("merging equals recording everything in one histogram") {
  Histogram a;
  Histogram b;
  Histogram all;
  boxoffice::test::SplitMix rng(3);
  for (int i = 0; i < 5000; ++i) {
    const uint64_t v = rng.below(10'000'000);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  for (const double p : {1.0, 50.0, 99.0, 99.9}) CHECK(a.percentile(p) == all.percentile(p));
}

TEST_CASE("an empty histogram answers zero") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(99) == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  Histogram other;
  other.record(5);
  h.merge(other);
  CHECK(h.percentile(50) == 5);
  h.reset();
  CHECK(h.count() == 0);
}
