#include "bench/bench_setup.hpp"

#include <string>
#include <utility>

#include "engine/assert.hpp"

namespace boxoffice::bench {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Config sale_config(const SaleShape& shape) {
  Config c;
  c.active_limit = shape.users;
  c.holds_per_user_max = limits::holds_per_user_max;
  return c;
}

std::vector<TokenId> open_sale(const SaleShape& shape, const RunCommand& run) {
  CreateConcert c;
  c.title = "Benchmark";
  for (uint32_t d = 0; d < shape.dates; d++) {
    c.dates.push_back(
        NewDate{first_day + static_cast<Day>(d), shape.seats_per_date, seat_price_won});
  }
  const Result created = run(std::move(c));
  BOXOFFICE_ASSERT(created.ok() && created.concert == ConcertId{1});
  std::vector<TokenId> tokens;
  tokens.reserve(shape.users);
  for (uint32_t u = 0; u < shape.users; u++) {
    const Result r = run(JoinQueue{UserName::from("user" + std::to_string(u))});
    BOXOFFICE_ASSERT(r.ok() && r.token.status == TokenStatus::active);
    tokens.push_back(r.token.token);
    run(ChargeBalance{r.token.token, limits::charge_won_max, {}});
  }
  return tokens;
}

}  // namespace boxoffice::bench
