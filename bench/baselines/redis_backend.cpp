// The Redis baseline: a hold is one Lua script (seat free? user under the
// limit? then SET with expiry), over RESP on a blocking socket.
//
// Keys: seat:{date}:{seat} -> reservation id, with PX expiry (the hold);
// holds:{user} -> sorted set of the user's seat keys scored by expiry ms;
// reservation:next -> the last reservation id.
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "bench/baselines/backend.hpp"

namespace boxoffice::baseline {
namespace {

constexpr std::string_view hold_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return -2 end
local id = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], id, 'PX', ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), KEYS[1])
return id
)lua";

constexpr std::string_view cancel_script = R"lua(
redis.call('ZREM', KEYS[2], KEYS[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua";

// One reply: integer, status, bulk string, or error (arrays are not needed).
struct Reply {
  char type = 0;  // ':', '+', '$', '-', or 0 for a broken connection
  int64_t integer = 0;
  std::string text;
};

class RedisBackend : public Backend {
 public:
  explicit RedisBackend(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}
  ~RedisBackend() override {
    if (fd_ >= 0) close(fd_);
  }

  std::string connect() override;
  std::string prepare_store(const HoldShape&) override;
  std::string prepare_connection(const HoldShape& shape) override;
  HoldOutcome hold(uint32_t user, uint32_t date, uint32_t seat, uint64_t& reservation) override;
  bool cancel(uint32_t user, uint32_t date, uint32_t seat, uint64_t reservation) override;
  std::string last_error() const override { return error_; }

 private:
  Reply command(const std::vector<std::string_view>& args);
  bool read_line(std::string& line);
  bool read_exact(size_t n, std::string& out);

  Endpoint endpoint_;
  int fd_ = -1;
  std::string out_;
  std::string in_;
  size_t in_at_ = 0;
  std::string hold_sha_;
  std::string cancel_sha_;
  std::string ttl_ms_;
  std::string holds_max_;
  std::string error_;
};

std::string RedisBackend::connect() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint_.port);
  if (getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    return "cannot resolve " + endpoint_.host;
  }
  fd_ = socket(found->ai_family, SOCK_STREAM, 0);
  const int rc = ::connect(fd_, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0) return fmt::format("connect to redis: {}", std::strerror(errno));
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return {};
}

std::string RedisBackend::prepare_store(const HoldShape&) {
  const Reply r = command({"FLUSHALL"});
  return r.type == '+' ? std::string{} : "FLUSHALL: " + r.text;
}

std::string RedisBackend::prepare_connection(const HoldShape& shape) {
  const Reply hold = command({"SCRIPT", "LOAD", hold_script});
  const Reply cancel = command({"SCRIPT", "LOAD", cancel_script});
  if (hold.type != '$' || cancel.type != '$') return "SCRIPT LOAD: " + hold.text + cancel.text;
  hold_sha_ = hold.text;
  cancel_sha_ = cancel.text;
  ttl_ms_ = std::to_string(shape.hold_ttl_ms);
  holds_max_ = std::to_string(shape.holds_per_user);
  return {};
}

HoldOutcome RedisBackend::hold(uint32_t user, uint32_t date, uint32_t seat, uint64_t& reservation) {
  const std::string seat_key = fmt::format("seat:{}:{}", date, seat);
  const std::string user_key = fmt::format("holds:{}", user);
  const Reply r = command(
      {"EVALSHA", hold_sha_, "3", seat_key, user_key, "reservation:next", ttl_ms_, holds_max_});
  if (r.type != ':') {
    error_ = r.text;
    return HoldOutcome::failed;
  }
  if (r.integer == -1) return HoldOutcome::unavailable;
  if (r.integer == -2) return HoldOutcome::limit;
  reservation = static_cast<uint64_t>(r.integer);
  return HoldOutcome::held;
}

bool RedisBackend::cancel(uint32_t user, uint32_t date, uint32_t seat, uint64_t reservation) {
  const std::string seat_key = fmt::format("seat:{}:{}", date, seat);
  const std::string user_key = fmt::format("holds:{}", user);
  const std::string id = std::to_string(reservation);
  const Reply r = command({"EVALSHA", cancel_sha_, "2", seat_key, user_key, id});
  if (r.type != ':') error_ = r.text;
  return r.type == ':';
}

Reply RedisBackend::command(const std::vector<std::string_view>& args) {
  out_ = fmt::format("*{}\r\n", args.size());
  for (const std::string_view a : args) {
    fmt::format_to(std::back_inserter(out_), "${}\r\n", a.size());
    out_ += a;
    out_ += "\r\n";
  }
  for (size_t sent = 0; sent < out_.size();) {
    const ssize_t n = write(fd_, out_.data() + sent, out_.size() - sent);
    if (n <= 0) return {0, 0, "write failed"};
    sent += static_cast<size_t>(n);
  }
  Reply reply;
  std::string line;
  if (!read_line(line) || line.empty()) return {0, 0, "connection closed"};
  reply.type = line[0];
  reply.text = line.substr(1);
  if (reply.type == ':') reply.integer = std::stoll(reply.text);
  if (reply.type == '$') {
    const long length = std::stol(reply.text);
    reply.text.clear();
    if (length >= 0 && !read_exact(static_cast<size_t>(length) + 2, reply.text)) {
      return {0, 0, "connection closed"};
    }
    if (length >= 0) reply.text.resize(static_cast<size_t>(length));
  }
  return reply;
}

bool RedisBackend::read_line(std::string& line) {
  for (;;) {
    const size_t end = in_.find("\r\n", in_at_);
    if (end != std::string::npos) {
      line.assign(in_, in_at_, end - in_at_);
      in_at_ = end + 2;
      if (in_at_ == in_.size()) {
        in_.clear();
        in_at_ = 0;
      }
      return true;
    }
    char buffer[4096];
    const ssize_t n = read(fd_, buffer, sizeof buffer);
    if (n <= 0) return false;
    in_.append(buffer, static_cast<size_t>(n));
  }
}

bool RedisBackend::read_exact(size_t n, std::string& out) {
  while (in_.size() - in_at_ < n) {
    char buffer[4096];
    const ssize_t got = read(fd_, buffer, sizeof buffer);
    if (got <= 0) return false;
    in_.append(buffer, static_cast<size_t>(got));
  }
  out.assign(in_, in_at_, n);
  in_at_ += n;
  if (in_at_ == in_.size()) {
    in_.clear();
    in_at_ = 0;
  }
  return true;
}

}  // namespace

std::unique_ptr<Backend> make_redis(const Endpoint& endpoint) {
  return std::make_unique<RedisBackend>(endpoint);
}

}  // namespace boxoffice::baseline
