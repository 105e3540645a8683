#include "bench/load/options.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <sstream>

namespace po = boost::program_options;

namespace boxoffice::load {
namespace {

constexpr std::array<std::pair<Scenario, std::string_view>, 6> scenario_names{{
    {Scenario::hold_storm, "hold-storm"},
    {Scenario::queue_poll, "queue-poll"},
    {Scenario::purchase, "purchase"},
    {Scenario::sale_open, "sale-open"},
    {Scenario::mixed, "mixed"},
    {Scenario::ping, "ping"},
}};

// An error message for the flag `name`, or empty.
using Error = std::string;

template <typename T>
Error parse_integer(const po::variables_map& vm, const char* name, T lo, T hi, T& out) {
  if (!vm.count(name)) return {};
  const auto& text = vm[name].as<std::string>();
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < lo || value > hi) {
    return fmt::format("--{}: expected an integer from {} to {}, got '{}'", name, lo, hi, text);
  }
  out = value;
  return {};
}

Error parse_zipf(const po::variables_map& vm, double& out) {
  if (!vm.count("zipf")) return {};
  const auto& text = vm["zipf"].as<std::string>();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) || value < 0 ||
      value > zipf_exponent_max) {
    return fmt::format("--zipf: expected an exponent from 0 to {}, got '{}'", zipf_exponent_max,
                       text);
  }
  out = value;
  return {};
}

// "http://host:port" with an optional trailing '/'.
Error parse_url(const std::string& url, Options& o) {
  constexpr std::string_view scheme = "http://";
  std::string_view rest = url;
  if (!rest.starts_with(scheme))
    return fmt::format("--url: expected http://HOST:PORT, got '{}'", url);
  rest.remove_prefix(scheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  const std::string_view host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
  if (host.empty() || host.find('/') != std::string_view::npos) {
    return fmt::format("--url: expected http://HOST:PORT (no path), got '{}'", url);
  }
  o.host = std::string(host);
  o.port = 80;
  if (colon == std::string_view::npos) return {};
  const std::string_view port = rest.substr(colon + 1);
  uint16_t value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0) {
    return fmt::format("--url: bad port in '{}'", url);
  }
  o.port = value;
  return {};
}

// "hold=40,poll=40,seat=10,dates=10,seats=0"; unnamed operations get weight 0.
Error parse_mix(const std::string& text, Mix& mix) {
  mix = Mix{0, 0, 0, 0, 0};
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    uint32_t weight = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), weight);
    if (eq == std::string_view::npos || ec != std::errc{} || end != value.data() + value.size() ||
        weight > 1'000'000) {
      return fmt::format("--mix: expected OP=WEIGHT[,OP=WEIGHT...], got '{}'", text);
    }
    if (key == "hold")
      mix.hold = weight;
    else if (key == "poll")
      mix.poll = weight;
    else if (key == "seat")
      mix.seat = weight;
    else if (key == "dates")
      mix.dates = weight;
    else if (key == "seats")
      mix.seats = weight;
    else
      return fmt::format("--mix: unknown operation '{}' (hold, poll, seat, dates, seats)", key);
  }
  if (mix.total() == 0) return "--mix: at least one weight must be positive";
  return {};
}

po::options_description describe() {
  po::options_description d("boxoffice-load: HTTP load generator for boxoffice");
  d.add_options()  //
      ("help", "print this help")("url", po::value<std::string>(),
                                  "server as http://HOST:PORT (default http://127.0.0.1:8080)")(
          "host", po::value<std::string>(), "server host (default 127.0.0.1)")(
          "port", po::value<std::string>(), "server port (default 8080)")(
          "admin-key", po::value<std::string>(),
          "X-Admin-Key for creating the concert (env BOXOFFICE_ADMIN_KEY)")(
          "scenario", po::value<std::string>(),
          "hold-storm | queue-poll | purchase | sale-open | mixed | ping (default hold-storm)")(
          "duration", po::value<std::string>(),
          "measured seconds, 1 to 86400 (default 10; sale-open: the most it may take)")(
          "warmup", po::value<std::string>(),
          "seconds run before measuring, 0 to 3600 (default 1)")(
          "connections", po::value<std::string>(),
          "keep-alive connections, 1 to 10000 (default 64)")(
          "threads", po::value<std::string>(),
          "client threads, 1 to 64, at most --connections (default 1)")(
          "rate", po::value<std::string>(),
          "open loop: requests/s on a fixed schedule (default 0: closed loop)")(
          "seed", po::value<std::string>(), "seed of every random choice (default 1)")(
          "json", "print the result as one JSON object on stdout")(
          "no-verify", "skip the check of the server's seat maps after the run")(
          "dates", po::value<std::string>(), "concert dates, 1 to 1000 (default 1)")(
          "seats", po::value<std::string>(), "seats per date, 1 to 10000 (default 10000)")(
          "price", po::value<std::string>(), "seat price in won, 0 to 1000000000 (default 150000)")(
          "users", po::value<std::string>(),
          "virtual users, 1 to 1000000 (default: --connections; queue-poll 10x; sale-open 2x the "
          "seats)")("zipf", po::value<std::string>(),
                    "hot spot: Zipf exponent over seat numbers, 0 to 10 (default 0: uniform)")(
          "holds-per-user", po::value<std::string>(),
          "the server's --holds-per-user-max, 1 to 100 (default 4)")(
          "poll-interval-ms", po::value<std::string>(),
          "waiting users poll this often, 10 to 60000 (default 250)")(
          "timeout", po::value<std::string>(),
          "seconds per request and per set-up phase, 1 to 3600 (default 30)")(
          "mix", po::value<std::string>(),
          "mixed: weights, default hold=40,poll=40,seat=10,dates=10,seats=0");
  return d;
}

