#include "bench/load/driver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <mutex>
#include <optional>

#include "engine/assert.hpp"

namespace boxoffice::load {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr uint64_t body_bytes_max = 64 << 20;  // a 10,000-seat map is well under 1 MiB
constexpr int64_t reconnect_delay_max_ns = 1'000'000'000;
constexpr int64_t tick_ns = 250'000'000;  // progress is published, and timeouts checked, this often

asio::steady_timer::time_point to_time_point(int64_t ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(ns));
}

std::string_view method_text(Method method) {
  switch (method) {
    case Method::get:
      return "GET";
    case Method::post:
      return "POST";
    case Method::del:
      return "DELETE";
  }
  return "GET";
}

// The request's bytes, in the form every HTTP/1.1 server accepts.
void serialize(const RequestSpec& s, std::string_view host, std::string& out) {
  out.clear();
  out += method_text(s.method);
  out += ' ';
  out += s.target;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\n";
  if (!s.bearer.empty()) {
    out += "Authorization: Bearer ";
    out += s.bearer;
    out += "\r\n";
  }
  if (!s.admin_key.empty()) {
    out += "X-Admin-Key: ";
    out += s.admin_key;
    out += "\r\n";
  }
  if (!s.idempotency_key.empty()) {
    out += "Idempotency-Key: ";
    out += s.idempotency_key;
    out += "\r\n";
  }
  if (s.method == Method::post) {
    out += "Content-Type: application/json\r\nContent-Length: ";
    out += fmt::format_int(s.body.size()).c_str();
    out += "\r\n";
  }
  out += "\r\n";
  out += s.body;
}

}  // namespace

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Connection;

struct Driver::Impl {
  Impl(DriverConfig c, std::vector<Agent*> agents);
  void start();
  void dispatch();
  void arm_wake(int64_t at_ns);
  void push_agent(Agent* agent, int64_t ready_ns);
  void on_idle(Connection& connection);
  void on_answer(Connection& connection, Agent* agent, Kind kind, unsigned status,
                 std::string_view body, int64_t intended_ns, bool timed_out, bool reusable);
  void on_tick();
  void maybe_finish();
  void publish();
  int64_t ticket_ns(uint64_t ticket) const;

  struct Entry {
    int64_t ready_ns;
    uint64_t order;  // ties go first-in, first-out
    Agent* agent;
    bool operator>(const Entry& o) const {
      return ready_ns != o.ready_ns ? ready_ns > o.ready_ns : order > o.order;
    }
  };

  DriverConfig config;
  asio::io_context io{1};
  tcp::endpoint endpoint;
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<Connection*> idle;
  std::vector<Entry> ready;  // min-heap on (ready_ns, order)
  uint64_t order = 0;
  size_t live = 0;  // agents not done
  size_t in_flight = 0;
  uint64_t next_ticket = 0;
  bool stopping = false;
  bool finished = false;
  asio::steady_timer wake_timer{io};
  bool wake_armed = false;
  int64_t wake_at_ns = 0;
  asio::steady_timer tick_timer{io};
  asio::steady_timer stop_timer{io};
  RequestSpec spec;
  JsonReader json;
  Stats stats;
  Progress live_progress;  // latency: of the warm-up until the first measured answer
  uint64_t connect_errors = 0;
  std::string last_connect_error;
  int64_t last_answer_ns = 0;
  bool progress_measured = false;
  mutable std::mutex published_mutex;
  Progress published;
};

// One keep-alive HTTP/1.1 connection with at most one request in flight.
class Connection {
 public:
  explicit Connection(Driver::Impl& driver)
      : d_(driver), socket_(driver.io), retry_timer_(driver.io) {}

  void connect() {
    socket_.async_connect(d_.endpoint, [this](error_code ec) { on_connect(ec); });
  }

  // REQUIRES: idle (connected, nothing in flight).
  void send(Agent* agent, const RequestSpec& spec, int64_t intended_ns, int64_t now_ns) {
    BOXOFFICE_ASSERT(!busy_);
    busy_ = true;
    timed_out_ = false;
    agent_ = agent;
    kind_ = spec.kind;
    intended_ns_ = intended_ns;
    sent_ns_ = now_ns;
    serialize(spec, d_.config.host_header, out_);
    asio::async_write(socket_, asio::buffer(out_), [this](error_code ec, size_t) {
      if (ec) return fail(ec);
      parser_.emplace();
      parser_->body_limit(body_bytes_max);
      http::async_read(socket_, buffer_, *parser_, [this](error_code e, size_t) { on_read(e); });
    });
  }

