// boxoffice-hostile: hostile clients against a boxoffice server, the attack
// half of the torture probe (bench/hostile-probe).
//
// For --duration seconds, or until SIGINT/SIGTERM, against --host:--port it
// keeps up:
// - --idle connections that connect and send nothing. When the server closes
//   one it is counted, with how long it lived, and opened again.
// - --slowloris connections that send a request header one byte every
//   --trickle-ms and never finish it. Each cut by the server is timed from
//   the connect, and the connection is opened again.
// - --abuse-rate new connections a second, taking turns: a header block over
//   16 KiB, a Content-Length over 64 KiB with all its bytes, and a valid
//   request followed by binary junk. The statuses of the answers are counted
//   by kind, with how each connection ended.
// A connection closed within a second of its connect (a refusal beyond the
// server's --connections-max looks like this) backs its reconnects off.
//
// Then it prints a summary on stdout (--json: one object). "ready" goes to
// stderr once every idle and slowloris connection is open, then a progress
// line a second.
//
// One thread and one io_context. Every connection lives in a slot made at
// start-up; an abuse connection due while every abuse slot is busy is
// counted as skipped, not queued. Exit codes: 0 done, 1 no connection ever
// succeeded, 2 a bad command line.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/assert.hpp"

namespace boxoffice::hostile {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Limits, with their units.
constexpr uint32_t connections_per_role_max = 100'000;
constexpr uint32_t duration_s_max = 86'400;
constexpr uint32_t trickle_ms_max = 60'000;
constexpr uint32_t abuse_rate_per_s_max = 10'000;
constexpr uint32_t reconnect_ms_max = 60'000;
constexpr uint32_t ramp_ms_max = 600'000;
constexpr uint32_t connects_in_flight_max = 256;
constexpr uint32_t abuse_in_flight_max = 1024;  // abuse slots
constexpr int64_t abuse_deadline_ms = 10'000;   // an abuse connection still open then is cut
constexpr int64_t abuse_tick_ms = 10;
constexpr int64_t progress_interval_ms = 1000;
constexpr int64_t short_lived_ms = 1000;  // a connection that lived less backs off
constexpr int64_t reconnect_backoff_min_ms = 50;
constexpr int64_t reconnect_backoff_max_ms = 5000;
constexpr size_t read_chunk_bytes = 2048;
constexpr size_t answer_bytes_max = 16 * 1024;  // of an abuse connection's answers, kept
constexpr size_t big_header_bytes = 20 * 1024;  // over the 16 KiB limit
constexpr size_t big_body_bytes = 96 * 1024;    // over the server's 64 KiB
constexpr size_t junk_bytes = 4096;
constexpr size_t samples_max = 1 << 20;  // durations kept per role for percentiles
constexpr uint16_t status_max = 599;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  uint32_t duration_s = 30;
  uint32_t idle = 2000;
  uint32_t slowloris = 200;
  uint32_t trickle_ms = 500;
  uint32_t abuse_rate_per_s = 200;
  uint32_t reconnect_ms = 100;
  uint32_t ramp_ms = 0;
  bool json = false;
};

constexpr std::string_view help_text =
    "boxoffice-hostile: hostile clients against a boxoffice server (see bench/hostile/README.md)\n"
    "\n"
    "  --host ADDR          numeric address of the server (default 127.0.0.1)\n"
    "  --port N             its port (default 8080)\n"
    "  --duration S         seconds to run, 1 to 86400 (default 30; SIGINT/SIGTERM stop sooner)\n"
    "  --idle N             idle keep-alive connections, 0 to 100000 (default 2000)\n"
    "  --slowloris N        connections trickling a header, 0 to 100000 (default 200)\n"
    "  --trickle-ms MS      a slowloris byte every MS, 1 to 60000 (default 500)\n"
    "  --abuse-rate R       oversized/junk connections a second, 0 to 10000 (default 200)\n"
    "  --reconnect-ms MS    wait before reopening a closed connection, 0 to 60000 (default 100)\n"
    "  --ramp-ms MS         open the idle and slowloris connections evenly over MS, 0 to 600000\n"
    "                       (default 0: all at once, so the server's idle timeout cuts them\n"
    "                       all at once too)\n"
    "  --json               print the summary as one JSON object\n"
    "  --help               this text\n";

struct NumberFlag {
  std::string_view name;
  uint32_t lo;
  uint32_t hi;
  uint32_t Options::*field;
};

