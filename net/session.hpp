// Session: one client connection (HTTP/1.1, keep-alive, pipelining).
//
// Contract:
// - Runs only on its IoThread. Each request is read with a fresh Beast
//   parser limited to header_bytes_max of header and body_bytes_max of body,
//   under a deadline of the idle timeout (a slow or silent client is cut
//   off); each write has write_timeout_ms.
// - Reads ahead while fewer than pipeline_depth_max requests await their
//   answers; answers leave strictly in request order.
// - A request becomes a command pushed to the core (answered later through
//   deliver()), or is answered at once (routing, auth, shape errors, /healthz,
//   /metrics, 503 when the ingress ring is full).
// - Unparseable HTTP gets 400 (a body over the limit: 413; more than
//   read_buffer_bytes_max unparsed, as a chunk line that never ends: 400;
//   a message whose framing or fields are ambiguous: 400, see
//   framing_problem) and the connection closes after the answers before it.
//   `Connection: close`, HTTP/1.0 without keep-alive, end of stream and
//   stop() also end it once every request read so far is answered.
// - A request that expects 100-continue gets an interim 100 once its header
//   is read and passes header_problem, if its body has not all come with it
//   and no request before it is still unanswered (not later, if one was).
// - Idle (every request answered and written, and no byte of a next one
//   in the buffer when its read began or its last answer went out), it is
//   on its thread's idle list, least recently active first; bytes that
//   arrive later do not take it off before the request is whole, so a slow
//   client stays there. At --connections-max the listener closes the oldest
//   idle connection to admit a new one (evict_oldest_idle).
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_response.hpp"
#include "net/io_thread.hpp"
#include "net/options.hpp"
#include "net/render.hpp"

namespace boxoffice::net {

// The most a connection's read buffer holds: bytes read and not yet parsed.
// That is at most a header block, a chunk line, or what one read brought of
// the requests after the one being parsed (Beast reads 64 KiB at a time);
// beyond it (a chunk line or trailer that never ends) the request is 400.
inline constexpr size_t read_buffer_bytes_max = header_bytes_max + body_bytes_max + 64 * 1024;

// What a request over a fixed limit is answered (400 and 413).
inline constexpr std::string_view header_limit_message = "the header block is over 16384 bytes";
inline constexpr std::string_view body_limit_message = "the body is over 65536 bytes";

// The parts of a request RequestParser reads, as views into `req` (valid
// while it lives). A target in absolute form ("http://host/v1/concerts")
// is read as its path and query.
HttpRequestView request_view(
    const boost::beast::http::request<boost::beast::http::string_body>& req);

// Why a message Beast parsed must still be refused as malformed HTTP (400,
// then close), or nothing. Beast (1.74) reads a Transfer-Encoding whose last
// coding is not `chunked` (`gzip`, `identity`, `chunked, chunked`) as a
// message without a body, so the body would be read as the next request:
// any Transfer-Encoding but one `chunked` is refused, and any at all in an
// HTTP/1.0 request. So are a Content-Length that is not one field of digits
// (Beast reads "20, 20" as 20), a target with a byte outside visible ASCII,
// a '#' or a backslash, and more than one of the fields that name one thing
// (Host, Authorization, X-Admin-Key, Idempotency-Key): two readers of the
// same message could take each of these differently.
std::optional<std::string_view> framing_problem(
    const boost::beast::http::request<boost::beast::http::string_body>& req);

// The size of `req`'s header block as a client sends it, start line and
// fields through the blank line, counting one space after each field's
// colon. Beast applies its header limit to the fields and counts the start
// line against it only when the two arrive in different reads; the session
// measures the block itself, so the limit does not depend on how a request
// was split into reads.
size_t header_block_bytes(const boost::beast::http::request<boost::beast::http::string_body>& req);

// Whether a message whose parse Beast stopped with body_limit has a body
// over body_bytes_max. Beast (1.74) checks a chunk's size against what is
// left of the limit and lowers it before it parses the chunk's extensions;
// when they run past the line's end (a quoted string left open) it asks for
// more and, on the next read, lowers the limit again, so a small body sent
// in pieces can exhaust it. A chunked message is over the limit only if the
// body so far (`body_bytes`, the chunks accepted) and the size on the chunk
// line Beast left unconsumed (`unparsed`) are; otherwise the line is
// malformed. A message with a Content-Length is over if Beast says so.
bool body_over_limit(bool chunked, size_t body_bytes, std::string_view unparsed);

// Closes `thread`'s least recently active idle connection. False when it
// has none. Call on that thread.
bool evict_oldest_idle(IoThread& thread);

// The idle timeout of the `serial`-th connection of a thread: `timeout_ms`
// plus a spread of up to timeout_ms / idle_spread_fraction, the same for
// every read of that connection, so that connections opened (or last used)
// together do not all time out in one pass of their I/O thread.
inline constexpr int64_t idle_spread_fraction = 16;
int64_t idle_timeout_of(uint64_t serial, int64_t timeout_ms);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(IoSocket socket, IoThread& thread);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts reading. Call on the session's thread.
  void start();
  // The core's answer to request `seq`. Call on the session's thread.
  void deliver(uint64_t seq, Reply& reply);
  // Server shutdown: read nothing more, answer what was read, close.
  void stop();

