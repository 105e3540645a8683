// boxoffice-load's command line: the flags, their defaults and ranges, and the
// parser. Parsing never exits; main turns an error into a message and exit 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxoffice::load {

enum class Scenario : uint8_t { hold_storm, queue_poll, purchase, sale_open, mixed, ping };

std::string_view scenario_name(Scenario scenario);
std::optional<Scenario> scenario_from_name(std::string_view name);
// Scenarios that create a concert (and so need the admin key).
bool scenario_needs_concert(Scenario scenario);

// Weights of the operations of the `mixed` scenario, in any unit (they are summed).
struct Mix {
  uint32_t hold = 40;   // hold a seat (cancelling the oldest hold at the per-user limit)
  uint32_t poll = 40;   // GET /v1/queue/tokens/current
  uint32_t seat = 10;   // GET one seat
  uint32_t dates = 10;  // GET a concert's dates
  uint32_t seats = 0;   // GET a whole seat map
  uint64_t total() const { return uint64_t{hold} + poll + seat + dates + seats; }
};

// Named limits of the flags.
inline constexpr uint32_t connections_max = 10'000;
inline constexpr uint32_t threads_max = 64;
inline constexpr uint32_t duration_s_max = 86'400;
inline constexpr uint32_t warmup_s_max = 3'600;
inline constexpr uint64_t rate_per_s_max = 100'000'000;
inline constexpr uint32_t dates_max = 1'000;            // API: 1 to 1,000 dates per concert
inline constexpr uint32_t seats_per_date_max = 10'000;  // API: 1 to 10,000 seats per date
inline constexpr int64_t price_max = 1'000'000'000;
inline constexpr uint32_t users_max = 1'000'000;
inline constexpr uint32_t holds_per_user_max = 100;  // the server's own upper bound
inline constexpr uint32_t poll_interval_ms_max = 60'000;
inline constexpr uint32_t timeout_s_max = 3'600;
inline constexpr double zipf_exponent_max = 10.0;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string admin_key;  // --admin-key, else BOXOFFICE_ADMIN_KEY
  Scenario scenario = Scenario::hold_storm;
  uint32_t duration_s = 10;  // measured time; sale-open: the longest it may take
  uint32_t warmup_s = 1;     // run but not measured, before duration_s
  uint32_t connections = 64;
  uint32_t threads = 1;
  uint64_t rate_per_s = 0;  // 0: closed loop; else open loop at this many requests/s
  uint64_t seed = 1;
  bool json = false;
  bool verify = true;  // check the server's seat maps after the run
  uint32_t dates = 1;
  uint32_t seats = 10'000;  // per date
  int64_t price = 150'000;
  uint32_t users = 0;           // 0: the scenario's default (see default_users)
  double zipf_exponent = 0;     // 0: seats uniformly at random; else Zipf(s) over seat numbers
  uint32_t holds_per_user = 4;  // must match the server's --holds-per-user-max
  uint32_t poll_interval_ms = 250;
  uint32_t timeout_s = 30;  // one request, and each set-up phase
  Mix mix;
};

// Users a scenario brings in when --users is not given.
uint32_t default_users(const Options& options);

struct ParseResult {
  std::optional<Options> options;  // set when the run should go ahead
  std::string error;               // set on a bad command line (exit 2)
  std::string help;                // set for --help (exit 0)
};

// Parses argv. `env_admin_key` is BOXOFFICE_ADMIN_KEY (nullptr when unset).
ParseResult parse_options(int argc, const char* const* argv, const char* env_admin_key);

}  // namespace boxoffice::load