constexpr std::array<NumberFlag, 7> number_flags{{
    {"--duration", 1, duration_s_max, &Options::duration_s},
    {"--idle", 0, connections_per_role_max, &Options::idle},
    {"--slowloris", 0, connections_per_role_max, &Options::slowloris},
    {"--trickle-ms", 1, trickle_ms_max, &Options::trickle_ms},
    {"--abuse-rate", 0, abuse_rate_per_s_max, &Options::abuse_rate_per_s},
    {"--reconnect-ms", 0, reconnect_ms_max, &Options::reconnect_ms},
    {"--ramp-ms", 0, ramp_ms_max, &Options::ramp_ms},
}};

std::optional<uint32_t> parse_u32(std::string_view text, uint32_t lo, uint32_t hi) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
    return std::nullopt;
  }
  return v;
}

// One flag with its value; an error message, or empty.
std::string parse_flag(std::string_view name, std::string_view value, Options& o) {
  if (name == "--host") {
    if (value.empty()) return "--host: must not be empty";
    o.host = value == "localhost" ? "127.0.0.1" : std::string(value);
    return "";
  }
  if (name == "--port") {
    const auto v = parse_u32(value, 1, 65535);
    if (!v) return fmt::format("--port: expected 1 to 65535, got '{}'", value);
    o.port = static_cast<uint16_t>(*v);
    return "";
  }
  for (const NumberFlag& f : number_flags) {
    if (f.name != name) continue;
    const auto v = parse_u32(value, f.lo, f.hi);
    if (!v) return fmt::format("{}: expected {} to {}, got '{}'", name, f.lo, f.hi, value);
    o.*f.field = *v;
    return "";
  }
  return fmt::format("unknown flag '{}'", name);
}

struct ParseResult {
  std::optional<Options> options;
  std::string error;
  bool help = false;
};

ParseResult parse_options(int argc, char** argv) {
  ParseResult r;
  Options o;
  for (int i = 1; i < argc; i++) {
    const std::string_view arg = argv[i];
    if (arg == "--help") return r.help = true, r;
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= argc) return r.error = fmt::format("{}: needs a value", arg), r;
    r.error = parse_flag(arg, argv[++i], o);
    if (!r.error.empty()) return r;
  }
  r.options = o;
  return r;
}

// Raises the open-files limit to its hard maximum; returns the limit.
uint64_t raise_open_files() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<uint64_t>(rl.rlim_cur);
}

double process_cpu_s() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int64_t ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

// Durations in milliseconds; the first samples_max are kept for percentiles.
struct Samples {
  std::vector<uint32_t> ms;
  uint64_t count = 0;

  void add(int64_t v) {
    count++;
    if (ms.size() < samples_max) ms.push_back(static_cast<uint32_t>(std::max<int64_t>(v, 0)));
  }
  std::string json() const {
    if (ms.empty()) return fmt::format(R"({{"count":{}}})", count);
    std::vector<uint32_t> s = ms;
    std::sort(s.begin(), s.end());
    const auto at = [&s](double p) {
      return s[std::min(s.size() - 1, static_cast<size_t>(p * static_cast<double>(s.size())))];
    };
    return fmt::format(R"({{"count":{},"min":{},"p50":{},"p99":{},"max":{}}})", count, s.front(),
                       at(0.50), at(0.99), s.back());
  }
};

enum class Role : uint8_t { idle, slowloris, abuse };
constexpr size_t role_count = 3;
constexpr std::array<std::string_view, role_count> role_names{"idle", "slowloris", "abuse"};
constexpr size_t at(Role r) { return static_cast<size_t>(r); }

enum class Abuse : uint8_t { big_header, big_body, pipelined_junk };
constexpr size_t abuse_count = 3;
constexpr std::array<std::string_view, abuse_count> abuse_names{"big_header", "big_body",
                                                                "pipelined_junk"};

enum class End : uint8_t { closed, reset, timeout };

struct RoleStats {
  uint32_t target = 0;
  uint64_t connected = 0;
  uint64_t connect_failed = 0;
  uint32_t open = 0;
  uint32_t open_peak = 0;
  uint64_t closed = 0;          // the server closed it (end of stream)
  uint64_t reset = 0;           // reset, or a read or write failed
  uint64_t closed_soon = 0;     // of those, within short_lived_ms of the connect
  uint64_t bytes_sent = 0;      // slowloris: the trickle
  uint64_t bytes_received = 0;  // idle, slowloris: the server sent something (unexpected)
  Samples lifetime;             // connect to the server's close
};

