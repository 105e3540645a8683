#include "bench/replay_bench.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "bench/bench_setup.hpp"
#include "engine/digest.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/snapshot.hpp"
#include "net/recovery.hpp"
#include "storage/event_batch.hpp"
#include "storage/event_log.hpp"

namespace boxoffice::bench {

namespace {

namespace fs = std::filesystem;
using storage::EventLog;
using storage::Status;

// The snapshot holds the state this many events before the end of the log.
constexpr uint64_t snapshot_gap_events = 50000;
// Events per append while building (fsync off).
constexpr size_t build_batch_events = 65536;
// Bumped whenever the stream changes, so that an older log is rebuilt.
constexpr uint32_t stream_version = 1;
constexpr std::string_view meta_key_build = "bench_replay";
constexpr std::string_view meta_key_mix = "bench_replay_mix";

// The sale the log records.
constexpr uint32_t stream_dates = 100;
constexpr uint32_t stream_seats_per_date = 10000;
constexpr uint32_t stream_active_limit = 2000;
// Percentages of the stream's steps and choices.
constexpr uint32_t join_percent = 5;        // a step is a join
constexpr uint32_t ghost_percent = 5;       // a joiner who never comes back
constexpr uint32_t returning_percent = 10;  // a join by an earlier buyer, for a refund
constexpr uint32_t leave_waiting_percent = 3;
constexpr uint32_t pay_percent = 25;     // an active visitor with a hold pays for it...
constexpr uint32_t cancel_percent = 10;  // ... or cancels it
constexpr uint32_t leave_active_percent = 3;

constexpr std::array<const char*, std::variant_size_v<EventBody>> event_names = {
    "UserCreated",    "TokenIssued",      "TokenActivated", "TokenExpired",
    "ConcertCreated", "SeatHeld",         "HoldExpired",    "ReservationCancelled",
    "BalanceCharged", "PaymentCompleted", "RefundIssued",   "IdempotencyForgotten"};

size_t raw_end(TokenEnd end) { return static_cast<size_t>(end); }

Config stream_config() {
  Config c;
  c.active_limit = stream_active_limit;
  return c;
}

// Someone in the crowd the stream follows: the name they joined with and
// their token.
struct Visitor {
  uint32_t name = 0;
  TokenId token = TokenId::none;
  bool refund_wanted = false;  // came back to refund an earlier purchase
};

// A seeded sale in progress: each step() runs at most one command.
class SaleStream {
 public:
  explicit SaleStream(uint64_t seed) : engine_(stream_config()), rng_(seed) {}

  const Engine& engine() const { return engine_; }

  // Opens the sale: one concert of stream_dates x stream_seats_per_date.
  void open(std::vector<Event>& events) {
    CreateConcert c;
    c.title = "Replay benchmark";
    for (uint32_t d = 0; d < stream_dates; d++) {
      c.dates.push_back(
          NewDate{first_day + static_cast<Day>(d), stream_seats_per_date, seat_price_won});
    }
    BOXOFFICE_ASSERT(run(std::move(c), events).ok());
  }

  void step(std::vector<Event>& events) {
    now_ms_ += rng_.below(3);  // about 1,000 commands per simulated second
    if (live_.empty() || rng_.below(100) < join_percent) return join(events);
    const size_t i = rng_.below(static_cast<uint32_t>(live_.size()));
    const Token* token = engine_.state().token(live_[i].token);
    if (token->status == TokenStatus::expired) {
      live_[i] = live_.back();
      live_.pop_back();
      return;
    }
    if (token->status == TokenStatus::waiting) {
      if (rng_.below(100) < leave_waiting_percent) {
        run(LeaveQueue{live_[i].token}, events);
      } else {
        run(PollToken{live_[i].token}, events);
      }
      return;
    }
    act(live_[i], engine_.state().user(token->user), events);
  }

 private:
  Result run(CommandBody body, std::vector<Event>& events) {
    return engine_.execute(Command{now_ms_, std::move(body)}, events);
  }

  void join(std::vector<Event>& events) {
    Visitor v;
    if (!buyers_.empty() && rng_.below(100) < returning_percent) {
      v.name = buyers_[rng_.below(static_cast<uint32_t>(buyers_.size()))];
      v.refund_wanted = true;
    } else {
      v.name = names_++;
    }
    char name[32];
    const int n = std::snprintf(name, sizeof name, "fan%" PRIu32, v.name);
    const Result r =
        run(JoinQueue{UserName::from(std::string_view(name, static_cast<size_t>(n)))}, events);
    if (!r.ok() || !r.created) return;  // the line is full, or they are in it already
    v.token = r.token.token;
    if (rng_.below(100) >= ghost_percent) live_.push_back(v);
  }

