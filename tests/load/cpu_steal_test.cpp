// The benchmarks' steal reading: the aggregate line of /proc/stat parsed,
// and the share computed between two readings.
#include "bench/cpu_steal.hpp"

#include <doctest/doctest.h>

namespace boxoffice::bench {
namespace {

TEST_CASE("parse_cpu_line sums the first eight fields and takes the eighth as steal") {
  CpuCounters c;
  REQUIRE(parse_cpu_line("cpu  205890 0 26568 729866 1088 0 555 9104 7 0\n", &c));
  CHECK(c.total == 205890 + 26568 + 729866 + 1088 + 555 + 9104);  // guest (7) not added
  CHECK(c.steal == 9104);
}

TEST_CASE("parse_cpu_line refuses a per-CPU line, a short line and garbage") {
  CpuCounters c{1, 2};
  CHECK_FALSE(parse_cpu_line("cpu0 1 2 3 4 5 6 7 8 9 10", &c));
  CHECK_FALSE(parse_cpu_line("cpu  1 2 3", &c));
  CHECK_FALSE(parse_cpu_line("intr 1 2 3 4 5 6 7 8", &c));
  CHECK_FALSE(parse_cpu_line("cpu  1 2 x 4 5 6 7 8", &c));
  CHECK_FALSE(parse_cpu_line("", &c));
  CHECK(c.total == 1);  // left alone
  CHECK(c.steal == 2);
}

TEST_CASE("cpu_stolen_share is the stolen part of the time between two readings") {
  CHECK(cpu_stolen_share({1000, 10}, {2000, 60}) == doctest::Approx(0.05));
  CHECK(cpu_stolen_share({1000, 10}, {1000, 10}) == 0);  // no time passed
  CHECK(cpu_stolen_share({}, {}) == 0);                  // both readings failed
  CHECK(cpu_stolen_share({1000, 10}, {}) == 0);          // the second failed
}

TEST_CASE("read_cpu_counters reads this machine's counters") {
  const CpuCounters a = read_cpu_counters();
  CHECK(a.total > 0);
  CHECK(a.steal <= a.total);
}

}  // namespace
}  // namespace boxoffice::bench