struct AbuseStats {
  uint64_t started = 0;
  uint64_t skipped = 0;  // due while every abuse slot was busy
  std::array<uint64_t, status_max + 1> status{};
  uint64_t no_answer = 0;
  uint64_t closed = 0;
  uint64_t reset = 0;
  uint64_t timeout = 0;
  uint64_t write_failed = 0;
};

// Counts every "HTTP/1.x NNN" status line in `answers`; returns how many.
uint64_t count_statuses(std::string_view answers, AbuseStats& stats) {
  uint64_t found = 0;
  for (size_t at = answers.find("HTTP/1."); at != std::string_view::npos;
       at = answers.find("HTTP/1.", at + 1)) {
    if (answers.size() < at + 12 || answers[at + 8] != ' ') continue;
    const auto status = parse_u32(answers.substr(at + 9, 3), 100, status_max);
    if (!status) continue;
    stats.status[*status]++;
    found++;
  }
  return found;
}

enum class State : uint8_t { free, waiting, connecting, open, ending };

// One connection slot. A slot is reused only once no operation is in flight
// on it (ops == 0).
struct Conn {
  Conn(asio::io_context& ioc, Role r, uint32_t i) : socket(ioc), timer(ioc), role(r), index(i) {}

  tcp::socket socket;
  asio::steady_timer timer;  // reconnect delay, trickle, or abuse deadline
  const Role role;
  const uint32_t index;  // among the slots of its role
  State state = State::free;
  Abuse abuse = Abuse::big_header;
  uint32_t ops = 0;
  Clock::time_point connected_at{};
  int64_t backoff_ms = 0;
  uint64_t sent = 0;    // slowloris: bytes of the trickle sent on this connection
  std::string answers;  // abuse: the answers' bytes, up to answer_bytes_max
  std::array<char, read_chunk_bytes> chunk{};
};

constexpr std::string_view host_header = "Host: boxoffice\r\n";

// The bytes each abuse connection sends, by Abuse kind.
std::array<std::string, abuse_count> abuse_requests() {
  const std::string host(host_header);
  std::array<std::string, abuse_count> r;
  r[static_cast<size_t>(Abuse::big_header)] = "GET /healthz HTTP/1.1\r\n" + host +
                                              "X-Big: " + std::string(big_header_bytes, 'a') +
                                              "\r\n\r\n";
  r[static_cast<size_t>(Abuse::big_body)] =
      "POST /v1/queue/tokens HTTP/1.1\r\n" + host +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(big_body_bytes) +
      "\r\n\r\n" + std::string(big_body_bytes, ' ');
  // Junk after a valid request: a NUL first (no request line starts so),
  // then bytes of a fixed xorshift stream.
  std::string junk = "GET /healthz HTTP/1.1\r\n" + host + "\r\n";
  junk += '\0';
  uint64_t x = 0x9E3779B97F4A7C15ull;
  while (junk.size() < junk_bytes) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    junk += static_cast<char>(x & 0xFF);
  }
  r[static_cast<size_t>(Abuse::pipelined_junk)] = std::move(junk);
  return r;
}

class Hostile {
 public:
  explicit Hostile(const Options& o);
  // Runs until --duration has passed or a signal came, and everything closed.
  void run();
  bool ever_connected() const;
  std::string json() const;
  std::string text() const;

 private:
  template <typename F>
  auto tracked(Conn& c, F f);
  void open_kept();
  void queue_connect(Conn& c);
  void pump_connects();
  void on_connected(Conn& c, const error_code& ec);
  void read(Conn& c);
  void on_read(Conn& c, const error_code& ec, size_t n);
  void trickle(Conn& c);
  void send_abuse(Conn& c);
  void end(Conn& c, End how);
  void settle(Conn& c);
  void reopen_later(Conn& c);
  void back_off(Conn& c, int64_t lived_ms);
  void abuse_tick();
  void start_abuse();
  void progress();
  void check_ready();
  void confirm_ready();
  // Every idle and slowloris connection is open.
  bool kept_all_open() const {
    const RoleStats& idle = roles_[at(Role::idle)];
    const RoleStats& slow = roles_[at(Role::slowloris)];
    return idle.open >= idle.target && slow.open >= slow.target;
  }
  // Closes by the server of idle and slowloris connections so far.
  uint64_t closes_of_kept() const {
    return roles_[at(Role::idle)].closed + roles_[at(Role::idle)].reset +
           roles_[at(Role::slowloris)].closed + roles_[at(Role::slowloris)].reset;
  }
  void stop();
  const char* trickle_byte(uint64_t pos) const;
  RoleStats& stats(const Conn& c) { return roles_[at(c.role)]; }
  std::string role_json(Role role) const;
  std::string abuse_json(Abuse kind) const;

