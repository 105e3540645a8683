#include "net/server.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "engine/civil_date.hpp"
#include "engine/event_codec.hpp"
#include "net/core_loop.hpp"
#include "net/listener.hpp"
#include "net/recovery.hpp"
#include "net/secret_file.hpp"
#include "net/session.hpp"
#include "net/snapshotter.hpp"
#include "storage/event_log.hpp"
#include "storage/group_commit.hpp"

namespace boxoffice::net {

namespace asio = boost::asio;

namespace {

// File descriptors kept for everything but client connections (the log's
// files, the listener, the secret...).
constexpr uint64_t fds_reserved = 256;

TimeMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A key for the hash of client-chosen strings in the engine's indexes,
// drawn anew at every start: nothing outside the process can know it, and no
// outcome depends on it (engine/keyed_hash.hpp).
HashKey random_hash_key() {
  std::random_device device;
  const auto word = [&device] {
    return (static_cast<uint64_t>(device()) << 32) | static_cast<uint64_t>(device());
  };
  HashKey key;
  key.k0 = word();
  key.k1 = word();
  return key;
}

void setup_logging(const std::string& level) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
}

// Raises the open-files limit to its hard maximum and lowers connections_max
// to what fits.
void fit_open_files(ServerOptions& options) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  const uint64_t fit = rl.rlim_cur > fds_reserved ? rl.rlim_cur - fds_reserved : 1;
  if (options.connections_max > fit) {
    spdlog::warn("connections-max lowered from {} to {} to fit the open-files limit ({})",
                 options.connections_max, fit, static_cast<uint64_t>(rl.rlim_cur));
    options.connections_max = static_cast<uint32_t>(fit);
  }
}

// On an empty log: a demo concert with three dates, 30 to 32 days ahead.
std::string seed_demo_catalog(storage::EventLog& log, Engine& engine) {
  const TimeMs now = wall_clock_ms();
  const Day today = static_cast<Day>(now / limits::ms_per_day);
  Command command;
  command.time_ms = now;
  CreateConcert create;
  create.title = "boxoffice demo concert";
  for (Day d = today + 30; d <= today + 32; d++) create.dates.push_back(NewDate{d, 50, 150000});
  command.body = std::move(create);
  std::vector<Event> events;
  const Result r = engine.execute(command, events);
  BOXOFFICE_ASSERT(r.ok());
  storage::EventBatch batch;
  batch.reset(log.last_seq() + 1);
  for (const Event& e : events) {
    encode_event(e, batch.bytes());
    batch.seal_event();
  }
  const storage::Status s = log.append(batch);
  if (!s.is_ok()) return s.to_string();
  char first[10];
  format_day(today + 30, first);
  spdlog::info("seeded the demo catalog: concert {} with 3 dates of 50 seats from {}",
               raw(r.concert), std::string_view(first, sizeof first));
  return "";
}

// Everything that runs once the log is open and the state recovered.
class Running {
 public:
  Running(const ServerOptions& options, storage::EventLog& log, Engine& engine,
          const TokenSecret& secret)
      : options_(options), log_(log), ingress_(options.io_threads, options.ingress_queue_max) {
    shared_.ingress = &ingress_;
    shared_.core_metrics = &core_metrics_;
    shared_.idle_timeout_ms = options.idle_timeout_ms;
    shared_.fsync = options.fsync;
    core_metrics_.last_seq.set(static_cast<int64_t>(log.last_seq()));
    for (uint32_t i = 0; i < options.io_threads; i++) {
      threads_.push_back(std::make_unique<IoThread>(i, secret, options.admin_key, shared_));
      thread_ptrs_.push_back(threads_.back().get());
      shared_.io_metrics.push_back(&threads_.back()->metrics);
    }
    listener_.emplace(thread_ptrs_, options.connections_max);
    core_.emplace(engine, ingress_, secret, shared_, core_metrics_, thread_ptrs_,
                  options_.inline_commit_commands_max);
  }

  std::string listen(BoundSocket socket) { return listener_->listen(socket); }
  asio::ip::tcp::endpoint endpoint() const { return listener_->local_endpoint(); }