  // An active visitor: tops up, refunds, pays, cancels, leaves or holds.
  void act(Visitor& v, const User& user, std::vector<Event>& events) {
    if (v.refund_wanted) {
      v.refund_wanted = false;
      const ReservationId paid = newest(user, ReservationStatus::confirmed);
      if (paid != ReservationId::none) {
        run(Refund{v.token, paid, "cannot come after all", key('r')}, events);
        return;
      }
    }
    if (user.balance < seat_price_won) {
      const int64_t amount = seat_price_won * (2 + rng_.below(4));
      run(ChargeBalance{v.token, amount, key('c')}, events);
      return;
    }
    const uint32_t roll = rng_.below(100);
    const ReservationId held =
        user.held_count > 0 ? newest(user, ReservationStatus::held) : ReservationId::none;
    if (held != ReservationId::none && roll < pay_percent) {
      if (run(Pay{v.token, held, false, 0, key('p')}, events).ok()) buyers_.push_back(v.name);
    } else if (held != ReservationId::none && roll < pay_percent + cancel_percent) {
      run(CancelReservation{v.token, held}, events);
    } else if (roll >= 100 - leave_active_percent) {
      run(LeaveQueue{v.token}, events);
    } else if (user.held_count < engine_.config().holds_per_user_max) {
      const Day day = first_day + static_cast<Day>(rng_.below(stream_dates));
      run(HoldSeat{v.token, ConcertId{1}, day, rng_.below(stream_seats_per_date) + 1, {}}, events);
    } else {
      run(ListReservations{v.token}, events);
    }
  }

  ReservationId newest(const User& user, ReservationStatus status) const {
    for (ReservationId id = user.last_reservation; id != ReservationId::none;) {
      const Reservation* r = engine_.state().reservation(id);
      if (r->status == status) return id;
      id = r->prev_of_user;
    }
    return ReservationId::none;
  }

  IdempotencyKey key(char kind) {
    char text[24];
    const int n = std::snprintf(text, sizeof text, "%c%" PRIu64, kind, keys_++);
    return IdempotencyKey::from(std::string_view(text, static_cast<size_t>(n)));
  }

  Engine engine_;
  Rng rng_;
  TimeMs now_ms_ = start_ms;
  std::vector<Visitor> live_;     // visitors who may act again
  std::vector<uint32_t> buyers_;  // names of visitors who paid
  uint32_t names_ = 0;
  uint64_t keys_ = 0;
};

// What a built log records about itself (its meta record).
struct BuildInfo {
  uint64_t requested = 0;
  uint64_t seed = 0;
  uint64_t last_seq = 0;
  uint64_t snapshot_seq = 0;
  uint64_t digest = 0;

