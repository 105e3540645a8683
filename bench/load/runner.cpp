#include "bench/load/runner.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/load/driver.hpp"
#include "bench/load/ledger.hpp"
#include "bench/load/report.hpp"
#include "bench/load/scenarios.hpp"

namespace boxoffice::load {
namespace {

constexpr int64_t ns_per_s = 1'000'000'000;

struct Target {
  std::string address;
  uint16_t port = 0;
  std::string host_header;
};

// Thrown only inside this file and caught by run_load: a set-up step failed.
struct RunError {
  std::string message;
};

Target resolve(const Options& o) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || results.empty()) {
    throw RunError{fmt::format("cannot resolve {}: {}", o.host, ec.message())};
  }
  const auto endpoint = results.begin()->endpoint();
  return {endpoint.address().to_string(), o.port, fmt::format("{}:{}", o.host, o.port)};
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

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One phase: the agents of thread t run on driver t. Progress goes to stderr
// once a second when `progress_label` is set.
struct PhaseTiming {
  int64_t start_ns = 0;
  int64_t measure_from_ns = 0;
  int64_t stop_ns = INT64_MAX;
};

struct PhaseResult {
  Stats stats;
  uint64_t connect_errors = 0;
  std::string last_connect_error;
  int64_t last_answer_ns = 0;
};

void print_progress(const std::vector<std::unique_ptr<Driver>>& drivers, int64_t start_ns,
                    int64_t measure_from_ns, uint64_t& last_requests, uint64_t& last_errors) {
  Progress total;
  for (const auto& d : drivers) {
    const Progress p = d->progress();
    total.requests += p.requests;
    total.accepted += p.accepted;
    total.errors += p.errors;
    total.latency_ns.merge(p.latency_ns);
  }
  const int64_t now = steady_now_ns();
  fmt::print(stderr, "[{:>4.0f}s] {:>9} req/s  errors {:>6}  p99 {:.3f} ms{}\n",
             static_cast<double>(now - start_ns) / 1e9, total.requests - last_requests,
             total.errors - last_errors, static_cast<double>(total.latency_ns.percentile(99)) / 1e6,
             now < measure_from_ns ? "  (warm-up)" : "");
  last_requests = total.requests;
  last_errors = total.errors;
}

PhaseResult run_phase(const Target& target, const std::vector<std::vector<Agent*>>& agents,
                      uint32_t connections, double rate_per_s, const PhaseTiming& timing,
                      const Options& o, bool progress) {
  std::vector<std::unique_ptr<Driver>> drivers;
  const auto threads = static_cast<uint32_t>(agents.size());
  for (uint32_t t = 0; t < threads; ++t) {
    DriverConfig c;
    c.address = target.address;
    c.port = target.port;
    c.host_header = target.host_header;
    c.connections = std::max(1u, connections / threads + (t < connections % threads ? 1 : 0));
    c.rate_per_s = rate_per_s / threads;
    c.ticket_offset = static_cast<double>(t) / threads;
    c.start_ns = timing.start_ns;
    c.measure_from_ns = timing.measure_from_ns;
    c.stop_ns = timing.stop_ns;
    c.request_timeout_ns = int64_t{o.timeout_s} * ns_per_s;
    drivers.push_back(std::make_unique<Driver>(std::move(c), agents[t]));
  }
  std::mutex mutex;
  std::condition_variable cv;
  uint32_t done = 0;
  std::string failure;
  std::vector<std::thread> workers;
  for (auto& driver : drivers) {
    workers.emplace_back([&, d = driver.get()] {
      std::string error;
      try {
        d->run();
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::lock_guard lock(mutex);
      if (!error.empty()) failure = error;
      ++done;
      cv.notify_one();
    });
  }
  {
    std::unique_lock lock(mutex);
    uint64_t last_requests = 0;
    uint64_t last_errors = 0;
    auto next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!cv.wait_until(lock, next, [&] { return done == threads; })) {
      next += std::chrono::seconds(1);
      if (progress) {
        print_progress(drivers, timing.start_ns, timing.measure_from_ns, last_requests,
                       last_errors);
      }
    }
  }
  for (auto& w : workers) w.join();
  if (!failure.empty()) throw RunError{"a client thread failed: " + failure};
  PhaseResult result;
  for (const auto& d : drivers) {
    result.stats.merge(d->stats());
    result.connect_errors += d->connect_errors();
    if (!d->last_connect_error().empty()) result.last_connect_error = d->last_connect_error();
    result.last_answer_ns = std::max(result.last_answer_ns, d->last_answer_ns());
  }
  return result;
}

// A set-up phase: starts now, may take the request timeout.
PhaseResult run_setup(const Target& target, const std::vector<std::vector<Agent*>>& agents,
                      uint32_t connections, const Options& o) {
  const int64_t now = steady_now_ns();
  return run_phase(target, agents, connections, 0,
                   {now, now, now + int64_t{o.timeout_s} * ns_per_s}, o, false);
}

// GET /healthz once.
class HealthAgent : public Agent {
 public:
  Step next(int64_t, RequestSpec& out) override {
    if (status != 0) return Step::finished();
    out.clear();
    out.kind = Kind::health;
    out.method = Method::get;
    out.target = "/healthz";
    return Step::sent();
  }
  void on_response(Kind, const Response& response, int64_t) override {
    status = response.status;
    body.assign(response.body);
  }
  unsigned status = 0;
  std::string body;
};

class Run {
 public:
  explicit Run(const Options& o);
  RunReport execute();

