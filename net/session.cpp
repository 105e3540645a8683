#include "net/session.hpp"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <charconv>
#include <system_error>

#include <spdlog/spdlog.h>

#include "net/json_writer.hpp"

namespace boxoffice::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr int64_t linger_ms = 2000;

Method method_of(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::get;
    case http::verb::post:
      return Method::post;
    case http::verb::delete_:
      return Method::del;
    default:
      return Method::other;
  }
}

std::optional<std::string_view> header(const http::request<http::string_body>& req,
                                       http::field field) {
  const auto it = req.find(field);
  if (it == req.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

std::optional<std::string_view> header(const http::request<http::string_body>& req,
                                       std::string_view name) {
  const auto it = req.find(beast::string_view(name.data(), name.size()));
  if (it == req.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

// ASCII only, as HTTP's tokens are.
bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equals_ignoring_case(s.substr(0, prefix.size()), prefix);
}

// "http://host:8080/v1/concerts?x" -> "/v1/concerts?x"; any other target as it is.
std::string_view origin_form(std::string_view target) {
  size_t authority = 0;
  if (starts_with_ignoring_case(target, "http://")) authority = 7;
  if (starts_with_ignoring_case(target, "https://")) authority = 8;
  if (authority == 0) return target;
  const size_t path = target.find_first_of("/?#", authority);
  if (path == std::string_view::npos) return "/";
  if (target[path] != '/') return target;  // no path to name: not found
  return target.substr(path);
}

constexpr std::string_view transfer_coding_message =
    "malformed HTTP request: the only transfer coding served is one chunked";
constexpr std::string_view target_bytes_message =
    "malformed HTTP request: the target has a byte outside visible ASCII, '#' or '\\'";

}  // namespace

std::optional<std::string_view> framing_problem(const http::request<http::string_body>& req) {
  // One pass over the fields, counting those that must not repeat.
  size_t codings = 0, lengths = 0, hosts = 0, authorizations = 0, admin_keys = 0,
         idempotency_keys = 0;
  std::string_view coding;    // the value of the last Transfer-Encoding
  bool length_digits = true;  // every Content-Length is 1*DIGIT
  for (const auto& f : req) {
    if (f.name() == http::field::content_length) {
      lengths++;
      const std::string_view v(f.value().data(), f.value().size());
      length_digits = length_digits && !v.empty() &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    } else if (f.name() == http::field::transfer_encoding) {
      codings++;
      coding = std::string_view(f.value().data(), f.value().size());
    } else if (f.name() == http::field::host) {
      hosts++;
    } else if (f.name() == http::field::authorization) {
      authorizations++;
    } else if (f.name() == http::field::unknown) {  // Beast names neither of these two
      const std::string_view name(f.name_string().data(), f.name_string().size());
      if (equals_ignoring_case(name, "X-Admin-Key")) admin_keys++;
      if (equals_ignoring_case(name, "Idempotency-Key")) idempotency_keys++;
    }
  }
  if (codings > 1) return transfer_coding_message;
  // Beast's parser has taken the whitespace around the value off.
  if (codings == 1 && !equals_ignoring_case(coding, "chunked")) return transfer_coding_message;
  if (codings > 0 && req.version() < 11) {
    return "malformed HTTP request: Transfer-Encoding in an HTTP/1.0 request";
  }
  // Beast reads "20, 20" (or the field twice with one value) as 20; a reader
  // that takes the first number only, or refuses the list, frames otherwise.
  if (lengths > 1 || !length_digits) {
    return "malformed HTTP request: Content-Length must be one field of digits";
  }
  for (const char c : req.target()) {
    // A fragment's '#' and a backslash have no place in a request's target,
    // and readers differ on where they end the host of an absolute form.
    if (c < 0x21 || c > 0x7e || c == '#' || c == '\\') return target_bytes_message;
  }
  if (hosts > 1) return "malformed HTTP request: more than one Host field";
  if (authorizations > 1) return "malformed HTTP request: more than one Authorization field";
  if (admin_keys > 1) return "malformed HTTP request: more than one X-Admin-Key field";
  if (idempotency_keys > 1) return "malformed HTTP request: more than one Idempotency-Key field";
  return std::nullopt;
}

HttpRequestView request_view(const http::request<http::string_body>& req) {
  HttpRequestView view;
  view.method = method_of(req.method());
  view.target = origin_form(std::string_view(req.target().data(), req.target().size()));
  view.authorization = header(req, http::field::authorization);
  view.idempotency_key = header(req, "Idempotency-Key");
  view.admin_key = header(req, "X-Admin-Key");
  view.body = req.body();
  return view;
}

size_t header_block_bytes(const http::request<http::string_body>& req) {
  constexpr size_t crlf = 2;
  // "METHOD SP target SP HTTP/1.x CRLF", then "name: value CRLF", then CRLF.
  size_t n = req.method_string().size() + 1 + req.target().size() + 1 + 8 + crlf;
  for (const auto& field : req) n += field.name_string().size() + 2 + field.value().size() + crlf;
  return n + crlf;
}

bool body_over_limit(bool chunked, size_t body_bytes, std::string_view unparsed) {
  if (!chunked) return true;
  if (unparsed.starts_with("\r\n")) unparsed.remove_prefix(2);  // the previous chunk's end
  uint64_t chunk_bytes = 0;
  const char* first = unparsed.data();
  const auto [end, ec] = std::from_chars(first, first + unparsed.size(), chunk_bytes, 16);
  if (end == first) return true;                          // not at a chunk line: as Beast says
  if (ec == std::errc::result_out_of_range) return true;  // beyond 64 bits
  // Beast accepted the chunks before only within the limit: body_bytes is
  // at most body_bytes_max, and the difference does not wrap.
  return body_bytes > body_bytes_max || chunk_bytes > body_bytes_max - body_bytes;
}

namespace {

TimeMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::bad_target).category();
}

}  // namespace