  const Options o_;
  asio::io_context ioc_{1};
  tcp::endpoint endpoint_;
  asio::signal_set signals_{ioc_, SIGINT, SIGTERM};
  asio::steady_timer duration_timer_{ioc_};
  asio::steady_timer abuse_timer_{ioc_};
  asio::steady_timer progress_timer_{ioc_};
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> abuse_free_;
  std::deque<Conn*> connect_queue_;  // at most one entry per slot
  uint32_t connecting_ = 0;
  bool stopping_ = false;
  Clock::time_point start_{};
  Clock::time_point abuse_next_{};
  asio::steady_timer ready_timer_{ioc_};
  bool ready_armed_ = false;
  uint64_t ready_closes_ = 0;      // closes_of_kept() when the ready timer was armed
  std::optional<double> ready_s_;  // when every idle and slowloris connection stayed open
  double elapsed_s_ = 0;
  double cpu_s_ = 0;
  uint64_t attempted_ = 0;
  uint32_t open_ = 0;
  uint32_t open_peak_ = 0;
  uint32_t abuse_open_peak_ = 0;
  uint64_t abuse_due_ = 0;  // abuse connections due so far
  uint32_t slowloris_open_at_end_ = 0;
  int64_t slowloris_oldest_ms_ = 0;
  uint64_t open_files_max_ = 0;
  std::string last_error_;
  std::array<RoleStats, role_count> roles_{};
  std::array<AbuseStats, abuse_count> abuse_{};
  std::array<std::string, abuse_count> abuse_bytes_;
  std::string trickle_prefix_;
  std::string trickle_line_;
};

Hostile::Hostile(const Options& o) : o_(o) {
  error_code ec;
  endpoint_ = tcp::endpoint(asio::ip::make_address(o.host, ec), o.port);
  BOXOFFICE_ASSERT(!ec);
  roles_[at(Role::idle)].target = o.idle;
  roles_[at(Role::slowloris)].target = o.slowloris;
  const uint32_t abuse_slots = o.abuse_rate_per_s == 0 ? 0 : abuse_in_flight_max;
  roles_[at(Role::abuse)].target = abuse_slots;
  conns_.reserve(size_t{o.idle} + o.slowloris + abuse_slots);
  for (uint32_t i = 0; i < o.idle; i++) {
    conns_.push_back(std::make_unique<Conn>(ioc_, Role::idle, i));
  }
  for (uint32_t i = 0; i < o.slowloris; i++) {
    conns_.push_back(std::make_unique<Conn>(ioc_, Role::slowloris, i));
  }
  for (uint32_t i = 0; i < abuse_slots; i++) {
    conns_.push_back(std::make_unique<Conn>(ioc_, Role::abuse, i));
    abuse_free_.push_back(conns_.back().get());
    conns_.back()->answers.reserve(answer_bytes_max);
  }
  abuse_bytes_ = abuse_requests();
  trickle_prefix_ = "GET /healthz HTTP/1.1\r\n" + std::string(host_header);
  trickle_line_ = "X-Slow-Loris: a\r\n";  // repeated for ever: the header never ends
}

// Wraps a completion handler so that the slot counts the operation in flight
// and is settled once the handler has run.
template <typename F>
auto Hostile::tracked(Conn& c, F f) {
  c.ops++;
  return [this, &c, handler = std::move(f)](auto&&... args) mutable {
    BOXOFFICE_ASSERT(c.ops > 0);
    c.ops--;
    handler(std::forward<decltype(args)>(args)...);
    settle(c);
  };
}