Error parse_numbers(const po::variables_map& vm, Options& o) {
  Error e;
  if (!(e = parse_integer<uint32_t>(vm, "duration", 1, duration_s_max, o.duration_s)).empty() ||
      !(e = parse_integer<uint32_t>(vm, "warmup", 0, warmup_s_max, o.warmup_s)).empty() ||
      !(e = parse_integer<uint32_t>(vm, "connections", 1, connections_max, o.connections))
           .empty() ||
      !(e = parse_integer<uint32_t>(vm, "threads", 1, threads_max, o.threads)).empty() ||
      !(e = parse_integer<uint64_t>(vm, "rate", 0, rate_per_s_max, o.rate_per_s)).empty() ||
      !(e = parse_integer<uint64_t>(vm, "seed", 0, UINT64_MAX, o.seed)).empty() ||
      !(e = parse_integer<uint32_t>(vm, "dates", 1, dates_max, o.dates)).empty() ||
      !(e = parse_integer<uint32_t>(vm, "seats", 1, seats_per_date_max, o.seats)).empty() ||
      !(e = parse_integer<int64_t>(vm, "price", 0, price_max, o.price)).empty() ||
      !(e = parse_integer<uint32_t>(vm, "users", 1, users_max, o.users)).empty() ||
      !(e = parse_integer<uint32_t>(vm, "holds-per-user", 1, holds_per_user_max, o.holds_per_user))
           .empty() ||
      !(e = parse_integer<uint32_t>(vm, "poll-interval-ms", 10, poll_interval_ms_max,
                                    o.poll_interval_ms))
           .empty() ||
      !(e = parse_integer<uint32_t>(vm, "timeout", 1, timeout_s_max, o.timeout_s)).empty() ||
      !(e = parse_zipf(vm, o.zipf_exponent)).empty()) {
    return e;
  }
  return {};
}

Error parse_target(const po::variables_map& vm, Options& o) {
  if (vm.count("url") && (vm.count("host") || vm.count("port"))) {
    return "--url cannot be combined with --host or --port";
  }
  if (vm.count("url")) return parse_url(vm["url"].as<std::string>(), o);
  if (vm.count("host")) {
    o.host = vm["host"].as<std::string>();
    if (o.host.empty()) return "--host: must not be empty";
  }
  return parse_integer<uint16_t>(vm, "port", 1, 65535, o.port);
}

Error check_combinations(const Options& o) {
  if (o.threads > o.connections) {
    return fmt::format("--threads ({}) cannot exceed --connections ({})", o.threads, o.connections);
  }
  if (o.rate_per_s != 0 && o.scenario == Scenario::sale_open) {
    return "--rate does not apply to sale-open (its users arrive on their own schedule)";
  }
  if (scenario_needs_concert(o.scenario) && o.admin_key.empty()) {
    return fmt::format("scenario {} creates a concert: give --admin-key (or BOXOFFICE_ADMIN_KEY)",
                       scenario_name(o.scenario));
  }
  return {};
}

}  // namespace

std::string_view scenario_name(Scenario scenario) {
  for (const auto& [s, name] : scenario_names) {
    if (s == scenario) return name;
  }
  return "?";
}

std::optional<Scenario> scenario_from_name(std::string_view name) {
  for (const auto& [s, n] : scenario_names) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool scenario_needs_concert(Scenario scenario) {
  return scenario != Scenario::queue_poll && scenario != Scenario::ping;
}

uint32_t default_users(const Options& o) {
  if (o.users != 0) return o.users;
  switch (o.scenario) {
    case Scenario::queue_poll:
      return std::min(users_max, o.connections * 10);
    case Scenario::sale_open:
      return static_cast<uint32_t>(std::min<uint64_t>(users_max, uint64_t{2} * o.dates * o.seats));
    default:
      return o.connections;
  }
}

ParseResult parse_options(int argc, const char* const* argv, const char* env_admin_key) {
  ParseResult result;
  const po::options_description description = describe();
  po::variables_map vm;
  try {
    const po::positional_options_description no_positionals;
    po::store(
        po::command_line_parser(argc, argv)
            .options(description)
            .positional(no_positionals)
            .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
            .run(),
        vm);
  } catch (const po::error& e) {
    result.error = e.what();
    return result;
  }
  if (vm.count("help")) {
    std::ostringstream out;
    out << description;
    result.help = out.str();
    return result;
  }
  Options o;
  if (env_admin_key != nullptr) o.admin_key = env_admin_key;
  if (vm.count("admin-key")) o.admin_key = vm["admin-key"].as<std::string>();
  if (vm.count("scenario")) {
    const auto& name = vm["scenario"].as<std::string>();
    const auto scenario = scenario_from_name(name);
    if (!scenario) {
      result.error = fmt::format(
          "--scenario: unknown '{}' (hold-storm, queue-poll, purchase, sale-open, mixed, ping)",
          name);
      return result;
    }
    o.scenario = *scenario;
  }
  o.json = vm.count("json") > 0;
  o.verify = vm.count("no-verify") == 0;
  Error e;
  if (!(e = parse_target(vm, o)).empty() || !(e = parse_numbers(vm, o)).empty() ||
      (vm.count("mix") && !(e = parse_mix(vm["mix"].as<std::string>(), o.mix)).empty()) ||
      !(e = check_combinations(o)).empty()) {
    result.error = e;
    return result;
  }
  result.options = o;
  return result;
}

}  // namespace boxoffice::load