int64_t idle_timeout_of(uint64_t serial, int64_t timeout_ms) {
  BOXOFFICE_ASSERT(timeout_ms > 0);
  const auto spread_ms = static_cast<uint64_t>(timeout_ms / idle_spread_fraction);
  // Fibonacci hashing: consecutive serials land far apart in the spread.
  const uint64_t mixed = (serial * 0x9E3779B97F4A7C15ULL) >> 32;
  return timeout_ms + static_cast<int64_t>(mixed % (spread_ms + 1));
}

Session::Session(IoSocket socket, IoThread& thread)
    : thread_(thread),
      idle_timeout_ms_(idle_timeout_of(thread.sessions_opened++, thread.shared.idle_timeout_ms)),
      stream_(std::move(socket)) {}

Session::~Session() {
  unlist_idle();
  if (!closed_) thread_.sessions.erase(this);
  thread_.shared.connections.fetch_sub(1, std::memory_order_relaxed);
}

void Session::start() {
  thread_.sessions.insert(this);
  beast::error_code ec;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  read();
}

void Session::read() {
  if (closing_ || closed_ || reading_ || pending() >= pipeline_depth_max) return;
  parser_.emplace();
  parser_->header_limit(header_bytes_max);
  parser_->body_limit(body_bytes_max);
  parser_->eager(true);  // one read parses all it brought, header and body
  read_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(idle_timeout_ms_);
  reading_ = true;
  read_bytes_ = 0;
  header_checked_ = false;
  update_idle();
  read_some();
}

// The message is read a part at a time (one read each, or none when the
// buffer has it), so that its header can be looked at before its body.
void Session::read_some() {
  // Set at every step: a write started while no read was pending (the step
  // before completed from the buffer) sets the read timer too.
  stream_.expires_at(read_deadline_);
  http::async_read_some(stream_, buffer_, *parser_,
                        [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                          self->on_read_some(ec, bytes);
                        });
}

void Session::on_read_some(beast::error_code ec, size_t bytes) {
  read_bytes_ += bytes;
  if (ec || closed_ || closing_ || parser_->is_done()) return on_read(ec, read_bytes_);
  const bool header_now = parser_->is_header_done() && !header_checked_;
  if (header_now) {
    header_checked_ = true;
    // Refused from its header alone: answered now, not after a body the
    // client may be holding back until it hears from us.
    if (const auto problem = header_problem(read_bytes_)) {
      reading_ = false;
      unlist_idle();
      return bad_http(400, *problem);
    }
  }
  read_some();
  // After the read has started, so that the write's deadline does not move
  // the read's: an eager parse stops short of the message's end only with
  // the buffer used up, so this step reads the socket (and were it not,
  // the next step sets the read's deadline again).
  if (header_now) maybe_continue();
}

std::optional<std::string_view> Session::header_problem(size_t bytes) const {
  // A message of `bytes` has a header block of at most as many.
  if (bytes > header_bytes_max && header_block_bytes(parser_->get()) > header_bytes_max) {
    return header_limit_message;
  }
  return framing_problem(parser_->get());
}

void Session::maybe_continue() {
  const http::request<http::string_body>& req = parser_->get();
  if (req.version() < 11) return;  // HTTP/1.0 clients do not wait for it
  const auto expect = header(req, http::field::expect);
  if (!expect.has_value() || !equals_ignoring_case(*expect, "100-continue")) return;
  // An interim answer may not overtake the answers of requests before it.
  if (writing_ || pending() != 0) return;
  static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
  write_buf_.assign(continue_line);
  writing_count_ = 0;
  writing_ = true;
  stream_.expires_after(std::chrono::milliseconds(write_timeout_ms));
  asio::async_write(
      stream_, asio::buffer(write_buf_),
      [self = shared_from_this()](beast::error_code e, size_t) { self->on_write(e); });
}

