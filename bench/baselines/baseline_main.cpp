// boxoffice-baseline: the hold storm of `boxoffice-load --scenario hold-storm`
// against Redis or PostgreSQL over their own protocols, for bench/compare.
//
// Each connection has its own thread and one user (user i on connection i),
// closed loop: hold a seat (same picker and seeds as boxoffice-load), and
// with --holds-per-user holds live, cancel the oldest instead.
// Exit codes: 0 ran, 1 the store failed, 2 a bad command line.
#include <fmt/format.h>
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <deque>
#include <iostream>
#include <latch>
#include <thread>

#include "bench/baselines/backend.hpp"
#include "bench/load/driver.hpp"
#include "bench/load/seat_picker.hpp"
#include "bench/load/stats.hpp"

namespace po = boost::program_options;
using namespace boxoffice;

namespace {

struct Config {
  std::string system = "redis";
  std::string variant;
  baseline::Endpoint endpoint{"127.0.0.1", 0};
  uint32_t connections = 64;
  uint32_t duration_s = 10;
  uint32_t warmup_s = 1;
  uint64_t seed = 1;
  double zipf = 0;
  bool json = false;
  baseline::HoldShape shape;
};

struct Held {
  uint32_t date;
  uint32_t seat;
  uint64_t reservation;
};

unsigned status_of(baseline::HoldOutcome outcome) {
  switch (outcome) {
    case baseline::HoldOutcome::held:
      return 201;
    case baseline::HoldOutcome::unavailable:
      return 409;
    case baseline::HoldOutcome::limit:
      return 429;
    default:
      return 0;
  }
}

load::ErrorCode code_of(baseline::HoldOutcome outcome) {
  if (outcome == baseline::HoldOutcome::unavailable) return load::ErrorCode::seat_unavailable;
  if (outcome == baseline::HoldOutcome::limit) return load::ErrorCode::hold_limit_reached;
  return load::ErrorCode::none;
}

std::unique_ptr<baseline::Backend> make_backend(const Config& c) {
  if (c.system == "redis") return baseline::make_redis(c.endpoint);
  return baseline::make_postgres(c.endpoint, c.variant);
}

// User + system CPU time of this process so far.
double process_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Window {
  int64_t measure_from_ns;
  int64_t stop_ns;
};

// One connection's storm; returns its stats.
void storm(baseline::Backend& backend, const Config& c, const load::SeatPicker& picker,
           uint32_t user, Window w, load::Stats& stats, std::string& error) {
  load::SplitMix rng(load::stream_seed(c.seed, user));
  std::deque<Held> live;
  uint32_t failures_in_a_row = 0;
  for (int64_t now = load::steady_now_ns(); now < w.stop_ns && failures_in_a_row < 100;) {
    const bool measured = now >= w.measure_from_ns;
    if (!live.empty() && live.size() >= c.shape.holds_per_user) {
      const Held h = live.front();
      const bool ok = backend.cancel(user, h.date, h.seat, h.reservation);
      live.pop_front();
      const int64_t done = load::steady_now_ns();
      if (measured)
        stats.record(load::Kind::cancel, ok ? 200 : 0, load::ErrorCode::none,
                     static_cast<uint64_t>(done - now));
      failures_in_a_row = ok ? 0 : failures_in_a_row + 1;
      now = done;
      continue;
    }
    const load::SeatChoice choice = picker.pick(rng);
    uint64_t reservation = 0;
    const auto outcome = backend.hold(user, choice.date_index, choice.seat, reservation);
    const int64_t done = load::steady_now_ns();
    if (measured)
      stats.record(load::Kind::hold, status_of(outcome), code_of(outcome),
                   static_cast<uint64_t>(done - now));
    if (outcome == baseline::HoldOutcome::held)
      live.push_back({choice.date_index, choice.seat, reservation});
    failures_in_a_row = outcome == baseline::HoldOutcome::failed ? failures_in_a_row + 1 : 0;
    now = done;
  }
  if (failures_in_a_row > 0) error = backend.last_error();
}

std::string durability(const Config& c) {
  return c.system == "redis" ? "appendonly yes, appendfsync always"
                             : "fsync on, synchronous_commit on";
}

void print(const Config& c, const load::Stats& s, double seconds, double cpu_share) {
  const auto& hold = s.by_kind[static_cast<size_t>(load::Kind::hold)];
  const double holds_per_s = static_cast<double>(hold.accepted) / seconds;
  const auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  if (c.json) {
    fmt::print(
        R"({{"system":"{}","variant":"{}","durability":"{}","connections":{},"duration_s":{},"requests":{},"requests_per_s":{:.1f},"accepted_per_s":{:.1f},"holds_per_s":{:.1f},"errors":{},"p50_ms":{:.3f},"p99_ms":{:.3f},"p999_ms":{:.3f},"hold_p50_ms":{:.3f},"hold_p99_ms":{:.3f},"hold_p999_ms":{:.3f},"holds_tried":{},"seat_unavailable":{},"hold_limit":{},"client_cpu_share":{:.3f}}})"
        "\n",
        c.system, c.variant, durability(c), c.connections, c.duration_s, s.requests,
        static_cast<double>(s.requests) / seconds, static_cast<double>(s.accepted) / seconds,
        holds_per_s, s.errors(), ms(s.latency_ns.percentile(50)), ms(s.latency_ns.percentile(99)),
        ms(s.latency_ns.percentile(99.9)), ms(hold.latency_ns.percentile(50)),
        ms(hold.latency_ns.percentile(99)), ms(hold.latency_ns.percentile(99.9)), hold.requests,
        s.by_status[409], s.by_status[429], cpu_share);
    return;
  }
  fmt::print("{} ({}; {}): {} connections, {} s\n", c.system, c.variant, durability(c),
             c.connections, c.duration_s);
  fmt::print("  requests {} ({:.1f}/s), holds granted {:.1f}/s, errors {}\n", s.requests,
             static_cast<double>(s.requests) / seconds, holds_per_s, s.errors());
  fmt::print("  hold latency ms  p50 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}\n",
             ms(hold.latency_ns.percentile(50)), ms(hold.latency_ns.percentile(99)),
             ms(hold.latency_ns.percentile(99.9)), ms(hold.latency_ns.max()));
  fmt::print("  client CPU {:.0f} % of one core\n", 100 * cpu_share);
}

// Runs the storm on every connection at once; exit code.
int run(const Config& c) {
  auto setup = make_backend(c);
  std::string error = setup->connect();
  if (error.empty()) error = setup->prepare_store(c.shape);
  if (!error.empty()) {
    fmt::print(stderr, "boxoffice-baseline: {}\n", error);
    return 1;
  }
  const load::SeatPicker picker(c.shape.dates, c.shape.seats, c.zipf);
  std::vector<std::unique_ptr<baseline::Backend>> backends;
  for (uint32_t i = 0; i < c.connections; ++i) {
    backends.push_back(make_backend(c));
    error = backends.back()->connect();
    if (error.empty()) error = backends.back()->prepare_connection(c.shape);
    if (!error.empty()) {
      fmt::print(stderr, "boxoffice-baseline: connection {}: {}\n", i, error);
      return 1;
    }
  }
  const int64_t start = load::steady_now_ns() + 50'000'000;
  const Window w{start + int64_t{c.warmup_s} * 1'000'000'000,
                 start + int64_t{c.warmup_s + c.duration_s} * 1'000'000'000};
  std::vector<load::Stats> stats(c.connections);
  std::vector<std::string> errors(c.connections);
  std::vector<std::thread> threads;
  const double cpu_before_s = process_cpu_s();
  for (uint32_t i = 0; i < c.connections; ++i) {
    threads.emplace_back([&, i] { storm(*backends[i], c, picker, i, w, stats[i], errors[i]); });
  }
  for (auto& t : threads) t.join();
  const double run_s = static_cast<double>(load::steady_now_ns() - start) / 1e9 + 0.05;
  const double cpu_share = (process_cpu_s() - cpu_before_s) / run_s;
  load::Stats total;
  for (const auto& s : stats) total.merge(s);
  for (const auto& e : errors) {
    if (!e.empty()) fmt::print(stderr, "boxoffice-baseline: {}\n", e);
  }
  print(c, total, static_cast<double>(c.duration_s), cpu_share);
  return 0;
}

template <typename T>
bool number(const po::variables_map& vm, const char* name, T lo, T hi, T& out) {
  if (!vm.count(name)) return true;
  const auto& text = vm[name].as<std::string>();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc{} && end == text.data() + text.size() && out >= lo && out <= hi) return true;
  fmt::print(stderr, "boxoffice-baseline: --{}: expected {} to {}, got '{}'\n", name, lo, hi, text);
  return false;
}

std::optional<Config> parse(int argc, char** argv) {
  po::options_description d("boxoffice-baseline: the hold storm against Redis or PostgreSQL");
  d.add_options()("help", "this help")("system", po::value<std::string>(), "redis | postgres")(
      "variant", po::value<std::string>(), "redis: lua; postgres: update (default) | for-update")(
      "host", po::value<std::string>(),
      "address, or PostgreSQL socket directory (default 127.0.0.1)")(
      "port", po::value<std::string>(), "port")("connections", po::value<std::string>(),
                                                "connections, one thread each (default 64)")(
      "duration", po::value<std::string>(), "measured seconds (default 10)")(
      "warmup", po::value<std::string>(), "seconds before measuring (default 1)")(
      "dates", po::value<std::string>(), "dates (default 1)")("seats", po::value<std::string>(),
                                                              "seats per date (default 10000)")(
      "holds-per-user", po::value<std::string>(), "per-user hold limit (default 4)")(
      "zipf", po::value<std::string>(), "Zipf exponent over seat numbers (default 0)")(
      "seed", po::value<std::string>(), "seed (default 1)")("json", "one JSON object on stdout");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "boxoffice-baseline: {}\n", e.what());
    return std::nullopt;
  }
  Config c;
  if (vm.count("help")) {
    std::cout << d;
    std::exit(0);
  }
  if (vm.count("system")) c.system = vm["system"].as<std::string>();
  if (vm.count("host")) c.endpoint.host = vm["host"].as<std::string>();
  c.variant = vm.count("variant") ? vm["variant"].as<std::string>()
                                  : (c.system == "redis" ? "lua" : "update");
  c.json = vm.count("json") > 0;
  const bool known =
      (c.system == "redis" && c.variant == "lua") ||
      (c.system == "postgres" && (c.variant == "update" || c.variant == "for-update"));
  if (!known) {
    fmt::print(stderr, "boxoffice-baseline: unknown --system/--variant {}/{}\n", c.system,
               c.variant);
    return std::nullopt;
  }
  bool ok = number<uint16_t>(vm, "port", 1, 65535, c.endpoint.port) &&
            number<uint32_t>(vm, "connections", 1, 1000, c.connections) &&
            number<uint32_t>(vm, "duration", 1, 86400, c.duration_s) &&
            number<uint32_t>(vm, "warmup", 0, 3600, c.warmup_s) &&
            number<uint32_t>(vm, "dates", 1, 1000, c.shape.dates) &&
            number<uint32_t>(vm, "seats", 1, 10000, c.shape.seats) &&
            number<uint32_t>(vm, "holds-per-user", 1, 100, c.shape.holds_per_user) &&
            number<double>(vm, "zipf", 0, 10, c.zipf) &&
            number<uint64_t>(vm, "seed", 0, UINT64_MAX, c.seed);
  if (ok && c.endpoint.port == 0) {
    fmt::print(stderr, "boxoffice-baseline: --port is required\n");
    ok = false;
  }
  c.shape.users = c.connections;
  if (!ok) return std::nullopt;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const auto config = parse(argc, argv);
  if (!config) return 2;
  return run(*config);
}
