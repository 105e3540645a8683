#include "bench/commit_bench.hpp"

#include <pthread.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_setup.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "net/core_loop.hpp"
#include "net/ingress.hpp"
#include "net/options.hpp"
#include "storage/event_batch.hpp"
#include "storage/event_log.hpp"
#include "storage/group_commit.hpp"

namespace boxoffice::bench {

namespace {

namespace fs = std::filesystem;
using storage::EventBatch;
using storage::Status;

// A commit merges at most this many commands: every batch in flight, full.
constexpr uint64_t commit_commands_max = storage::batches_in_flight_max * net::batch_commands_max;
// Per-commit values up to these are counted exactly; larger ones fall into
// the last bucket (the max stays exact).
constexpr size_t commit_events_buckets = size_t{1} << 16;
constexpr uint64_t latency_bucket_us = 10;
constexpr size_t latency_buckets = 100000;  // 1 s
// A producer looks at the clock once per this many pushes.
constexpr uint64_t producer_clock_every = 256;
// A producer that finds its ring full waits this long before it tries again,
// rather than spinning on a core the consumer needs.
constexpr auto producer_backoff = std::chrono::microseconds(50);
// The reservation table is reserved (and touched) up front for this many
// holds per second of a timed run, up to a maximum; it grows past that.
constexpr uint64_t reserved_holds_per_s = 1000000;
constexpr uint64_t reserved_holds_max = 8000000;

// Counts of values in buckets of `width`; percentiles are bucket floors.
class Histogram {
 public:
  Histogram(uint64_t width, size_t buckets) : width_(width), counts_(buckets, 0) {}

  void add(uint64_t value) {
    counts_[std::min<uint64_t>(value / width_, counts_.size() - 1)]++;
    count_++;
    sum_ += value;
    max_ = std::max(max_, value);
  }

  uint64_t count() const { return count_; }

  Distribution summary() const {
    Distribution d;
    if (count_ == 0) return d;
    d.mean = static_cast<double>(sum_) / static_cast<double>(count_);
    d.p50 = percentile(50);
    d.p90 = percentile(90);
    d.p99 = percentile(99);
    d.max = max_;
    return d;
  }

 private:
  uint64_t percentile(uint64_t p) const {
    const uint64_t rank = std::max<uint64_t>(1, (count_ * p + 99) / 100);
    uint64_t seen = 0;
    for (size_t b = 0; b < counts_.size(); b++) {
      seen += counts_[b];
      if (seen >= rank) return std::min(max_, b * width_);
    }
    return max_;
  }