void Session::on_read(beast::error_code ec, size_t bytes) {
  reading_ = false;
  unlist_idle();
  if (closed_) return;
  if (closing_) {
    // Stopped while this read was under way: it was not read before the
    // stop, so it is not answered. Close once the answers are out.
    if (pending() == 0 && !writing_) close();
    return;
  }
  if (ec == http::error::end_of_stream) {
    closing_ = true;  // the client sends nothing more: answer, then close
    if (pending() == 0 && !writing_) close();
    return;
  }
  if (ec == http::error::body_limit) {
    const auto unparsed = buffer_.data();
    if (!body_over_limit(
            parser_->chunked(), parser_->get().body().size(),
            std::string_view(static_cast<const char*>(unparsed.data()), unparsed.size()))) {
      return bad_http(400, "malformed HTTP request");
    }
    return bad_http(413, body_limit_message);
  }
  static_assert(header_bytes_max == 16384 && body_bytes_max == 65536, "the messages name them");
  if (ec == http::error::header_limit) return bad_http(400, header_limit_message);
  if (ec && is_http_error(ec) && ec != http::error::partial_message) {
    return bad_http(400, "malformed HTTP request");
  }
  if (ec) return close();  // timeout, reset, end of stream mid-message
  if (!header_checked_) {  // else checked when the header came, before its body
    if (const auto problem = header_problem(bytes)) return bad_http(400, *problem);
  }
  handle_request();
  read();
  write();
}

void Session::bad_http(uint16_t status, std::string_view message) {
  thread_.metrics.bad_http.add();
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  spdlog::debug("{} from {}: answered {} and closing", message,
                ec ? std::string("?") : peer.address().to_string(), status);
  const uint64_t seq = next_seq_++;
  Slot& s = slot(seq);
  s = Slot{};
  s.start = std::chrono::steady_clock::now();
  s.close = true;
  closing_ = true;
  linger_ = true;
  reply_.reset();
  render_error(status == 413 ? Code::payload_too_large : Code::invalid_request, message, &reply_);
  finish_slot(s, seq, reply_, BodyType::json);
  write();
}

void Session::handle_request() {
  const http::request<http::string_body>& req = parser_->get();
  const uint64_t seq = next_seq_++;
  Slot& s = slot(seq);
  s.ready = false;
  s.close = !req.keep_alive();
  s.head = req.method() == http::verb::head;
  s.start = std::chrono::steady_clock::now();
  s.bytes.clear();
  if (s.close) closing_ = true;
  if (spdlog::should_log(spdlog::level::debug)) {
    s.line.assign(req.method_string().data(), req.method_string().size());
    s.line += ' ';
    s.line.append(req.target().data(), req.target().size());
  }

  const HttpRequestView view = request_view(req);
  IngressItem& item = thread_.scratch;
  ParsedRequest& p = item.request;
  thread_.parser.parse(view, wall_clock_ms(), &p);
  s.routed = p.routed;
  s.route = p.route;
  ServerShared& shared = thread_.shared;
  switch (p.kind) {
    case ParsedRequest::Kind::reply:
      render_rejection(p, &reply_);
      return answer_now(seq, reply_);
    case ParsedRequest::Kind::healthz: {
      reply_.reset();
      const bool failed = shared.failed.load(std::memory_order_relaxed);
      reply_.status = failed ? 503 : 200;
      JsonWriter w(reply_.body);
      w.begin_object();
      w.field("status", failed ? "failed" : "ok");
      w.field("lastSeq", shared.core_metrics->last_seq.get());
      w.field("durability", shared.fsync ? "fsync" : "none");
      w.end_object();
      return answer_now(seq, reply_);
    }
    case ParsedRequest::Kind::metrics:
      reply_.reset();
      render_metrics(shared.io_metrics, *shared.core_metrics,
                     shared.connections.load(std::memory_order_relaxed), reply_.body);
      return answer_now(seq, reply_, BodyType::prometheus_text);
    case ParsedRequest::Kind::command:
      break;
  }
  if (shared.failed.load(std::memory_order_relaxed)) {
    render_error(Code::overloaded, "the event log failed; the server accepts no requests", &reply_);
    return answer_now(seq, reply_);
  }
  item.session = shared_from_this();
  item.seq = seq;
  const bool queued = shared.ingress->push(thread_.index, item);
  item.session.reset();
  // The core is woken at once rather than after this round of I/O: it then
  // decides the first requests of a round while the thread reads the rest,
  // and the committer, if idle, starts their sync sooner (measured: 2 to
  // 13 % more holds a second in seven pairs of runs of bench/compare's storm);
  // the pushes after it, until the core runs, find it already woken.
  if (queued) shared.ingress->wake_if_sleeping();
  if (!queued) {
    thread_.metrics.overloaded.add();
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    if (now_s != thread_.overload_logged_s) {  // at most one line a second per thread
      thread_.overload_logged_s = now_s;
      spdlog::warn("ingress queue of I/O thread {} full: answering 503 OVERLOADED", thread_.index);
    }
    render_error(Code::overloaded, "the server is at capacity; retry later", &reply_);
    answer_now(seq, reply_);
  }
}