void Hostile::run() {
  open_files_max_ = raise_open_files();
  const uint64_t wanted = conns_.size() + 64;
  if (open_files_max_ < wanted) {
    fmt::print(stderr,
               "boxoffice-hostile: the open-files limit ({}) is below the {} needed; connects "
               "beyond it fail and are counted\n",
               open_files_max_, wanted);
  }
  start_ = Clock::now();
  signals_.async_wait([this](const error_code& ec, int) {
    if (!ec) stop();
  });
  duration_timer_.expires_after(std::chrono::seconds(o_.duration_s));
  duration_timer_.async_wait([this](const error_code& ec) {
    if (!ec) stop();
  });
  open_kept();
  check_ready();
  if (o_.abuse_rate_per_s > 0) {
    abuse_next_ = start_;
    abuse_tick();
  }
  progress_timer_.expires_after(std::chrono::milliseconds(progress_interval_ms));
  progress_timer_.async_wait([this](const error_code& ec) {
    if (!ec) progress();
  });
  ioc_.run();
  elapsed_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
  cpu_s_ = process_cpu_s();
}

// Opens the idle and slowloris connections: at once, or the k-th of n
// after k * ramp_ms / n.
void Hostile::open_kept() {
  const uint64_t n = uint64_t{o_.idle} + o_.slowloris;
  uint64_t k = 0;
  for (auto& slot : conns_) {
    Conn& c = *slot;
    if (c.role == Role::abuse) continue;
    const auto delay_ms = static_cast<int64_t>(k++ * o_.ramp_ms / std::max<uint64_t>(n, 1));
    if (delay_ms == 0) {
      queue_connect(c);
      continue;
    }
    c.state = State::waiting;
    c.timer.expires_after(std::chrono::milliseconds(delay_ms));
    c.timer.async_wait(tracked(c, [this, &c](const error_code& ec) {
      if (!ec && !stopping_) queue_connect(c);
    }));
  }
}

void Hostile::queue_connect(Conn& c) {
  c.state = State::waiting;
  connect_queue_.push_back(&c);
  pump_connects();
}

void Hostile::pump_connects() {
  while (!stopping_ && connecting_ < connects_in_flight_max && !connect_queue_.empty()) {
    Conn& c = *connect_queue_.front();
    connect_queue_.pop_front();
    BOXOFFICE_ASSERT(c.state == State::waiting && c.ops == 0);
    c.state = State::connecting;
    connecting_++;
    attempted_++;
    c.socket.async_connect(endpoint_, tracked(c, [this, &c](const error_code& ec) {
                             connecting_--;
                             on_connected(c, ec);
                             pump_connects();
                           }));
  }
}

void Hostile::on_connected(Conn& c, const error_code& ec) {
  if (stopping_) return;
  RoleStats& s = stats(c);
  if (ec) {
    s.connect_failed++;
    last_error_ = ec.message();
    std::erase_if(last_error_, [](char ch) { return ch == '"' || ch == '\\'; });
    error_code ignored;
    c.socket.close(ignored);
    c.state = State::ending;
    back_off(c, 0);
    return;
  }
  c.state = State::open;
  c.connected_at = Clock::now();
  s.connected++;
  s.open_peak = std::max(s.open_peak, ++s.open);
  open_peak_ = std::max(open_peak_, ++open_);
  read(c);
  switch (c.role) {
    case Role::idle:
      break;
    case Role::slowloris: {
      error_code ignored;
      c.socket.set_option(tcp::no_delay(true), ignored);
      c.sent = 0;
      // The first bytes are spread over one trickle interval, so that the
      // slowloris connections do not all send at the same instant.
      const auto offset_ms =
          static_cast<int64_t>(uint64_t{c.index} * o_.trickle_ms / std::max(1u, o_.slowloris));
      c.timer.expires_after(std::chrono::milliseconds(offset_ms));
      c.timer.async_wait(tracked(c, [this, &c](const error_code& e) {
        if (!e) trickle(c);
      }));
      break;
    }
    case Role::abuse:
      send_abuse(c);
      break;
  }
  check_ready();
}

void Hostile::read(Conn& c) {
  c.socket.async_read_some(
      asio::buffer(c.chunk),
      tracked(c, [this, &c](const error_code& ec, size_t n) { on_read(c, ec, n); }));
}

void Hostile::on_read(Conn& c, const error_code& ec, size_t n) {
  if (stopping_ || c.state != State::open) return;
  if (!ec) {
    stats(c).bytes_received += n;
    if (c.role == Role::abuse) {
      const size_t keep = std::min(n, answer_bytes_max - c.answers.size());
      c.answers.append(c.chunk.data(), keep);
    }
    return read(c);
  }
  end(c, ec == asio::error::eof ? End::closed : End::reset);
}

const char* Hostile::trickle_byte(uint64_t pos) const {
  if (pos < trickle_prefix_.size()) return &trickle_prefix_[pos];
  return &trickle_line_[(pos - trickle_prefix_.size()) % trickle_line_.size()];
}