  IoThread& thread() { return thread_; }
  // Closes an idle connection to make room for a new one. Call on its thread.
  void evict();

 private:
  struct Slot {
    bool ready = false;
    bool close = false;  // the connection ends after this answer
    bool routed = false;
    bool head = false;  // a HEAD request: the answer has no body
    Route route = Route::healthz;
    uint16_t status = 0;
    std::chrono::steady_clock::time_point start;
    std::string bytes;  // the formatted response
    std::string line;   // "METHOD target", kept only when logging at debug level
  };

  void read();
  void read_some();
  void on_read_some(boost::beast::error_code ec, size_t bytes);
  void on_read(boost::beast::error_code ec, size_t bytes);
  // Why the request being read is refused from its header alone (after
  // `bytes` read), or nothing: the header limit, then framing_problem.
  std::optional<std::string_view> header_problem(size_t bytes) const;
  // Sends "100 Continue" if the request being read expects it and may have it.
  void maybe_continue();
  void handle_request();
  void answer_now(uint64_t seq, Reply& reply, BodyType type = BodyType::json);
  void finish_slot(Slot& slot, uint64_t seq, const Reply& reply, BodyType type);
  void bad_http(uint16_t status, std::string_view message);
  void write();
  void on_write(boost::beast::error_code ec);
  void close();
  void linger_close();
  // Puts the session on its thread's idle list or takes it off, as its state says.
  void update_idle();
  void unlist_idle();
  Slot& slot(uint64_t seq) { return slots_[seq % pipeline_depth_max]; }
  uint64_t pending() const { return next_seq_ - head_seq_; }

  IoThread& thread_;
  const int64_t idle_timeout_ms_;  // the thread's, with this connection's spread
  // beast::tcp_stream with the thread's executor type (see IoSocket).
  boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type,
                             boost::beast::unlimited_rate_policy>
      stream_;
  boost::beast::flat_buffer buffer_{read_buffer_bytes_max};
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::array<Slot, pipeline_depth_max> slots_;
  uint64_t head_seq_ = 0;       // the oldest unanswered request
  uint64_t next_seq_ = 0;       // the next request read
  uint64_t writing_count_ = 0;  // slots in the write in flight
  size_t read_bytes_ = 0;       // of the message being read, over its reads
  std::chrono::steady_clock::time_point read_deadline_;  // of the message being read
  bool header_checked_ = false;                          // of the message being read
  std::string write_buf_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;  // no more reads: answer what is pending, then close
  bool closed_ = false;
  bool linger_ = false;
  bool linger_started_ = false;   // drain the peer's unread bytes before closing (after 400/413)
  Reply reply_;                   // scratch for answers made here
  bool idle_listed_ = false;      // on thread_'s idle list
  Session* idle_prev_ = nullptr;  // older
  Session* idle_next_ = nullptr;  // newer
};

}  // namespace boxoffice::net