void Session::answer_now(uint64_t seq, Reply& reply, BodyType type) {
  finish_slot(slot(seq), seq, reply, type);
}

void Session::deliver(uint64_t seq, Reply& reply) {
  if (closed_) return;
  BOXOFFICE_ASSERT(seq >= head_seq_ && seq < next_seq_);
  finish_slot(slot(seq), seq, reply, BodyType::json);
  write();
}

void Session::finish_slot(Slot& s, uint64_t seq, const Reply& reply, BodyType type) {
  BOXOFFICE_ASSERT(!s.ready);
  // The last answer before a close says so.
  s.close = s.close || (closing_ && seq + 1 == next_seq_ && !reading_);
  s.status = reply.status;
  append_response(reply, s.close, type, s.bytes, !s.head);
  s.ready = true;
}

void Session::write() {
  if (writing_ || closed_) return;
  uint64_t k = 0;
  while (head_seq_ + k < next_seq_ && slot(head_seq_ + k).ready) {
    const Slot& s = slot(head_seq_ + k);
    write_buf_ += s.bytes;
    k++;
    if (s.close) break;
  }
  if (k == 0) {
    if (closing_ && pending() == 0) close();
    return;
  }
  writing_count_ = k;
  writing_ = true;
  stream_.expires_after(std::chrono::milliseconds(write_timeout_ms));
  asio::async_write(
      stream_, asio::buffer(write_buf_),
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
}

void Session::on_write(beast::error_code ec) {
  writing_ = false;
  write_buf_.clear();
  if (closed_) return;
  if (ec) return close();
  const auto now = std::chrono::steady_clock::now();
  bool close_after = false;
  for (uint64_t i = 0; i < writing_count_; i++) {
    Slot& s = slot(head_seq_);
    thread_.metrics.count_request(s.routed, s.route, s.status);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - s.start).count();
    thread_.metrics.latency_us.observe(static_cast<uint64_t>(us));
    if (!s.line.empty()) {
      spdlog::debug("{} -> {} in {} us", s.line, s.status, us);
      s.line.clear();
    }
    close_after = s.close;
    s.ready = false;
    s.bytes.clear();
    head_seq_++;
  }
  writing_count_ = 0;
  if (close_after) return linger_ ? linger_close() : close();
  write();
  read();
  if (closing_ && pending() == 0 && !writing_) close();
  update_idle();
}

void Session::stop() {
  if (closed_) return;
  closing_ = true;
  if (pending() == 0 && !writing_) close();
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  unlist_idle();
  thread_.sessions.erase(this);
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

void Session::update_idle() {
  const bool idle =
      reading_ && !writing_ && pending() == 0 && buffer_.size() == 0 && !closing_ && !closed_;
  if (idle == idle_listed_) return;
  if (!idle) return unlist_idle();
  // Newest at the end.
  idle_listed_ = true;
  idle_prev_ = thread_.idle_newest;
  idle_next_ = nullptr;
  if (idle_prev_ != nullptr) {
    idle_prev_->idle_next_ = this;
  } else {
    thread_.idle_oldest = this;
  }
  thread_.idle_newest = this;
}

void Session::unlist_idle() {
  if (!idle_listed_) return;
  idle_listed_ = false;
  (idle_prev_ != nullptr ? idle_prev_->idle_next_ : thread_.idle_oldest) = idle_next_;
  (idle_next_ != nullptr ? idle_next_->idle_prev_ : thread_.idle_newest) = idle_prev_;
  idle_prev_ = nullptr;
  idle_next_ = nullptr;
}

void Session::evict() {
  BOXOFFICE_ASSERT(idle_listed_);
  thread_.metrics.connections_evicted.add();
  close();  // the read under way ends with operation_aborted
}

bool evict_oldest_idle(IoThread& thread) {
  if (thread.idle_oldest == nullptr) return false;
  thread.idle_oldest->evict();
  return true;
}

// After a 400 or 413 the peer may still be sending: a close with unread
// bytes would reset the connection and could destroy the answer before the
// client reads it. Send FIN, drain for a while, then close.
void Session::linger_close() {
  if (!linger_started_) {
    linger_started_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(std::chrono::milliseconds(linger_ms));
  }
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code e, size_t) {
                            if (e || self->closed_) return self->close();
                            self->linger_close();
                          });
}

}  // namespace boxoffice::net