  // Closes the connection if its request is older than the timeout.
  void expire(int64_t now_ns) {
    if (busy_ && now_ns - sent_ns_ > d_.config.request_timeout_ns) {
      timed_out_ = true;
      error_code ignored;
      socket_.close(ignored);
    }
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
    retry_timer_.cancel();
  }

 private:
  void on_connect(error_code ec) {
    if (d_.finished) return;
    if (ec) {
      ++d_.connect_errors;
      d_.last_connect_error = ec.message();
      return retry();
    }
    failures_ = 0;
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    d_.on_idle(*this);
  }

  void on_read(error_code ec) {
    if (ec) return fail(ec);
    auto& message = parser_->get();
    busy_ = false;
    const bool reusable = message.keep_alive();
    d_.on_answer(*this, agent_, kind_, message.result_int(), message.body(), intended_ns_, false,
                 reusable);
    if (!reusable && !d_.finished) reconnect();
  }

  void fail(error_code) {
    error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
    if (busy_) {
      busy_ = false;
      d_.on_answer(*this, agent_, kind_, 0, {}, intended_ns_, timed_out_, false);
    }
    if (!d_.finished) retry();
  }

  void reconnect() {
    error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
    connect();
  }

  // Reconnects after a delay that doubles with each failure in a row.
  void retry() {
    if (d_.finished || d_.stopping) return;
    const int64_t delay_ns =
        std::min<int64_t>(reconnect_delay_max_ns, d_.config.retry_ns << std::min(failures_, 6u));
    ++failures_;
    retry_timer_.expires_after(std::chrono::nanoseconds(delay_ns));
    retry_timer_.async_wait([this](error_code ec) {
      if (!ec && !d_.finished) reconnect();
    });
  }

  Driver::Impl& d_;
  tcp::socket socket_;
  asio::steady_timer retry_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string out_;
  Agent* agent_ = nullptr;
  Kind kind_ = Kind::health;
  int64_t intended_ns_ = 0;
  int64_t sent_ns_ = 0;
  bool busy_ = false;
  bool timed_out_ = false;
  uint32_t failures_ = 0;
};

Driver::Impl::Impl(DriverConfig c, std::vector<Agent*> agents)
    : config(std::move(c)), endpoint(asio::ip::make_address(config.address), config.port) {
  for (Agent* agent : agents) push_agent(agent, config.start_ns);
  live = agents.size();
  for (uint32_t i = 0; i < config.connections; ++i) {
    connections.push_back(std::make_unique<Connection>(*this));
  }
}

void Driver::Impl::push_agent(Agent* agent, int64_t ready_ns) {
  ready.push_back({ready_ns, order++, agent});
  std::push_heap(ready.begin(), ready.end(), std::greater<>{});
}

int64_t Driver::Impl::ticket_ns(uint64_t ticket) const {
  const double offset_s = (static_cast<double>(ticket) + config.ticket_offset) / config.rate_per_s;
  return config.start_ns + static_cast<int64_t>(offset_s * 1e9);
}

void Driver::Impl::start() {
  if (live == 0) {
    finished = true;
    return;
  }
  for (auto& c : connections) c->connect();
  tick_timer.expires_at(to_time_point(steady_now_ns() + tick_ns));
  tick_timer.async_wait([this](error_code ec) {
    if (!ec) on_tick();
  });
  if (config.stop_ns != INT64_MAX) {
    stop_timer.expires_at(to_time_point(config.stop_ns));
    stop_timer.async_wait([this](error_code ec) {
      if (ec || finished) return;
      stopping = true;
      maybe_finish();
    });
  }
}

void Driver::Impl::arm_wake(int64_t at_ns) {
  if (wake_armed && wake_at_ns <= at_ns) return;
  wake_armed = true;
  wake_at_ns = at_ns;
  wake_timer.expires_at(to_time_point(at_ns));
  wake_timer.async_wait([this](error_code ec) {
    if (ec) return;  // re-armed earlier, or finished
    wake_armed = false;
    dispatch();
  });
}