void Hostile::trickle(Conn& c) {
  if (stopping_ || c.state != State::open) return;
  asio::async_write(c.socket, asio::buffer(trickle_byte(c.sent), 1),
                    tracked(c, [this, &c](const error_code& ec, size_t) {
                      if (stopping_ || c.state != State::open) return;
                      if (ec) return end(c, End::reset);
                      c.sent++;
                      stats(c).bytes_sent++;
                      c.timer.expires_after(std::chrono::milliseconds(o_.trickle_ms));
                      c.timer.async_wait(tracked(c, [this, &c](const error_code& e) {
                        if (!e) trickle(c);
                      }));
                    }));
}

void Hostile::send_abuse(Conn& c) {
  const std::string& bytes = abuse_bytes_[static_cast<size_t>(c.abuse)];
  asio::async_write(c.socket, asio::buffer(bytes),
                    tracked(c, [this, &c](const error_code& ec, size_t n) {
                      stats(c).bytes_sent += n;
                      if (ec && !stopping_) abuse_[static_cast<size_t>(c.abuse)].write_failed++;
                    }));
  c.timer.expires_after(std::chrono::milliseconds(abuse_deadline_ms));
  c.timer.async_wait(tracked(c, [this, &c](const error_code& ec) {
    if (!ec && !stopping_ && c.state == State::open) end(c, End::timeout);
  }));
}

// The connection ended while open: count it, close the socket, cancel its
// timer. The slot is reused once its operations have completed (settle).
void Hostile::end(Conn& c, End how) {
  BOXOFFICE_ASSERT(c.state == State::open);
  c.state = State::ending;
  RoleStats& s = stats(c);
  const int64_t lived_ms = ms_between(c.connected_at, Clock::now());
  s.open--;
  open_--;
  if (how == End::closed) s.closed++;
  if (how == End::reset) s.reset++;
  if (how != End::timeout) {
    s.lifetime.add(lived_ms);
    if (lived_ms < short_lived_ms) s.closed_soon++;
  }
  if (c.role == Role::abuse) {
    AbuseStats& a = abuse_[static_cast<size_t>(c.abuse)];
    if (count_statuses(c.answers, a) == 0) a.no_answer++;
    if (how == End::closed) a.closed++;
    if (how == End::reset) a.reset++;
    if (how == End::timeout) a.timeout++;
  }
  back_off(c, lived_ms);
  error_code ignored;
  c.socket.close(ignored);
  c.timer.cancel();
}

void Hostile::back_off(Conn& c, int64_t lived_ms) {
  if (lived_ms >= short_lived_ms) {
    c.backoff_ms = o_.reconnect_ms;
    return;
  }
  c.backoff_ms =
      std::min(reconnect_backoff_max_ms,
               std::max({2 * c.backoff_ms, int64_t{o_.reconnect_ms}, reconnect_backoff_min_ms}));
}

void Hostile::settle(Conn& c) {
  if (c.state != State::ending || c.ops != 0) return;
  if (stopping_) {
    c.state = State::free;
    return;
  }
  if (c.role == Role::abuse) {
    c.state = State::free;
    c.answers.clear();
    abuse_free_.push_back(&c);
    return;
  }
  reopen_later(c);
}

void Hostile::reopen_later(Conn& c) {
  c.state = State::waiting;
  if (c.backoff_ms == 0) return queue_connect(c);
  c.timer.expires_after(std::chrono::milliseconds(c.backoff_ms));
  c.timer.async_wait(tracked(c, [this, &c](const error_code& ec) {
    if (!ec && !stopping_) queue_connect(c);
  }));
}

// Starts the abuse connections due by now, on a fixed schedule from the start.
void Hostile::abuse_tick() {
  if (stopping_) return;
  const int64_t elapsed_ms = ms_between(start_, Clock::now());
  const uint64_t due = static_cast<uint64_t>(elapsed_ms) * o_.abuse_rate_per_s / 1000;
  while (abuse_due_ < due) {
    abuse_due_++;
    start_abuse();
  }
  abuse_next_ += std::chrono::milliseconds(abuse_tick_ms);
  abuse_timer_.expires_at(abuse_next_);
  abuse_timer_.async_wait([this](const error_code& ec) {
    if (!ec) abuse_tick();
  });
}

