// Set-up shared by the in-process benchmarks: a clock, a seeded generator,
// and a sale in progress (one big concert, and users who each hold an active
// token and a charged balance), made through the engine's own commands so
// that its events are real events too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/command.hpp"
#include "engine/config.hpp"
#include "engine/result.hpp"
#include "tests/support/splitmix.hpp"

namespace boxoffice::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start);

// Uniform draws below n, for n far below 2^32. A multiply and a shift
// (Lemire's reduction) rather than a 64-bit division, which costs the
// benchmarks' client side more than the engine spends on some commands.
class Rng {
 public:
  explicit Rng(uint64_t seed) : mix_(seed) {}
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((mix_.next() >> 32) * n) >> 32); }

 private:
  test::SplitMix mix_;
};

// The benchmarks' clock starts at this instant.
inline constexpr TimeMs start_ms = 1798761600000;  // 2027-01-01T00:00:00Z
// The concert's first date, 30 days later: sales stay open all along.
inline constexpr Day first_day = static_cast<Day>(start_ms / limits::ms_per_day) + 30;
inline constexpr int64_t seat_price_won = 150000;

struct SaleShape {
  uint32_t dates = 100;  // consecutive days from first_day
  uint32_t seats_per_date = 10000;
  uint32_t users = 20000;  // each with an active token
};

// Settings under which every user of the shape is active at once and may
// hold up to limits::holds_per_user_max seats.
Config sale_config(const SaleShape& shape);

// Executes one command at the caller's instant; the caller keeps (or
// encodes) the events it emits.
using RunCommand = std::function<Result(CommandBody body)>;

// Creates concert 1 with the shape's dates, then, for each user i in order,
// "user<i>" joins the queue (admitted at once under sale_config) and charges
// limits::charge_won_max. Returns the users' tokens in order.
// REQUIRES: an engine with no concert yet, configured by sale_config(shape).
std::vector<TokenId> open_sale(const SaleShape& shape, const RunCommand& run);

}  // namespace boxoffice::bench