void Driver::Impl::dispatch() {
  const int64_t now = steady_now_ns();
  const bool open_loop = config.rate_per_s > 0;
  while (!idle.empty() && !stopping && !finished && !ready.empty()) {
    int64_t intended = now;
    if (open_loop) {
      intended = ticket_ns(next_ticket);
      if (intended > now) {
        arm_wake(intended);
        break;
      }
    }
    if (ready.front().ready_ns > now) {
      arm_wake(ready.front().ready_ns);
      break;
    }
    std::pop_heap(ready.begin(), ready.end(), std::greater<>{});
    Agent* agent = ready.back().agent;
    ready.pop_back();
    const Step step = agent->next(now, spec);
    if (step.type == Step::wait) {
      push_agent(agent, std::max(step.until_ns, now + 1000));
      continue;
    }
    if (step.type == Step::done) {
      --live;
      continue;
    }
    if (open_loop) ++next_ticket;
    Connection* connection = idle.back();
    idle.pop_back();
    ++in_flight;
    connection->send(agent, spec, intended, now);
  }
  maybe_finish();
}

void Driver::Impl::on_idle(Connection& connection) {
  idle.push_back(&connection);
  dispatch();
}

void Driver::Impl::on_answer(Connection& connection, Agent* agent, Kind kind, unsigned status,
                             std::string_view body, int64_t intended_ns, bool timed_out,
                             bool reusable) {
  const int64_t now = steady_now_ns();
  last_answer_ns = now;
  const ErrorCode code = status >= 400 ? json.error_code(body) : ErrorCode::none;
  const auto latency = static_cast<uint64_t>(std::max<int64_t>(0, now - intended_ns));
  const bool ok = status >= 200 && status < 300;
  ++live_progress.requests;
  live_progress.accepted += ok ? 1 : 0;
  live_progress.errors += (status == 0 || status >= 500) ? 1 : 0;
  const bool measured = intended_ns >= config.measure_from_ns && intended_ns < config.stop_ns;
  if (measured) {
    stats.record(kind, status, code, latency);
    stats.timeouts += timed_out ? 1 : 0;
  }
  if (measured && !progress_measured) live_progress.latency_ns.reset();  // the warm-up's is done
  progress_measured = progress_measured || measured;
  live_progress.latency_ns.record(latency);
  --in_flight;
  agent->on_response(kind, Response{status, code, body}, now);
  const bool retry = status == 0 || status == 503;
  push_agent(agent, retry ? now + config.retry_ns : now);
  if (reusable) idle.push_back(&connection);
  dispatch();
}

void Driver::Impl::on_tick() {
  // A tick already due when maybe_finish() cancelled the timer still runs
  // (with no error): it must not re-arm, or io.run() never returns.
  if (finished) return;
  const int64_t now = steady_now_ns();
  for (auto& c : connections) c->expire(now);
  publish();
  tick_timer.expires_at(to_time_point(now + tick_ns));
  tick_timer.async_wait([this](error_code ec) {
    if (!ec) on_tick();
  });
}

void Driver::Impl::publish() {
  std::lock_guard lock(published_mutex);
  published = live_progress;
}

void Driver::Impl::maybe_finish() {
  if (finished || in_flight != 0 || (live != 0 && !stopping)) return;
  finished = true;
  for (auto& c : connections) c->close();
  wake_timer.cancel();
  tick_timer.cancel();
  stop_timer.cancel();
  publish();
}

Driver::Driver(DriverConfig config, std::vector<Agent*> agents)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(agents))) {}

Driver::~Driver() = default;

void Driver::run() {
  impl_->start();
  impl_->io.run();
}

const Stats& Driver::stats() const { return impl_->stats; }
int64_t Driver::last_answer_ns() const { return impl_->last_answer_ns; }
uint64_t Driver::connect_errors() const { return impl_->connect_errors; }
std::string Driver::last_connect_error() const { return impl_->last_connect_error; }

Progress Driver::progress() const {
  std::lock_guard lock(impl_->published_mutex);
  return impl_->published;
}

}  // namespace boxoffice::load