void Hostile::start_abuse() {
  const auto kind = static_cast<Abuse>(abuse_due_ % abuse_count);
  AbuseStats& a = abuse_[static_cast<size_t>(kind)];
  if (abuse_free_.empty()) {
    a.skipped++;
    return;
  }
  a.started++;
  Conn& c = *abuse_free_.back();
  abuse_free_.pop_back();
  BOXOFFICE_ASSERT(c.state == State::free && c.ops == 0);
  c.abuse = kind;
  c.answers.clear();
  abuse_open_peak_ =
      std::max(abuse_open_peak_, abuse_in_flight_max - static_cast<uint32_t>(abuse_free_.size()));
  queue_connect(c);
}

// Ready: every idle and slowloris connection open, and none closed for
// short_lived_ms after that (a server at its limit accepts, then closes).
void Hostile::check_ready() {
  if (ready_s_ || ready_armed_ || stopping_) return;
  if (!kept_all_open()) return;
  ready_armed_ = true;
  ready_closes_ = closes_of_kept();
  ready_timer_.expires_after(std::chrono::milliseconds(short_lived_ms));
  ready_timer_.async_wait([this](const error_code& ec) {
    ready_armed_ = false;
    if (!ec) confirm_ready();
  });
}

void Hostile::confirm_ready() {
  if (closes_of_kept() != ready_closes_) return check_ready();
  ready_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
  fmt::print(stderr, "boxoffice-hostile: ready: {} idle and {} slowloris connections open\n",
             roles_[at(Role::idle)].open, roles_[at(Role::slowloris)].open);
  std::fflush(stderr);
}

void Hostile::progress() {
  if (stopping_) return;
  const RoleStats& idle = roles_[at(Role::idle)];
  const RoleStats& slow = roles_[at(Role::slowloris)];
  uint64_t started = 0, skipped = 0;
  for (const AbuseStats& a : abuse_) started += a.started, skipped += a.skipped;
  fmt::print(stderr,
             "boxoffice-hostile: {} s: idle {}/{} open ({} closed by the server), slowloris "
             "{}/{} ({} cut), abuse {} started ({} skipped), {} connect failures\n",
             ms_between(start_, Clock::now()) / 1000, idle.open, idle.target,
             idle.closed + idle.reset, slow.open, slow.target, slow.closed + slow.reset, started,
             skipped,
             idle.connect_failed + slow.connect_failed + roles_[at(Role::abuse)].connect_failed);
  std::fflush(stderr);
  progress_timer_.expires_after(std::chrono::milliseconds(progress_interval_ms));
  progress_timer_.async_wait([this](const error_code& ec) {
    if (!ec) progress();
  });
}

// Closes everything; run() returns once every handler has completed.
void Hostile::stop() {
  if (stopping_) return;
  stopping_ = true;
  const auto now = Clock::now();
  for (auto& c : conns_) {
    if (c->role == Role::slowloris && c->state == State::open) {
      slowloris_open_at_end_++;
      slowloris_oldest_ms_ = std::max(slowloris_oldest_ms_, ms_between(c->connected_at, now));
    }
  }
  error_code ignored;
  signals_.cancel(ignored);
  duration_timer_.cancel();
  abuse_timer_.cancel();
  progress_timer_.cancel();
  ready_timer_.cancel();
  connect_queue_.clear();
  for (auto& c : conns_) {
    c->socket.close(ignored);
    c->timer.cancel();
  }
}

bool Hostile::ever_connected() const {
  for (const RoleStats& s : roles_) {
    if (s.connected > 0) return true;
  }
  return false;
}

std::string Hostile::role_json(Role role) const {
  const RoleStats& s = roles_[at(role)];
  std::string extra;
  if (role == Role::slowloris) {
    extra =
        fmt::format(R"(,"trickle_ms":{},"bytes_trickled":{},"open_at_end":{},"oldest_open_ms":{})",
                    o_.trickle_ms, s.bytes_sent, slowloris_open_at_end_, slowloris_oldest_ms_);
  }
  if (role == Role::abuse) extra = fmt::format(R"(,"in_flight_peak":{})", abuse_open_peak_);
  return fmt::format(
      R"({{"{}":{},"connected":{},"connect_failed":{},"open_peak":{},"open_at_end":{},"closed_by_server":{},"reset":{},"closed_within_1s":{},"bytes_received":{},"{}":{}{}}})",
      role == Role::abuse ? "slots" : "target", s.target, s.connected, s.connect_failed,
      s.open_peak, s.open, s.closed, s.reset, s.closed_soon, s.bytes_received,
      role == Role::slowloris ? "cut_ms" : "lifetime_ms", s.lifetime.json(), extra);
}

