// Calendar arithmetic on the proleptic Gregorian calendar, in UTC.
//
// A Day is a count of days since 1970-01-01. The conversions are Howard
// Hinnant's days_from_civil / civil_from_days: exact, branch-light, no tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/limits.hpp"

namespace boxoffice {

struct CivilDate {
  int32_t year;
  uint32_t month;  // 1..12
  uint32_t day;    // 1..31
};

constexpr int32_t days_from_civil(CivilDate c) {
  const int32_t y = c.year - (c.month <= 2 ? 1 : 0);
  const int32_t era = (y >= 0 ? y : y - 399) / 400;
  const uint32_t yoe = static_cast<uint32_t>(y - era * 400);
  const uint32_t mp = c.month > 2 ? c.month - 3 : c.month + 9;
  const uint32_t doy = (153 * mp + 2) / 5 + c.day - 1;
  const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

constexpr CivilDate civil_from_days(int32_t z) {
  z += 719468;
  const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  const uint32_t doe = static_cast<uint32_t>(z - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int32_t y = static_cast<int32_t>(yoe) + era * 400;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  const uint32_t d = doy - (153 * mp + 2) / 5 + 1;
  const uint32_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{y + (m <= 2 ? 1 : 0), m, d};
}

constexpr bool is_leap_year(int32_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr uint32_t days_in_month(int32_t y, uint32_t m) {
  constexpr uint32_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

// Parses exactly "YYYY-MM-DD" (a real calendar date within the supported
// range) into a day number; anything else is nullopt.
constexpr std::optional<int32_t> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  uint32_t digits[8] = {};
  constexpr uint32_t positions[8] = {0, 1, 2, 3, 5, 6, 8, 9};
  for (uint32_t i = 0; i < 8; i++) {
    const char ch = s[positions[i]];
    if (ch < '0' || ch > '9') return std::nullopt;
    digits[i] = static_cast<uint32_t>(ch - '0');
  }
  const int32_t year =
      static_cast<int32_t>(digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]);
  const uint32_t month = digits[4] * 10 + digits[5];
  const uint32_t day = digits[6] * 10 + digits[7];
  if (year < 1970 || month < 1 || month > 12) return std::nullopt;
  if (day < 1 || day > days_in_month(year, month)) return std::nullopt;
  return days_from_civil(CivilDate{year, month, day});
}

// Writes "YYYY-MM-DD" into out[0..10).
constexpr void format_day(int32_t day_number, char* out) {
  const CivilDate c = civil_from_days(day_number);
  const uint32_t y = static_cast<uint32_t>(c.year);
  out[0] = static_cast<char>('0' + y / 1000 % 10);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[4] = '-';
  out[5] = static_cast<char>('0' + c.month / 10);
  out[6] = static_cast<char>('0' + c.month % 10);
  out[7] = '-';
  out[8] = static_cast<char>('0' + c.day / 10);
  out[9] = static_cast<char>('0' + c.day % 10);
}

static_assert(days_from_civil(CivilDate{1970, 1, 1}) == 0);
static_assert(days_from_civil(CivilDate{9999, 12, 31}) == limits::day_max);
static_assert(parse_day("2026-12-24").has_value());
static_assert(!parse_day("2026-02-29").has_value());
static_assert(parse_day("2028-02-29").has_value());

}  // namespace boxoffice