  std::string encode() const {
    char text[256];
    std::snprintf(text, sizeof text,
                  "v=%" PRIu32 " events=%" PRIu64 " seed=%" PRIu64 " last_seq=%" PRIu64
                  " snapshot_seq=%" PRIu64 " digest=%016" PRIx64,
                  stream_version, requested, seed, last_seq, snapshot_seq, digest);
    return text;
  }
  bool decode(const std::string& text) {
    uint32_t version = 0;
    const int n = std::sscanf(text.c_str(),
                              "v=%" SCNu32 " events=%" SCNu64 " seed=%" SCNu64 " last_seq=%" SCNu64
                              " snapshot_seq=%" SCNu64 " digest=%" SCNx64,
                              &version, &requested, &seed, &last_seq, &snapshot_seq, &digest);
    return n == 6 && version == stream_version;
  }
};

Status open_log(const std::string& dir, storage::OpenMode mode, bool fsync,
                std::unique_ptr<EventLog>* log) {
  storage::EventLogOptions o;
  o.dir = dir;
  o.mode = mode;
  o.fsync = fsync;
  return EventLog::open(o, log);
}

// The build in `dir`, if it is complete and was made for these options.
std::optional<BuildInfo> find_build(const fs::path& dir, const ReplayBenchOptions& options,
                                    std::string* mix) {
  std::unique_ptr<EventLog> log;
  std::unique_ptr<EventLog> full;
  if (!open_log((dir / "log").string(), storage::OpenMode::read_only, false, &log).is_ok() ||
      !open_log((dir / "full").string(), storage::OpenMode::read_only, false, &full).is_ok()) {
    return std::nullopt;
  }
  std::string text;
  BuildInfo info;
  if (!log->get_meta(meta_key_build, &text).is_ok() || !info.decode(text)) return std::nullopt;
  std::vector<storage::SnapshotInfo> snapshots;
  std::vector<storage::SnapshotInfo> none;
  const bool complete = info.requested == options.events && info.seed == options.seed &&
                        log->last_seq() == info.last_seq && full->last_seq() == info.last_seq &&
                        log->list_snapshots(&snapshots).is_ok() && !snapshots.empty() &&
                        snapshots.back().seq == info.snapshot_seq &&
                        full->list_snapshots(&none).is_ok() && none.empty() &&
                        log->get_meta(meta_key_mix, mix).is_ok();
  if (!complete) return std::nullopt;
  return info;
}

// Runs the stream until the log holds options.events events, appending in
// big batches; keeps the snapshot of the state at the snapshot point.
std::string write_stream(EventLog& log, const ReplayBenchOptions& options, BuildInfo* info,
                         std::vector<uint8_t>* snapshot, std::string* mix) {
  const uint64_t gap = std::min(snapshot_gap_events, options.events / 2);
  const uint64_t snapshot_at = std::max<uint64_t>(1, options.events - gap);
  SaleStream stream(options.seed);
  std::vector<Event> events;
  std::array<uint64_t, std::variant_size_v<EventBody>> counts{};
  std::array<uint64_t, 5> ends{};  // TokenExpired by TokenEnd
  storage::EventBatch batch;
  batch.reset(1);
  stream.open(events);
  const State& state = stream.engine().state();
  while (true) {
    for (const Event& e : events) {
      encode_event(e, batch.bytes());
      batch.seal_event();
      counts[e.body.index()]++;
      if (const auto* expired = std::get_if<TokenExpired>(&e.body)) {
        ends[raw_end(expired->reason)]++;
      }
    }
    events.clear();
    if (info->snapshot_seq == 0 && state.last_seq() >= snapshot_at) {
      info->snapshot_seq = state.last_seq();
      SnapshotCodec::encode(state, *snapshot);
    }
    const bool done = state.last_seq() >= options.events;
    if (batch.count() >= build_batch_events || done) {
      if (const Status s = log.append(batch); !s.is_ok()) return s.to_string();
      batch.reset(state.last_seq() + 1);
    }
    if (done) break;
    stream.step(events);
  }
  info->last_seq = state.last_seq();
  info->digest = state_digest(state);
  for (size_t t = 0; t < counts.size(); t++) {
    if (counts[t] == 0) continue;
    if (!mix->empty()) *mix += ", ";
    *mix += std::string(event_names[t]) + " " + std::to_string(counts[t]);
    if (t == EventBody(TokenExpired{}).index()) {
      *mix += " (window " + std::to_string(ends[1]) + ", idle " + std::to_string(ends[2]) +
              ", left " + std::to_string(ends[3]) + ", used " + std::to_string(ends[4]) + ")";
    }
  }
  return "";
}

// Builds dir/log and dir/full from scratch.
std::string build(const fs::path& dir, const ReplayBenchOptions& options, BuildInfo* info,
                  std::string* mix) {
  std::error_code ec;
  fs::remove_all(dir / "log", ec);
  fs::remove_all(dir / "full", ec);
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  info->requested = options.events;
  info->seed = options.seed;
  std::vector<uint8_t> snapshot;
  std::unique_ptr<EventLog> log;
  const std::string path = (dir / "log").string();
  if (Status s = open_log(path, storage::OpenMode::read_write, false, &log); !s.is_ok()) {
    return s.to_string();
  }
  if (std::string e = write_stream(*log, options, info, &snapshot, mix); !e.empty()) return e;
  if (Status s = log->close(); !s.is_ok()) return s.to_string();  // flushed: no WAL to replay
  log.reset();
  if (Status s = open_log(path, storage::OpenMode::read_write, true, &log); !s.is_ok()) {
    return s.to_string();
  }
  Status s = log->checkpoint((dir / "full").string());
  if (s.is_ok()) s = log->put_snapshot(info->snapshot_seq, snapshot);
  if (s.is_ok()) s = log->put_meta(meta_key_mix, *mix);
  if (s.is_ok()) s = log->put_meta(meta_key_build, info->encode());  // last: complete
  if (s.is_ok()) s = log->close();
  return s.is_ok() ? "" : s.to_string();
}

// Drops the directory's files from the page cache.
void evict(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

struct Recovered {
  double seconds = 0;      // recover() alone
  double with_open_s = 0;  // EventLog::open through the end of recover()
  net::RecoveryReport report;
};

// The server's start-up on `dir`: open, recover, check the digest.
std::string recover_once(const fs::path& dir, const ReplayBenchOptions& options,
                         const BuildInfo& info, Recovered* out) {
  if (options.cold) evict(dir);
  const auto start = Clock::now();
  std::unique_ptr<EventLog> log;
  if (Status s = open_log(dir.string(), storage::OpenMode::read_write, true, &log); !s.is_ok()) {
    return s.to_string();
  }
  const auto opened = Clock::now();
  std::optional<Engine> engine;
  const std::string error = net::recover(*log, stream_config(), engine, &out->report);
  out->seconds = seconds_since(opened);
  out->with_open_s = seconds_since(start);
  if (!error.empty()) return dir.string() + ": recovery failed: " + error;
  BOXOFFICE_ASSERT(out->report.snapshot_refused.empty());
  BOXOFFICE_ASSERT(engine->state().last_seq() == info.last_seq);
  BOXOFFICE_ASSERT(state_digest(engine->state()) == info.digest);
  const Status closed = log->close();
  return closed.is_ok() ? "" : closed.to_string();
}

double median(std::vector<double> values) {
  BOXOFFICE_ASSERT(!values.empty());
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string default_dir(uint64_t events) {
  std::error_code ec;
  const fs::path base = fs::temp_directory_path(ec);
  const std::string size = events % 1000000 == 0 ? std::to_string(events / 1000000) + "m"
                           : events % 1000 == 0  ? std::to_string(events / 1000) + "k"
                                                 : std::to_string(events);
  const std::string name = "boxoffice-bench-replay-" + size;
  return ec ? name : (base / name).string();  // no temporary directory: the current one
}

// Sizes of dir/log and its snapshot.
void measure_sizes(const fs::path& dir, ReplayBenchResult* out) {
  std::unique_ptr<EventLog> log;
  if (!open_log((dir / "log").string(), storage::OpenMode::read_only, false, &log).is_ok()) {
    return;
  }
  storage::LogStats stats;
  if (log->stats(&stats).is_ok()) {
    out->log_bytes = stats.dir_bytes;
    out->events_sst_bytes = stats.events_sst_bytes;
  }
  std::vector<storage::SnapshotInfo> snapshots;
  if (log->list_snapshots(&snapshots).is_ok() && !snapshots.empty()) {
    out->snapshot_bytes = snapshots.back().stored_bytes;
  }
}

}  // namespace

std::string run_replay_bench(const ReplayBenchOptions& options, ReplayBenchResult* out) {
  BOXOFFICE_ASSERT(options.events >= 2 && options.runs >= 1);
  *out = ReplayBenchResult{};
  const fs::path dir = options.dir.empty() ? default_dir(options.events) : options.dir;
  out->dir = dir.string();
  std::optional<BuildInfo> info = find_build(dir, options, &out->mix);
  if (!info.has_value()) {
    out->mix.clear();
    info.emplace();
    const auto start = Clock::now();
    if (std::string e = build(dir, options, &*info, &out->mix); !e.empty()) return e;
    out->built = true;
    out->build_s = seconds_since(start);
  }
  out->events = info->last_seq;
  out->snapshot_seq = info->snapshot_seq;
  out->runs = options.runs;
  out->cold = options.cold;
  measure_sizes(dir, out);
  std::vector<double> replay_s;
  std::vector<double> replay_open_s;
  std::vector<double> recovery_s;
  for (uint32_t run = 0; run < options.runs; run++) {
    Recovered full;
    if (std::string e = recover_once(dir / "full", options, *info, &full); !e.empty()) return e;
    BOXOFFICE_ASSERT(full.report.snapshot_seq == 0 && full.report.events_replayed == out->events);
    replay_s.push_back(full.seconds);
    replay_open_s.push_back(full.with_open_s - full.seconds);
  }
  for (uint32_t run = 0; run < options.runs; run++) {
    Recovered restart;
    if (std::string e = recover_once(dir / "log", options, *info, &restart); !e.empty()) return e;
    BOXOFFICE_ASSERT(restart.report.snapshot_seq == info->snapshot_seq);
    BOXOFFICE_ASSERT(restart.report.events_replayed == info->last_seq - info->snapshot_seq);
    out->recovery_events = restart.report.events_replayed;
    recovery_s.push_back(restart.with_open_s);
  }
  out->replay_s = median(replay_s);
  out->replay_open_s = median(replay_open_s);
  out->replay_events_per_s = static_cast<double>(out->events) / out->replay_s;
  out->recovery_s = median(recovery_s);
  return "";
}

std::string to_json(const ReplayBenchResult& r) {
  const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "{\"replay_events_per_s\": %.0f, \"replay_s\": %.3f, \"replay_open_s\": %.3f, "
                "\"recovery_s\": %.3f, "
                "\"events\": %llu, \"recovery_events\": %llu, \"snapshot_seq\": %llu, "
                "\"snapshot_bytes\": %llu, \"log_bytes\": %llu, \"events_sst_bytes\": %llu, "
                "\"runs\": %u, \"cold\": %s, \"built\": %s, \"build_s\": %.1f}",
                r.replay_events_per_s, r.replay_s, r.replay_open_s, r.recovery_s, u(r.events),
                u(r.recovery_events), u(r.snapshot_seq), u(r.snapshot_bytes), u(r.log_bytes),
                u(r.events_sst_bytes), r.runs, r.cold ? "true" : "false",
                r.built ? "true" : "false", r.build_s);
  return buf;
}

}  // namespace boxoffice::bench