std::string Hostile::abuse_json(Abuse kind) const {
  const AbuseStats& a = abuse_[static_cast<size_t>(kind)];
  std::string status = "{";
  for (size_t st = 0; st <= status_max; st++) {
    if (a.status[st] == 0) continue;
    status += fmt::format(R"({}"{}":{})", status.size() > 1 ? "," : "", st, a.status[st]);
  }
  status += "}";
  return fmt::format(
      R"({{"started":{},"skipped_no_slot":{},"status":{},"no_answer":{},"closed_by_server":{},"reset":{},"timeout":{},"write_failed":{}}})",
      a.started, a.skipped, status, a.no_answer, a.closed, a.reset, a.timeout, a.write_failed);
}

std::string Hostile::json() const {
  uint64_t connected = 0, failed = 0, closed = 0;
  for (const RoleStats& s : roles_) {
    connected += s.connected, failed += s.connect_failed, closed += s.closed + s.reset;
  }
  std::string abuse = fmt::format(R"({{"rate_per_s":{})", o_.abuse_rate_per_s);
  for (size_t k = 0; k < abuse_count; k++) {
    abuse += fmt::format(R"(,"{}":{})", abuse_names[k], abuse_json(static_cast<Abuse>(k)));
  }
  abuse += "}";
  return fmt::format(
      R"({{"host":"{}","port":{},"elapsed_s":{:.3f},"ready_s":{},"client_cpu_s":{:.3f},"open_files_max":{},"connections":{{"attempted":{},"connected":{},"connect_failed":{},"open_peak":{},"open_at_end":{},"closed_by_server":{},"last_connect_error":"{}"}},"idle":{},"slowloris":{},"abuse_connections":{},"abuse":{}}})",
      o_.host, o_.port, elapsed_s_, ready_s_ ? fmt::format("{:.3f}", *ready_s_) : "null", cpu_s_,
      open_files_max_, attempted_, connected, failed, open_peak_, open_, closed, last_error_,
      role_json(Role::idle), role_json(Role::slowloris), role_json(Role::abuse), abuse);
}

std::string Hostile::text() const {
  std::string out = fmt::format(
      "boxoffice-hostile against {}:{}: {:.1f} s, {} connection attempts, {} open at peak, "
      "client CPU {:.2f} s\n",
      o_.host, o_.port, elapsed_s_, attempted_, open_peak_, cpu_s_);
  for (size_t r = 0; r + 1 < role_count; r++) {
    const RoleStats& s = roles_[r];
    out += fmt::format(
        "  {:<10} target {}, open at peak {}, closed by the server {} ({} within 1 s), "
        "connect failures {}\n",
        role_names[r], s.target, s.open_peak, s.closed + s.reset, s.closed_soon, s.connect_failed);
  }
  out += fmt::format("  slowloris cut after (ms): {}; still open at the end {}, oldest {} ms\n",
                     roles_[at(Role::slowloris)].lifetime.json(), slowloris_open_at_end_,
                     slowloris_oldest_ms_);
  for (size_t k = 0; k < abuse_count; k++) {
    out += fmt::format("  {:<15} {}\n", abuse_names[k], abuse_json(static_cast<Abuse>(k)));
  }
  return out;
}

}  // namespace
}  // namespace boxoffice::hostile

int main(int argc, char** argv) {
  using namespace boxoffice::hostile;
  std::signal(SIGPIPE, SIG_IGN);
  const ParseResult parsed = parse_options(argc, argv);
  if (parsed.help) {
    fmt::print("{}", help_text);
    return 0;
  }
  if (!parsed.options) {
    fmt::print(stderr, "boxoffice-hostile: {} (see --help)\n", parsed.error);
    return 2;
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(parsed.options->host, ec);
  if (ec) {
    fmt::print(stderr, "boxoffice-hostile: --host: '{}' is not a numeric address\n",
               parsed.options->host);
    return 2;
  }
  Hostile hostile(*parsed.options);
  hostile.run();
  fmt::print("{}", parsed.options->json ? hostile.json() + "\n" : hostile.text());
  if (!hostile.ever_connected()) {
    fmt::print(stderr, "boxoffice-hostile: no connection to {}:{} succeeded\n",
               parsed.options->host, parsed.options->port);
    return 1;
  }
  return 0;
}