  uint64_t width_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

// A fresh directory inside `parent`, removed with its contents at the end.
class TempDir {
 public:
  std::string create(const std::string& parent) {
    std::error_code ec;
    const fs::path base = parent.empty() ? fs::temp_directory_path(ec) : fs::path(parent);
    if (ec) return "no system temporary directory: " + ec.message();
    std::string pattern = (base / "boxoffice-bench-commit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      return "cannot create a directory in " + base.string();
    path_ = pattern;
    return "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One batch of the core on its way to the disk, and what its commands decided.
struct CoreBatch {
  uint64_t tag = 0;  // its index in the pool
  EventBatch* events = nullptr;
  uint64_t holds = 0;
  uint64_t accepted = 0;
  Clock::time_point submitted;
};

// Outcomes counted as they become durable, each by one thread.
struct Tally {
  uint64_t holds = 0;
  uint64_t accepted = 0;
  uint64_t events = 0;
  Clock::time_point last;  // the latest completion
};

// The commit being delivered (its batches' completions arrive together).
struct OpenCommit {
  uint64_t id = 0;  // GroupCommitter::commits() while it is delivered
  uint64_t batches = 0;
  uint64_t commands = 0;
  uint64_t events = 0;
};

class CommitBench {
 public:
  CommitBench(const CommitBenchOptions& o, storage::EventLog& log)
      : options_(o), log_(log), engine_(config(o)) {
    const uint64_t reservations =
        o.holds != 0 ? o.holds : static_cast<uint64_t>(o.seconds * reserved_holds_per_s);
    engine_.reserve(o.users, o.users,
                    static_cast<uint32_t>(std::min(reservations, reserved_holds_max)), 0);
    events_.reserve(net::batch_commands_max * 4);
    free_.reserve(pool_.size());
    for (size_t i = 0; i < pool_.size(); i++) {
      pool_[i].tag = i;
      free_.push_back(&pool_[i]);
    }
  }

  static Config config(const CommitBenchOptions& o) {
    Config c = sale_config(SaleShape{o.dates, o.seats_per_date, o.users});
    c.token_ttl_ms = limits::duration_flag_s_max * 1000;  // no window ends during a run
    return c;
  }

  std::string set_up();
  std::string run(CommitBenchResult* out);

 private:
  void produce(uint32_t ring, uint64_t quota);
  void core_loop();
  void decide(net::IngressItem& item, CoreBatch& batch);
  void tick();
  void complete_now(CoreBatch& batch);
  void on_durable(EventBatch* events, uint64_t tag, const Status& status);
  void close_commit();
  CoreBatch* take_batch();
  void give_back(CoreBatch* batch);
  TimeMs stamp_ms() const {
    return start_ms +
           std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - origin_).count();
  }
  bool time_is_up() const {
    return options_.holds == 0 && seconds_since(origin_) >= options_.seconds;
  }

  const CommitBenchOptions options_;
  storage::EventLog& log_;
  Engine engine_;
  std::vector<TokenId> tokens_;
  Clock::time_point origin_;  // the run's start; stamps count from it
  std::optional<net::Ingress> ingress_;
  std::optional<storage::GroupCommitter> committer_;

  // Core thread.
  std::vector<Event> events_;  // of the batch being decided
  Clock::time_point next_tick_;
  Tally immediate_;  // event-free batches answered without a commit
  uint64_t immediate_batches_ = 0;

  // Producers: written by their own thread, read after it is joined.
  std::vector<uint64_t> pushed_;
  std::vector<uint64_t> ring_full_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> in_flight_{0};

  // Committer thread (read once it has stopped).
  Tally durable_;
  OpenCommit open_;
  uint64_t commits_ = 0;
  Histogram commands_per_commit_{1, commit_commands_max + 1};
  Histogram events_per_commit_{1, commit_events_buckets};
  Histogram batches_per_commit_{1, storage::batches_in_flight_max + 1};
  Histogram latency_us_{latency_bucket_us, latency_buckets};
  std::string failure_;

  // The batch pool: one being filled, the rest in flight.
  std::array<CoreBatch, storage::batches_in_flight_max + 1> pool_;
  std::mutex mutex_;  // guards free_
  std::vector<CoreBatch*> free_;
};

// The sale's set-up, committed as one synced batch before the run.
std::string CommitBench::set_up() {
  EventBatch batch;
  batch.reset(log_.last_seq() + 1);
  std::vector<Event> events;
  const auto run = [&](CommandBody body) {
    const Result r = engine_.execute(Command{start_ms, std::move(body)}, events);
    for (const Event& e : events) {
      encode_event(e, batch.bytes());
      batch.seal_event();
    }
    events.clear();
    return r;
  };
  tokens_ = open_sale(SaleShape{options_.dates, options_.seats_per_date, options_.users}, run);
  const Status s = log_.append(batch);
  if (!s.is_ok()) return "set-up: " + s.to_string();
  BOXOFFICE_ASSERT(log_.last_seq() == engine_.state().last_seq());
  return "";
}

std::string CommitBench::run(CommitBenchResult* out) {
  const uint32_t producers = options_.producers;
  ingress_.emplace(producers, net::ServerOptions{}.ingress_queue_max);
  committer_.emplace(
      log_, [this](EventBatch* b, uint64_t tag, const Status& s) { on_durable(b, tag, s); });
  pushed_.assign(producers, 0);
  ring_full_.assign(producers, 0);
  origin_ = Clock::now();
  durable_.last = immediate_.last = origin_;
  std::thread core([this] {
    ::pthread_setname_np(::pthread_self(), "bo-core");
    core_loop();
  });
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < producers; i++) {
    const uint64_t quota =
        options_.holds / producers + (i < options_.holds % producers ? uint64_t{1} : 0);
    threads.emplace_back([this, i, quota] {
      ::pthread_setname_np(::pthread_self(), ("bo-producer-" + std::to_string(i)).c_str());
      produce(i, quota);
    });
  }
  for (std::thread& t : threads) t.join();
  stop_.store(true);
  ingress_->wake();
  core.join();
  committer_->stop();
  close_commit();
  if (!failure_.empty()) return failure_;

  uint64_t pushed = 0;
  for (uint32_t i = 0; i < producers; i++) {
    pushed += pushed_[i];
    out->ring_full_waits += ring_full_[i];
  }
  const uint64_t holds = durable_.holds + immediate_.holds;
  BOXOFFICE_ASSERT(holds == pushed);
  BOXOFFICE_ASSERT(options_.holds == 0 || holds == options_.holds);
  BOXOFFICE_ASSERT(log_.last_seq() == engine_.state().last_seq());
  out->producers = producers;
  out->fsync = options_.fsync;
  out->seconds =
      std::chrono::duration<double>(std::max(durable_.last, immediate_.last) - origin_).count();
  out->holds_durable = holds;
  out->holds_accepted = durable_.accepted + immediate_.accepted;
  BOXOFFICE_ASSERT(immediate_.accepted == 0);  // an accepted hold has an event to commit
  out->holds_rejected = holds - out->holds_accepted;
  out->durable_holds_per_s = static_cast<double>(holds) / out->seconds;
  out->accepted_holds_per_s = static_cast<double>(out->holds_accepted) / out->seconds;
  out->commits = commits_;
  out->commits_per_s = static_cast<double>(commits_) / out->seconds;
  out->events = durable_.events;
  out->batches_per_commit = batches_per_commit_.summary().mean;
  out->commands_per_commit = commands_per_commit_.summary();
  out->events_per_commit = events_per_commit_.summary();
  out->durable_latency_us = latency_us_.summary();
  out->immediate_batches = immediate_batches_;
  return "";
}

// A stand-in for an I/O thread: pushes holds for random users on random
// seats onto its ring, stamped as ingress stamps them.
void CommitBench::produce(uint32_t ring, uint64_t quota) {
  Rng rng(options_.seed + ring);
  net::IngressItem item;  // no session: the bench counts outcomes, it sends no replies
  item.request.kind = net::ParsedRequest::Kind::command;
  item.request.routed = true;
  item.request.route = net::Route::hold_seat;
  item.request.command.body = HoldSeat{TokenId::none, ConcertId{1}, first_day, 1, {}};
  auto& hold = std::get<HoldSeat>(item.request.command.body);
  const auto users = static_cast<uint32_t>(tokens_.size());
  uint64_t full = 0;
  uint64_t i = 0;
  for (; options_.holds == 0 || i < quota; i++) {
    if (i % producer_clock_every == 0 && time_is_up()) break;
    hold.token = tokens_[rng.below(users)];
    hold.day = first_day + static_cast<Day>(rng.below(options_.dates));
    hold.seat = rng.below(options_.seats_per_date) + 1;
    item.seq = i;
    item.request.command.time_ms = stamp_ms();
    while (!ingress_->push(ring, item)) {
      full++;
      ingress_->wake_if_sleeping();
      std::this_thread::sleep_for(producer_backoff);
    }
    ingress_->wake_if_sleeping();
  }
  pushed_[ring] = i;
  ring_full_[ring] = full;
}

// net/core_loop.cpp's run(), without replies to render and post.
void CommitBench::core_loop() {
  next_tick_ = Clock::now();
  while (true) {
    const bool stopping = stop_.load();
    CoreBatch* batch = take_batch();
    const uint64_t first_seq = engine_.state().last_seq() + 1;
    batch->holds = 0;
    batch->accepted = 0;
    events_.clear();
    const size_t n = ingress_->drain(net::batch_commands_max, [&](net::IngressItem& item) {
      if (!failed_.load(std::memory_order_relaxed)) decide(item, *batch);
    });
    if (!failed_.load() && Clock::now() >= next_tick_) tick();
    if ((n == 0 && events_.empty()) || failed_.load()) {
      give_back(batch);
      if (stopping && in_flight_.load() == 0) return;
      ingress_->wait(stopping ? Clock::now() + std::chrono::milliseconds(5) : next_tick_);
      continue;
    }
    if (events_.empty() && in_flight_.load() == 0) {
      complete_now(*batch);  // nothing to make durable, nothing before it to wait for
      give_back(batch);
      continue;
    }
    batch->events = committer_->acquire();  // blocks while every batch is in flight
    batch->events->reset(first_seq);
    for (const Event& e : events_) {
      encode_event(e, batch->events->bytes());
      batch->events->seal_event();
    }
    batch->submitted = Clock::now();
    in_flight_.fetch_add(1);
    committer_->submit(batch->events, batch->tag);
  }
}

void CommitBench::decide(net::IngressItem& item, CoreBatch& batch) {
  BOXOFFICE_ASSERT(item.session == nullptr && item.request.route == net::Route::hold_seat);
  const Result result = engine_.execute(item.request.command, events_);
  batch.holds++;
  if (result.ok()) batch.accepted++;
}

void CommitBench::tick() {
  engine_.execute(Command{stamp_ms(), Tick{}}, events_);
  next_tick_ = Clock::now() + std::chrono::milliseconds(net::tick_interval_ms);
}

void CommitBench::complete_now(CoreBatch& batch) {
  immediate_.holds += batch.holds;
  immediate_.accepted += batch.accepted;
  immediate_.last = Clock::now();
  immediate_batches_++;
}

// The committer's thread: the batches of one commit arrive one after another,
// after GroupCommitter::commits() has counted it.
void CommitBench::on_durable(EventBatch* events, uint64_t tag, const Status& status) {
  CoreBatch& batch = pool_[tag];
  BOXOFFICE_ASSERT(batch.events == events);
  const Clock::time_point now = Clock::now();
  if (!status.is_ok()) {
    if (failure_.empty()) failure_ = "commit failed: " + status.to_string();
    failed_.store(true);
  } else {
    if (committer_->commits() != open_.id) {
      close_commit();
      open_.id = committer_->commits();
    }
    open_.batches++;
    open_.commands += batch.holds;
    open_.events += events->count();
    durable_.holds += batch.holds;
    durable_.accepted += batch.accepted;
    durable_.events += events->count();
    durable_.last = now;
    latency_us_.add(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - batch.submitted).count()));
  }
  batch.events = nullptr;
  // The core batch goes back before its storage batch: the core never holds
  // more core batches than storage batches, plus the one it fills.
  give_back(&batch);
  committer_->release(events);
  in_flight_.fetch_sub(1);
}

void CommitBench::close_commit() {
  if (open_.batches != 0 && open_.events != 0) {  // an append of empty batches syncs nothing
    commits_++;
    commands_per_commit_.add(open_.commands);
    events_per_commit_.add(open_.events);
    batches_per_commit_.add(open_.batches);
  }
  open_ = OpenCommit{open_.id, 0, 0, 0};
}

CoreBatch* CommitBench::take_batch() {
  std::lock_guard lock(mutex_);
  BOXOFFICE_ASSERT(!free_.empty());
  CoreBatch* batch = free_.back();
  free_.pop_back();
  return batch;
}

void CommitBench::give_back(CoreBatch* batch) {
  std::lock_guard lock(mutex_);
  free_.push_back(batch);
}

}  // namespace

std::string run_commit_bench(const CommitBenchOptions& options, CommitBenchResult* result) {
  BOXOFFICE_ASSERT(options.producers >= 1 && (options.seconds > 0 || options.holds > 0));
  TempDir dir;
  if (std::string error = dir.create(options.dir); !error.empty()) return error;
  storage::EventLogOptions log_options;
  log_options.dir = dir.path();
  log_options.fsync = options.fsync;
  std::unique_ptr<storage::EventLog> log;
  if (const Status s = storage::EventLog::open(log_options, &log); !s.is_ok()) {
    return s.to_string();
  }
  *result = CommitBenchResult{};
  {
    CommitBench bench(options, *log);
    if (std::string error = bench.set_up(); !error.empty()) return error;
    if (std::string error = bench.run(result); !error.empty()) return error;
  }
  storage::LogStats stats;
  if (const Status s = log->stats(&stats); s.is_ok()) result->log_bytes = stats.dir_bytes;
  if (const Status s = log->close(); !s.is_ok()) return s.to_string();
  return "";
}

std::string to_json(const CommitBenchResult& r) {
  const auto dist = [](const Distribution& d) {
    char buf[192];
    std::snprintf(buf, sizeof buf,
                  "{\"mean\": %.1f, \"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"max\": %llu}",
                  d.mean, static_cast<unsigned long long>(d.p50),
                  static_cast<unsigned long long>(d.p90), static_cast<unsigned long long>(d.p99),
                  static_cast<unsigned long long>(d.max));
    return std::string(buf);
  };
  const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  char buf[768];
  std::snprintf(buf, sizeof buf,
                "{\"durable_holds_per_s\": %.0f, \"accepted_holds_per_s\": %.0f, "
                "\"holds_durable\": %llu, \"holds_accepted\": %llu, \"holds_rejected\": %llu, "
                "\"seconds\": %.3f, \"producers\": %u, \"fsync\": %s, \"commits\": %llu, "
                "\"commits_per_s\": %.0f, \"events\": %llu, "
                "\"batches_per_commit\": %.2f, \"immediate_batches\": %llu, "
                "\"ring_full_waits\": %llu, \"log_bytes\": %llu, ",
                r.durable_holds_per_s, r.accepted_holds_per_s, u(r.holds_durable),
                u(r.holds_accepted), u(r.holds_rejected), r.seconds, r.producers,
                r.fsync ? "true" : "false", u(r.commits), r.commits_per_s, u(r.events),
                r.batches_per_commit, u(r.immediate_batches), u(r.ring_full_waits), u(r.log_bytes));
  return std::string(buf) + "\"commands_per_commit\": " + dist(r.commands_per_commit) +
         ", \"events_per_commit\": " + dist(r.events_per_commit) +
         ", \"durable_latency_us\": " + dist(r.durable_latency_us) + "}";
}

}  // namespace boxoffice::bench