  void start(Snapshotter* snapshotter) {
    committer_.emplace(
        log_, [this, snapshotter](storage::EventBatch* b, uint64_t tag, const storage::Status& s) {
          if (s.is_ok() && snapshotter != nullptr) snapshotter->durable(b->last_seq());
          core_->on_durable(b, tag, s);
        });
    core_->set_committer(&*committer_);
    core_thread_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "bo-core");
      core_->run();
    });
    listener_->start();
    for (auto& t : threads_) {
      guards_.emplace_back(asio::make_work_guard(t->ioc));
      IoThread* io = t.get();
      t->thread = std::thread([io] {
        const std::string name = "bo-io-" + std::to_string(io->index);
        ::pthread_setname_np(::pthread_self(), name.c_str());
        io->ioc.run();
      });
    }
  }

  // Stops accepting, lets connections finish, drains the core, stops.
  void stop() {
    shared_.stopping.store(true);
    asio::post(threads_.front()->ioc, [this] { listener_->stop(); });
    for (auto& t : threads_) {
      IoThread* io = t.get();
      asio::post(io->ioc, [io] {
        const std::vector<Session*> open(io->sessions.begin(), io->sessions.end());
        for (Session* s : open) s->stop();
      });
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(shutdown_grace_ms);
    while (shared_.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (shared_.connections.load() > 0) {
      spdlog::warn("{} connections still open after {} ms; closing them",
                   shared_.connections.load(), shutdown_grace_ms);
    }
    core_->stop();
    core_thread_.join();
    committer_->stop();
    guards_.clear();
    for (auto& t : threads_) t->ioc.stop();
    for (auto& t : threads_) t->thread.join();
    // Requests queued after the core stopped (connections that outlived the
    // grace period) are dropped here, while their threads' state exists.
    ingress_.drain(SIZE_MAX, [](IngressItem& item) { item.session.reset(); });
  }

  bool failed() const { return shared_.failed.load(); }

 private:
  const ServerOptions& options_;
  storage::EventLog& log_;
  ServerShared shared_;
  CoreMetrics core_metrics_;
  Ingress ingress_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::vector<IoThread*> thread_ptrs_;
  std::optional<Listener> listener_;
  std::optional<CoreLoop> core_;
  std::optional<storage::GroupCommitter> committer_;
  std::thread core_thread_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
};

// Catches SIGINT and SIGTERM from construction on (a signal during start-up
// waits until wait() is called).
class SignalWaiter {
 public:
  SignalWaiter() : signals_(ioc_, SIGINT, SIGTERM) {}
  void wait() {
    signals_.async_wait([](const boost::system::error_code&, int signal) {
      spdlog::info("signal {}: stopping", signal);
    });
    ioc_.run();
  }

 private:
  asio::io_context ioc_{1};
  asio::signal_set signals_;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<storage::EventLog> log;
  std::optional<Engine> engine;
  std::optional<Running> running;
  std::optional<Snapshotter> snapshotter;
  bool started = false;

  int start();
};

Server::Server(const ServerOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

Server::~Server() {
  if (impl_->started) stop();
}

int Server::start() {
  const int code = impl_->start();
  impl_->started = code == 0;
  return code;
}

int Server::Impl::start() {
  std::signal(SIGPIPE, SIG_IGN);
  fit_open_files(options);
  // The address first: a taken one fails the start before anything is written.
  std::string bind_error;
  BoundSocket bound = bind_socket(options.listen_host, options.listen_port, &bind_error);
  if (bound.fd < 0) {
    spdlog::error("--listen {}:{}: {}", options.listen_host, options.listen_port, bind_error);
    return 2;
  }
  struct CloseUnlessTaken {
    BoundSocket& socket;
    ~CloseUnlessTaken() {
      if (socket.fd >= 0) ::close(socket.fd);
    }
  } close_unless_taken{bound};
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    spdlog::error("--data-dir {}: cannot create it: {}", options.data_dir, ec.message());
    return 2;
  }
  storage::EventLogOptions log_options;
  log_options.dir = options.data_dir;
  log_options.fsync = options.fsync;
  if (const storage::Status s = storage::EventLog::open(log_options, &log); !s.is_ok()) {
    spdlog::error("--data-dir {}: cannot open the event log: {}", options.data_dir, s.to_string());
    return 2;
  }
  if (!log->wal_damage().empty()) {
    spdlog::critical("the event log is damaged on disk: {}", log->wal_damage());
  }
  const SecretResult secret = load_or_create_secret(options.data_dir);
  if (!secret.error.empty()) {
    spdlog::error("--data-dir {}: token secret: {}", options.data_dir, secret.error);
    return 2;
  }
  if (secret.created) spdlog::info("created a new token secret in {}", options.data_dir);

  options.engine.hash_key = random_hash_key();
  const auto recovery_start = std::chrono::steady_clock::now();
  RecoveryReport recovery;
  const std::string recovery_error = recover(*log, options.engine, engine, &recovery);
  if (!recovery.snapshot_refused.empty()) {
    spdlog::error("snapshot refused ({}); replayed the whole log instead",
                  recovery.snapshot_refused);
  }
  if (!recovery_error.empty()) {
    spdlog::critical("recovery failed: {}", recovery_error);
    return 1;
  }
  engine->begin_serving(wall_clock_ms());
  spdlog::info("recovered to seq {}: snapshot at seq {}, then {} events replayed, in {} ms",
               log->last_seq(), recovery.snapshot_seq, recovery.events_replayed,
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - recovery_start)
                   .count());
  if (options.demo_catalog && log->last_seq() == 0) {
    if (const std::string error = seed_demo_catalog(*log, *engine); !error.empty()) {
      spdlog::critical("cannot seed the demo catalog: {}", error);
      return 1;
    }
  }

  running.emplace(options, *log, *engine, secret.secret);
  const BoundSocket socket = std::exchange(bound, BoundSocket{});  // the listener's now
  if (const std::string error = running->listen(socket); !error.empty()) {
    spdlog::error("--listen {}:{}: {}", options.listen_host, options.listen_port, error);
    running.reset();
    return 2;
  }
  snapshotter.emplace(*log, options.engine, options.snapshot_every_events);
  running->start(&*snapshotter);
  spdlog::info("boxoffice serving on {}:{} ({})", running->endpoint().address().to_string(),
               running->endpoint().port(), options.describe());
  if (!options.fsync) {
    spdlog::warn(
        "--fsync off: acknowledged writes are NOT synced to disk and may be lost on a "
        "crash or power failure; use only for benchmarks");
  }
  return 0;
}

uint16_t Server::port() const { return impl_->running->endpoint().port(); }

storage::EventLog& Server::log_for_test() { return *impl_->log; }

int Server::stop() {
  BOXOFFICE_ASSERT(impl_->started);
  impl_->started = false;
  impl_->running->stop();
  const bool failed = impl_->running->failed();
  impl_->snapshotter.reset();
  const storage::Status closed = impl_->log->close();
  if (!closed.is_ok()) spdlog::error("closing the event log: {}", closed.to_string());
  spdlog::info("stopped");
  return failed || !closed.is_ok() ? 1 : 0;
}

int run_server(const ServerOptions& options) {
  SignalWaiter signals;
  setup_logging(options.log_level);
  Server server(options);
  if (const int code = server.start(); code != 0) return code;
  signals.wait();
  return server.stop();
}

}  // namespace boxoffice::net