 private:
  std::vector<std::vector<Agent*>> spread(const std::vector<std::unique_ptr<Agent>>& agents) const;
  ThreadContext& context_of(size_t user) { return *contexts_[user % contexts_.size()]; }
  void probe();
  void create_concert();
  void make_sessions(uint32_t users, const std::string& prefix);
  void join_users();
  std::vector<std::unique_ptr<Agent>> scenario_agents(int64_t start_ns);
  void run_scenario();
  void sale_open_result(const std::vector<std::unique_ptr<Agent>>& agents, int64_t start_ns);
  void check();
  void leave();

  Options o_;
  Target target_;
  Plan plan_;
  uint64_t last_seq_ = 0;
  std::vector<std::unique_ptr<ThreadContext>> contexts_;
  std::vector<Ledger> ledgers_;
  std::vector<UserSession> sessions_;
  std::vector<uint32_t> arrival_rank_;  // sale-open: the place of user i in arrival order
  UserSession inspector_;
  RunReport report_;
};

Run::Run(const Options& o) : o_(o), ledgers_(o.threads) {
  plan_.options = o;
  for (uint32_t i = 0; i < o.dates; ++i) plan_.dates.push_back(concert_date(i));
  plan_.picker = SeatPicker(o.dates, o.seats, o.zipf_exponent);
  plan_.poll_interval_ns = int64_t{o.poll_interval_ms} * 1'000'000;
  for (uint32_t t = 0; t < o.threads; ++t) {
    contexts_.push_back(std::make_unique<ThreadContext>());
    contexts_.back()->plan = &plan_;
    contexts_.back()->ledger = &ledgers_[t];
  }
  report_.options = o;
}

std::vector<std::vector<Agent*>> Run::spread(
    const std::vector<std::unique_ptr<Agent>>& agents) const {
  std::vector<std::vector<Agent*>> by_thread(
      std::min<size_t>(contexts_.size(), std::max<size_t>(agents.size(), 1)));
  for (size_t i = 0; i < agents.size(); ++i) {
    by_thread[i % by_thread.size()].push_back(agents[i].get());
  }
  return by_thread;
}

void Run::probe() {
  std::vector<std::unique_ptr<Agent>> agents;
  agents.push_back(std::make_unique<HealthAgent>());
  auto& health = static_cast<HealthAgent&>(*agents[0]);
  const int64_t now = steady_now_ns();
  const PhaseResult r =
      run_phase(target_, {{agents[0].get()}}, 1, 0, {now, now, now + 2 * ns_per_s}, o_, false);
  if (health.status == 0) {
    throw RunError{fmt::format(
        "cannot reach http://{}:{}: {}", o_.host, o_.port,
        r.last_connect_error.empty() ? "no answer to GET /healthz" : r.last_connect_error)};
  }
  if (health.status != 200) {
    throw RunError{
        fmt::format("GET /healthz answered {}: is this a boxoffice server?", health.status)};
  }
  last_seq_ = contexts_[0]->json.uint_field(health.body, "lastSeq").value_or(0);
}

void Run::create_concert() {
  std::vector<std::unique_ptr<Agent>> agents;
  agents.push_back(std::make_unique<CreateConcertAgent>(
      *contexts_[0],
      fmt::format("boxoffice-load {} seed {}", scenario_name(o_.scenario), o_.seed)));
  auto& creator = static_cast<CreateConcertAgent&>(*agents[0]);
  run_setup(target_, {{agents[0].get()}}, 1, o_);
  if (!creator.concert_id) {
    throw RunError{creator.error.empty() ? "creating the concert got no answer in time"
                                         : creator.error};
  }
  plan_.concert_id = *creator.concert_id;
}

void Run::make_sessions(uint32_t users, const std::string& prefix) {
  sessions_.resize(users);
  for (uint32_t i = 0; i < users; ++i) sessions_[i].user_id = fmt::format("{}-u{}", prefix, i);
}

// Brings every user into the line (hold-storm, mixed: to active) and charges it.
void Run::join_users() {
  // hold-storm and mixed users never give their slot up, so they must all be
  // active before the storm; purchase users wait their turn during the run.
  const bool wait_active = o_.scenario == Scenario::hold_storm || o_.scenario == Scenario::mixed;
  const int64_t charge = o_.scenario == Scenario::queue_poll ? 0 : o_.price;
  std::vector<std::unique_ptr<Agent>> agents;
  for (size_t i = 0; i < sessions_.size(); ++i) {
    agents.push_back(std::make_unique<JoinAgent>(context_of(i), sessions_[i], wait_active, charge));
  }
  const auto connections = std::min<uint32_t>(o_.connections, static_cast<uint32_t>(agents.size()));
  const PhaseResult r = run_setup(target_, spread(agents), connections, o_);
  const auto placed = std::count_if(sessions_.begin(), sessions_.end(), [&](const UserSession& s) {
    return !s.token.empty() && (s.active || !wait_active);
  });
  if (static_cast<size_t>(placed) == sessions_.size()) return;
  leave();  // give back the slots the others did get
  throw RunError{fmt::format(
      "only {} of {} users {} within {} s ({} requests, {} errors){}", placed, sessions_.size(),
      wait_active ? "became active" : "got a token", o_.timeout_s, r.stats.requests,
      r.stats.errors(), wait_active ? "; is the server's --active-limit below --users?" : "")};
}

std::vector<std::unique_ptr<Agent>> Run::scenario_agents(int64_t start_ns) {
  std::vector<std::unique_ptr<Agent>> agents;
  if (o_.scenario == Scenario::ping) {
    for (uint32_t i = 0; i < o_.connections; ++i) agents.push_back(std::make_unique<PingAgent>());
    return agents;
  }
  SplitMix arrivals(stream_seed(o_.seed, UINT64_MAX));
  std::vector<std::pair<int64_t, uint32_t>> order;  // sale-open: (arrival, user)
  for (uint32_t i = 0; i < sessions_.size(); ++i) {
    ThreadContext& context = context_of(i);
    const uint64_t seed = stream_seed(o_.seed, i);
    switch (o_.scenario) {
      case Scenario::hold_storm:
        agents.push_back(std::make_unique<HoldStormAgent>(context, sessions_[i], seed));
        break;
      case Scenario::queue_poll:
        agents.push_back(std::make_unique<QueuePollAgent>(context, sessions_[i]));
        break;
      case Scenario::purchase:
        agents.push_back(std::make_unique<PurchaseAgent>(context, sessions_[i], seed, false, 0));
        break;
      case Scenario::sale_open: {
        const int64_t arrival = start_ns + static_cast<int64_t>(arrivals.below(ns_per_s));
        order.emplace_back(arrival, i);
        agents.push_back(
            std::make_unique<PurchaseAgent>(context, sessions_[i], seed, true, arrival));
        break;
      }
      default:
        agents.push_back(std::make_unique<MixedAgent>(context, sessions_[i], seed));
        break;
    }
  }
  std::sort(order.begin(), order.end());
  arrival_rank_.assign(order.size(), 0);
  for (uint32_t rank = 0; rank < order.size(); ++rank) arrival_rank_[order[rank].second] = rank;
  return agents;
}

void Run::run_scenario() {
  const bool sale_open = o_.scenario == Scenario::sale_open;
  PhaseTiming timing;
  timing.start_ns = steady_now_ns() + 50'000'000;  // the connections are up by then
  timing.measure_from_ns = timing.start_ns + (sale_open ? 0 : int64_t{o_.warmup_s} * ns_per_s);
  timing.stop_ns = timing.measure_from_ns + int64_t{o_.duration_s} * ns_per_s;
  const auto agents = scenario_agents(timing.start_ns);
  const double cpu_before_s = process_cpu_s();
  const PhaseResult r = run_phase(target_, spread(agents), o_.connections,
                                  static_cast<double>(o_.rate_per_s), timing, o_, true);
  report_.client_cpu_s = process_cpu_s() - cpu_before_s;
  report_.run_s = static_cast<double>(steady_now_ns() - timing.start_ns) / 1e9;
  report_.stats = r.stats;
  report_.connect_errors = r.connect_errors;
  const int64_t end_ns =
      std::min(timing.stop_ns, std::max(r.last_answer_ns, timing.measure_from_ns));
  report_.measured_s = std::max(1e-3, static_cast<double>(end_ns - timing.measure_from_ns) / 1e9);
  if (sale_open) sale_open_result(agents, timing.start_ns);
}

void Run::sale_open_result(const std::vector<std::unique_ptr<Agent>>& agents, int64_t start_ns) {
  SaleOpenResult so;
  so.users = agents.size();
  so.seats = uint64_t{o_.dates} * o_.seats;
  std::vector<uint32_t> winner_ranks;
  for (size_t i = 0; i < agents.size(); ++i) {
    const auto& buyer = static_cast<const PurchaseAgent&>(*agents[i]);
    so.failed_holds += buyer.failed_holds();
    so.gave_up += buyer.sold_out_seen() ? 1 : 0;
    if (buyer.purchases() > 0) winner_ranks.push_back(arrival_rank_[i]);
  }
  so.winners = winner_ranks.size();
  const auto early = std::count_if(winner_ranks.begin(), winner_ranks.end(),
                                   [&](uint32_t rank) { return rank < so.winners; });
  so.first_come_share =
      so.winners == 0 ? 0 : static_cast<double>(early) / static_cast<double>(so.winners);
  if (so.winners == so.seats) {
    int64_t last_paid_ns = start_ns;
    for (const Ledger& ledger : ledgers_) {
      for (const HoldRecord& r : ledger.records()) last_paid_ns = std::max(last_paid_ns, r.paid_ns);
    }
    so.sold_out_s = static_cast<double>(last_paid_ns - start_ns) / 1e9;
  }
  report_.sale_open = so;
}

// Reads every seat map with an active token (a user's, else a fresh inspector's).
void Run::check() {
  Ledger merged;
  for (const Ledger& ledger : ledgers_) merged.merge(ledger);
  UserSession* session = &inspector_;
  for (UserSession& s : sessions_) {
    if (s.active && !s.token.empty()) {
      session = &s;
      break;
    }
  }
  if (session == &inspector_) inspector_.user_id = fmt::format("c{}-inspector", plan_.concert_id);
  std::vector<std::unique_ptr<Agent>> agents;
  agents.push_back(std::make_unique<SeatMapAgent>(*contexts_[0], *session));
  auto& reader = static_cast<SeatMapAgent&>(*agents[0]);
  const int64_t from_ms = system_now_ms();
  run_setup(target_, {{agents[0].get()}}, 1, o_);
  const int64_t to_ms = system_now_ms();
  const bool complete =
      std::all_of(reader.statuses.begin(), reader.statuses.end(), [](const auto& d) {
        return std::none_of(d.begin(), d.end(), [](uint8_t s) { return s == SeatStatus::unknown; });
      });
  if (!complete) {
    report_.verdict.skipped =
        reader.error.empty() ? fmt::format("the seat maps were not read within {} s", o_.timeout_s)
                             : reader.error;
    return;
  }
  report_.verdict = verify_seats(merged, reader.statuses, from_ms, to_ms);
}

// Gives every token back, so the next run finds the active slots free.
void Run::leave() {
  std::vector<std::unique_ptr<Agent>> agents;
  for (UserSession& s : sessions_) {
    if (!s.token.empty()) agents.push_back(std::make_unique<LeaveAgent>(s));
  }
  if (!inspector_.token.empty()) agents.push_back(std::make_unique<LeaveAgent>(inspector_));
  if (agents.empty()) return;
  const auto connections = std::min<uint32_t>(o_.connections, static_cast<uint32_t>(agents.size()));
  run_setup(target_, spread(agents), connections, o_);
}

RunReport Run::execute() {
  target_ = resolve(o_);
  probe();
  const int64_t setup_start = steady_now_ns();
  const bool concert = scenario_needs_concert(o_.scenario);
  if (concert) create_concert();
  const uint32_t users = o_.scenario == Scenario::ping ? 0 : default_users(o_);
  report_.users = users;
  make_sessions(users,
                concert ? fmt::format("c{}", plan_.concert_id) : fmt::format("q{}", last_seq_));
  if (o_.scenario != Scenario::sale_open && users > 0) join_users();
  report_.setup_s = static_cast<double>(steady_now_ns() - setup_start) / 1e9;
  if (!o_.json || users > 0) {
    fmt::print(stderr, "boxoffice-load: {}{} users ready in {:.2f} s\n",
               concert ? fmt::format("concert {} ({} dates x {} seats); ", plan_.concert_id,
                                     o_.dates, o_.seats)
                       : "",
               users, report_.setup_s);
  }
  run_scenario();
  report_.verdict.skipped = concert ? "--no-verify" : "no concert in this scenario";
  if (concert && o_.verify) check();
  leave();
  return report_;
}

}  // namespace

int run_load(const Options& options) {
  RunReport report;
  try {
    Run run(options);
    report = run.execute();
  } catch (const RunError& e) {
    fmt::print(stderr, "boxoffice-load: {}\n", e.message);
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "boxoffice-load: {}\n", e.what());
    return 1;
  }
  if (options.json) {
    fmt::print("{}\n", to_json(report));
  } else {
    print_table(report, stdout);
  }
  const bool verify_failed = options.verify && report.verdict.checked && !report.verdict.ok;
  const bool verify_missing =
      options.verify && scenario_needs_concert(options.scenario) && !report.verdict.checked;
  if (verify_missing)
    fmt::print(stderr, "boxoffice-load: the check did not run: {}\n", report.verdict.skipped);
  return verify_failed || verify_missing ? 1 : 0;
}

}  // namespace boxoffice::load
