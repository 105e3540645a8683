// Calendar arithmetic: known dates, strict parsing, and round trips over the
// whole supported range (civil_date.hpp).
#include "engine/civil_date.hpp"

#include <doctest/doctest.h>

#include <string>

namespace boxoffice {
namespace {

std::string formatted(int32_t day) {
  char out[10];
  format_day(day, out);
  return std::string(out, 10);
}

TEST_CASE("Known dates and their day numbers") {
  struct Known {
    const char* text;
    int32_t day;
  };
  const Known known[] = {
      {"1970-01-01", 0},     {"1970-01-02", 1},     {"1970-12-31", 364},     {"1972-02-29", 789},
      {"2000-02-29", 11016}, {"2000-03-01", 11017}, {"2026-12-24", 20811},   {"2027-01-01", 20819},
      {"2038-01-19", 24855}, {"2100-03-01", 47541}, {"9999-12-31", 2932896},
  };
  for (const Known& k : known) {
    CAPTURE(k.text);
    CHECK(parse_day(k.text) == k.day);
    CHECK(formatted(k.day) == k.text);
  }
  CHECK(days_from_civil(CivilDate{1969, 12, 31}) == -1);
  CHECK(days_from_civil(CivilDate{1, 1, 1}) == -719162);
  const CivilDate c = civil_from_days(20811);
  CHECK(c.year == 2026);
  CHECK(c.month == 12);
  CHECK(c.day == 24);
  CHECK(int64_t{20819} * limits::ms_per_day == 1798761600000);  // 2027-01-01T00:00:00Z
}

TEST_CASE("Leap years and month lengths") {
  CHECK(is_leap_year(2000));
  CHECK(is_leap_year(2024));
  CHECK_FALSE(is_leap_year(1900));
  CHECK_FALSE(is_leap_year(2100));
  CHECK_FALSE(is_leap_year(2027));
  CHECK(days_in_month(2024, 2) == 29);
  CHECK(days_in_month(2100, 2) == 28);
  CHECK(days_in_month(2027, 4) == 30);
  CHECK(days_in_month(2027, 12) == 31);
  CHECK(parse_day("2024-02-29").has_value());
  CHECK(parse_day("2000-02-29").has_value());
  CHECK_FALSE(parse_day("2100-02-29").has_value());
  CHECK_FALSE(parse_day("2027-02-29").has_value());
}

TEST_CASE("parse_day accepts exactly YYYY-MM-DD of a real date from 1970 to 9999") {
  const char* bad[] = {
      "",           "2026-1-01",   "2026-01-1",   "2026/01/01",
      "20260101",   "2026-01-01 ", " 2026-01-01", "2026-01-01T",
      "+026-01-01", "-026-01-01",  "2026-00-10",  "2026-13-01",
      "2026-01-00", "2026-01-32",  "2026-04-31",  "2026-06-31",
      "1969-12-31", "0000-01-01",  "abcd-ef-gh",  "2026-0a-01",
      "2026_01_01", "10000-01-01",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_FALSE(parse_day(text).has_value());
  }
  CHECK(parse_day("1970-01-01") == limits::day_min);
  CHECK(parse_day("9999-12-31") == limits::day_max);
}

TEST_CASE("Every day from 1970 to 9999 round-trips through the calendar and the text") {
  int32_t previous_year = 1969;
  uint32_t previous_month = 12;
  uint32_t previous_day = 31;
  bool all_ok = true;
  for (int32_t d = limits::day_min; d <= limits::day_max; d++) {
    const CivilDate c = civil_from_days(d);
    // Consecutive days step through the calendar one day at a time.
    const bool next_in_month =
        c.year == previous_year && c.month == previous_month && c.day == previous_day + 1;
    const bool next_month = c.year == previous_year && c.month == previous_month + 1 &&
                            c.day == 1 &&
                            previous_day == days_in_month(previous_year, previous_month);
    const bool next_year = c.year == previous_year + 1 && c.month == 1 && c.day == 1 &&
                           previous_month == 12 && previous_day == 31;
    char text[10];
    format_day(d, text);
    const bool ok = (next_in_month || next_month || next_year) && days_from_civil(c) == d &&
                    parse_day(std::string_view(text, 10)) == d;
    if (!ok) {
      CAPTURE(d);
      CHECK(ok);
      all_ok = false;
      break;
    }
    previous_year = c.year;
    previous_month = c.month;
    previous_day = c.day;
  }
  CHECK(all_ok);
  CHECK(previous_year == 9999);
}

TEST_CASE("days_from_civil and civil_from_days also agree before 1970") {
  for (int32_t d = -800000; d < 0; d += 7) {
    CAPTURE(d);
    const CivilDate c = civil_from_days(d);
    REQUIRE(days_from_civil(c) == d);
  }
}

}  // namespace
}  // namespace boxoffice
