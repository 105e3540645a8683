// Fuzz target: raw bytes from a client, through the request path of the
// I/O thread: Beast's HTTP parser with the server's limits, the router, the
// request parser, and the reply rendered.
//
// The input is what one connection sends. As net/session.cpp does, a fresh
// boost::beast::http::request_parser (header_bytes_max, body_bytes_max,
// eager) is emplaced for each message; every complete request becomes an
// HttpRequestView and goes through RequestParser::parse; a request that
// does not keep the connection alive ends it; unparseable HTTP is answered
// 400 (a body over the limit 413) and ends it; the end of the input ends it.
// The bytes are fed twice: all at once, and arriving a few bytes at a time.
//
// Properties:
// - No crash, no sanitizer report; the outcome is one of the four kinds.
// - A reply is consistent with the router (404 exactly when no route has the
//   path, 405 with its Allow value) and the token (401 only on a route that
//   needs one and a token that does not verify; 403 only on the admin route
//   without the key; 400 only on a route without a token); its status is
//   one of 400, 401, 403, 404, 405, 413; rendered with the project's own
//   renderer, the status line, the headers (Content-Length, Allow,
//   WWW-Authenticate) are right and the body is exactly one JSON object
//   {"error":{"code":...,"message":...}} with the code's wire name and the
//   parser's detail (checked with simdjson).
// - A command has the type the route implies, the verified token's id, the
//   path parameters as the router split them, and the request's stamp; a
//   RejectAfterAuth (a bad body on an authenticated route) carries
//   invalid_request and the route's token need.
// - /healthz and /metrics, which the I/O thread answers itself, render.
// - How the bytes are split into reads changes nothing (but see
//   same_connection() for a malformed header that never ends, and for a
//   header block within a few bytes of header_bytes_max).
//
// The tokens in the seed corpus (tests/fuzz/corpus/http_request/) are
// signed with fuzz_secret() below (token 4242 for user "fuzzer"; 7 for
// "alice"); the admin key is "fuzz-admin-key".
#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/assert.hpp"
#include "engine/civil_date.hpp"
#include "net/http_response.hpp"
#include "net/json_writer.hpp"
#include "net/metrics.hpp"
#include "net/options.hpp"
#include "net/render.hpp"
#include "net/request_parser.hpp"
#include "net/router.hpp"
#include "net/session.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using boxoffice::fuzz::admin_key;
using boxoffice::fuzz::fuzz_secret;
using boxoffice::fuzz::now_ms;

using namespace boxoffice;
using namespace boxoffice::net;
namespace beast = boost::beast;
namespace http = beast::http;
namespace dom = simdjson::dom;
using Request = http::request<http::string_body>;

struct Fixture {
  RequestParser parser{fuzz_secret(), std::string(admin_key)};
  TokenCodec tokens{fuzz_secret()};  // the target's own, to know which tokens verify
  dom::parser json;
  IoMetrics io_metrics;
  CoreMetrics core_metrics;
  ParsedRequest parsed;
  Reply reply;
  std::string bytes;
};

// ---- What the target knows independently of the parser.

// As API.md: the routes without a token.
bool needs_token(Route r) {
  return r != Route::join_queue && r != Route::list_concerts && r != Route::create_concert &&
         r != Route::healthz && r != Route::metrics;
}

// As API.md: reads of the catalog, holds and payments need an active token.
TokenNeed need_of(Route r) {
  switch (r) {
    case Route::get_dates:
    case Route::get_seats:
    case Route::get_seat:
    case Route::hold_seat:
    case Route::pay:
      return TokenNeed::active;
    default:
      return TokenNeed::live;
  }
}

std::optional<TokenId> verified_token(Fixture& f, const HttpRequestView& view) {
  if (!view.authorization.has_value()) return std::nullopt;
  const std::optional<std::string_view> text = bearer_token(*view.authorization);
  if (!text.has_value()) return std::nullopt;
  const std::optional<VerifiedToken> v = f.tokens.verify(*text);
  if (!v.has_value()) return std::nullopt;
  return v->token;
}

// A path id as API.md defines it: a positive decimal within 32 bits names
// something; anything else is 0, which names nothing.
uint32_t path_id(std::string_view s) {
  int64_t v = 0;
  if (!parse_int64(s, &v) || v <= 0 || v > std::numeric_limits<uint32_t>::max()) return 0;
  return static_cast<uint32_t>(v);
}

Day path_day(std::string_view s) { return parse_day(s).value_or(-1); }

// ---- Rendered replies.

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The error body: exactly {"error":{"code":<name>,"message":<message>}}.
void check_error_body(Fixture& f, std::string_view body, Code code, std::string_view message) {
  dom::element root;
  BOXOFFICE_ASSERT(f.json.parse(body.data(), body.size()).get(root) == simdjson::SUCCESS);
  dom::object top;
  BOXOFFICE_ASSERT(root.get_object().get(top) == simdjson::SUCCESS);
  BOXOFFICE_ASSERT(top.size() == 1);
  dom::object error;
  BOXOFFICE_ASSERT(top["error"].get_object().get(error) == simdjson::SUCCESS);
  BOXOFFICE_ASSERT(error.size() == 2);
  std::string_view name;
  std::string_view text;
  BOXOFFICE_ASSERT(error["code"].get_string().get(name) == simdjson::SUCCESS);
  BOXOFFICE_ASSERT(error["message"].get_string().get(text) == simdjson::SUCCESS);
  BOXOFFICE_ASSERT(name == code_name(code));
  BOXOFFICE_ASSERT(text == message);
}

// The response bytes as the session writes them; a HEAD answer has no body.
void check_response_bytes(Fixture& f, const Reply& reply, BodyType type, bool head) {
  f.bytes.clear();
  append_response(reply, false, type, f.bytes, !head);
  const std::string status_line = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                                  std::string(reason_phrase(reply.status)) + "\r\n";
  BOXOFFICE_ASSERT(f.bytes.starts_with(status_line));
  BOXOFFICE_ASSERT(contains(f.bytes, type == BodyType::json
                                         ? "\r\nContent-Type: application/json\r\n"
                                         : "\r\nContent-Type: text/plain"));
  BOXOFFICE_ASSERT(
      contains(f.bytes, "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n"));
  BOXOFFICE_ASSERT(f.bytes.ends_with("\r\n\r\n" + (head ? std::string() : reply.body)));
  BOXOFFICE_ASSERT(contains(f.bytes, "\r\nAllow: ") == (reply.status == 405));
  if (reply.status == 405) {
    BOXOFFICE_ASSERT(!reply.allow.empty());
    BOXOFFICE_ASSERT(contains(f.bytes, "\r\nAllow: " + std::string(reply.allow) + "\r\n"));
  }
  BOXOFFICE_ASSERT(contains(f.bytes, "\r\nWWW-Authenticate: Bearer\r\n") == (reply.status == 401));
}

void check_error_reply(Fixture& f, Code code, std::string_view message, bool head) {
  const uint16_t status = f.reply.status;
  BOXOFFICE_ASSERT(status == http_status(code));
  BOXOFFICE_ASSERT(status == 400 || status == 401 || status == 403 || status == 404 ||
                   status == 405 || status == 413);
  check_response_bytes(f, f.reply, BodyType::json, head);
  check_error_body(f, f.reply.body, code, message);
}

// ---- The four kinds of outcome.

void check_reply(Fixture& f, const HttpRequestView& view, const RouteMatch& m, bool head) {
  const ParsedRequest& p = f.parsed;
  BOXOFFICE_ASSERT(!p.detail().empty());
  switch (p.code) {
    case Code::not_found:
      BOXOFFICE_ASSERT(!p.routed && m.kind == RouteMatch::Kind::not_found);
      break;
    case Code::method_not_allowed:
      BOXOFFICE_ASSERT(!p.routed && m.kind == RouteMatch::Kind::method_not_allowed);
      BOXOFFICE_ASSERT(p.allow == m.allow);
      break;
    case Code::unauthorized:
      BOXOFFICE_ASSERT(p.routed && needs_token(p.route) && !verified_token(f, view).has_value());
      break;
    case Code::forbidden:
      BOXOFFICE_ASSERT(p.routed && p.route == Route::create_concert &&
                       view.admin_key != std::optional<std::string_view>(admin_key));
      break;
    case Code::invalid_request:  // on a route without a token; elsewhere RejectAfterAuth
      BOXOFFICE_ASSERT(p.routed && !needs_token(p.route));
      break;
    case Code::payload_too_large:  // Beast's body_limit refuses such a body first
      BOXOFFICE_ASSERT(view.body.size() > body_bytes_max);
      break;
    default:
      BOXOFFICE_ASSERT(false);
  }
  if (p.routed) BOXOFFICE_ASSERT(m.kind == RouteMatch::Kind::found && m.route == p.route);
  render_rejection(p, &f.reply);
  check_error_reply(f, p.code, p.detail(), head);
}

bool holds_route_type(const ParsedRequest& p, const RouteMatch& m) {
  const CommandBody& b = p.command.body;
  const auto& params = m.params;
  switch (p.route) {
    case Route::join_queue:
      return std::holds_alternative<JoinQueue>(b);
    case Route::poll_token:
      return std::holds_alternative<PollToken>(b);
    case Route::leave_queue:
      return std::holds_alternative<LeaveQueue>(b);
    case Route::list_concerts:
      return std::holds_alternative<ListConcerts>(b);
    case Route::get_dates: {
      const auto* c = std::get_if<GetDates>(&b);
      return c != nullptr && raw(c->concert) == path_id(params[0]);
    }
    case Route::get_seats:
    case Route::get_seat: {
      const auto* c = std::get_if<GetSeats>(&b);
      const bool one = p.route == Route::get_seat;
      return c != nullptr && raw(c->concert) == path_id(params[0]) &&
             c->day == path_day(params[1]) && c->one_seat == one &&
             c->seat == (one ? path_id(params[2]) : 0u);
    }
    case Route::hold_seat:
      return std::holds_alternative<HoldSeat>(b);
    case Route::list_reservations:
      return std::holds_alternative<ListReservations>(b);
    case Route::get_reservation: {
      const auto* c = std::get_if<GetReservation>(&b);
      return c != nullptr && raw(c->reservation) == path_id(params[0]);
    }
    case Route::cancel_reservation: {
      const auto* c = std::get_if<CancelReservation>(&b);
      return c != nullptr && raw(c->reservation) == path_id(params[0]);
    }
    case Route::get_balance:
      return std::holds_alternative<GetBalance>(b);
    case Route::charge_balance:
      return std::holds_alternative<ChargeBalance>(b);
    case Route::pay:
      return std::holds_alternative<Pay>(b);
    case Route::list_payments: {
      const auto* c = std::get_if<ListPayments>(&b);
      int64_t page = 1;
      int64_t limit = limits::payments_page_limit_default;
      return c != nullptr && parse_page_query(m.query, &page, &limit) && c->page == page &&
             c->limit == limit;
    }
    case Route::refund:
      return std::holds_alternative<Refund>(b);
    case Route::create_concert:
      return std::holds_alternative<CreateConcert>(b);
    case Route::healthz:
    case Route::metrics:
      break;
  }
  return false;
}

void check_command(Fixture& f, const HttpRequestView& view, const RouteMatch& m) {
  const ParsedRequest& p = f.parsed;
  BOXOFFICE_ASSERT(p.routed && m.kind == RouteMatch::Kind::found && m.route == p.route);
  BOXOFFICE_ASSERT(p.command.time_ms == now_ms);
  const std::optional<TokenId> token = verified_token(f, view);
  if (needs_token(p.route)) BOXOFFICE_ASSERT(token.has_value());
  if (p.route == Route::create_concert) {
    BOXOFFICE_ASSERT(view.admin_key == std::optional<std::string_view>(admin_key));
  }
  if (const auto* reject = std::get_if<RejectAfterAuth>(&p.command.body)) {
    BOXOFFICE_ASSERT(needs_token(p.route));
    BOXOFFICE_ASSERT(p.code == Code::invalid_request && !p.detail().empty());
    BOXOFFICE_ASSERT(reject->code == Code::invalid_request);
    BOXOFFICE_ASSERT(reject->need == need_of(p.route));
    BOXOFFICE_ASSERT(reject->token == *token);
    return;
  }
  BOXOFFICE_ASSERT(p.code == Code::ok && p.detail().empty());
  BOXOFFICE_ASSERT(holds_route_type(p, m));
  std::visit(
      [&](const auto& c) {
        if constexpr (requires { c.token; }) BOXOFFICE_ASSERT(c.token == *token);
      },
      p.command.body);
}

// /healthz as the session answers it (Session::handle_request), with a
// healthy log.
void check_healthz(Fixture& f, bool head) {
  f.reply.reset();
  JsonWriter w(f.reply.body);
  w.begin_object();
  w.field("status", "ok");
  w.field("lastSeq", f.core_metrics.last_seq.get());
  w.field("durability", "fsync");
  w.end_object();
  check_response_bytes(f, f.reply, BodyType::json, head);
  dom::element root;
  BOXOFFICE_ASSERT(f.json.parse(f.reply.body).get(root) == simdjson::SUCCESS);
  std::string_view status;
  BOXOFFICE_ASSERT(root["status"].get_string().get(status) == simdjson::SUCCESS);
  BOXOFFICE_ASSERT(status == "ok");
}

void check_metrics(Fixture& f, bool head) {
  f.reply.reset();
  const std::array<const IoMetrics*, 1> io = {&f.io_metrics};
  render_metrics(io, f.core_metrics, 1, f.reply.body);
  BOXOFFICE_ASSERT(!f.reply.body.empty());
  check_response_bytes(f, f.reply, BodyType::prometheus_text, head);
}

// The start of a log line: the offset in the input where the message began.
std::string at(size_t start) { return "at " + std::to_string(start) + ": "; }

// One complete request, as Session::handle_request handles it. Appends what
// was seen and decided to `log`.
void handle_request(Fixture& f, const Request& req, size_t start, std::string& log) {
  const HttpRequestView view = request_view(req);
  const bool head = req.method() == http::verb::head;
  f.parser.parse(view, now_ms, &f.parsed);
  const ParsedRequest& p = f.parsed;
  const RouteMatch m = route(view.method, view.target);
  switch (p.kind) {
    case ParsedRequest::Kind::reply:
      check_reply(f, view, m, head);
      break;
    case ParsedRequest::Kind::healthz:
    case ParsedRequest::Kind::metrics: {
      const Route r = p.kind == ParsedRequest::Kind::healthz ? Route::healthz : Route::metrics;
      BOXOFFICE_ASSERT(p.routed && p.route == r && view.method == Method::get);
      BOXOFFICE_ASSERT(m.kind == RouteMatch::Kind::found && m.route == r);
      if (r == Route::healthz) check_healthz(f, head);
      if (r == Route::metrics) check_metrics(f, head);
      break;
    }
    case ParsedRequest::Kind::command:
      check_command(f, view, m);
      break;
    default:
      BOXOFFICE_ASSERT(false);  // not one of the kinds
  }
  log += at(start) + "request ";
  log.append(req.method_string().data(), req.method_string().size());
  for (const std::string_view part :
       {view.target, view.authorization.value_or("-"), view.idempotency_key.value_or("-"),
        view.admin_key.value_or("-"), view.body}) {
    log += " | ";
    for (const char c : part) log += c == '\n' ? std::string_view("\\n") : std::string_view(&c, 1);
  }
  log += req.keep_alive() ? " | keep-alive" : " | close";
  log += " -> " + std::to_string(static_cast<int>(p.kind)) + " " +
         std::to_string(static_cast<int>(p.code)) + " " + std::to_string(p.command.body.index()) +
         "\n";
}

// A refused message, as Session::bad_http answers it.
void bad_http(Fixture& f, uint16_t status, std::string_view message, size_t start,
              std::string& log) {
  const Code code = status == 413 ? Code::payload_too_large : Code::invalid_request;
  f.reply.reset();
  render_error(code, message, &f.reply);
  check_error_reply(f, code, message, false);
  log += at(start) + "bad http " + std::to_string(status) + "\n";
}

// Unparseable HTTP, as Session::on_read answers it; `unparsed` is what the
// parser left of the bytes it was offered.
void bad_http(Fixture& f, const beast::error_code& ec,
              const http::request_parser<http::string_body>& parser, std::string_view unparsed,
              size_t start, std::string& log) {
  BOXOFFICE_ASSERT(ec.category() == beast::error_code(http::error::bad_target).category());
  BOXOFFICE_ASSERT(ec != http::error::need_more && ec != http::error::partial_message);
  const bool over = ec == http::error::body_limit &&
                    body_over_limit(parser.chunked(), parser.get().body().size(), unparsed);
  const uint16_t status = over ? 413 : 400;
  const std::string_view message = over                              ? body_limit_message
                                   : ec == http::error::header_limit ? header_limit_message
                                                                     : "malformed HTTP request";
  bad_http(f, status, message, start, log);
}

constexpr std::string_view dropped_at_end = "end of stream in a message: closed\n";

// How far below header_bytes_max a header block may end and still be
// accepted in one run and refused in the other.
constexpr size_t header_limit_slack_bytes = 8;

// Where the last line of a log starts (each line ends with a newline).
size_t last_line(std::string_view s) {
  if (s.size() < 2) return 0;
  const size_t newline = s.rfind('\n', s.size() - 2);
  return newline == std::string_view::npos ? 0 : newline + 1;
}

// The offset of the message a log line names ("at N: ...").
size_t line_start(std::string_view line) {
  BOXOFFICE_ASSERT(line.starts_with("at "));
  size_t n = 0;
  for (size_t i = 3; i < line.size() && line[i] != ':'; i++) {
    n = n * 10 + static_cast<size_t>(line[i] - '0');
  }
  return n;
}

// The size of the header block of the message at `start` as sent (start
// line and fields, through the blank line), or npos if it never ends.
size_t sent_header_bytes(std::string_view input, size_t start) {
  const size_t end = input.find("\r\n\r\n", start);
  return end == std::string_view::npos ? end : end + 4 - start;
}

// `refused` ended with a 400 for a message that `accepted` parsed as a
// request, and the message's header block as sent is at or over the header
// limit. Beast applies header_limit to the fields and counts the start line
// against it only when the two arrive in different reads, and the session's
// own measure (header_block_bytes) does not count the optional whitespace
// Beast drops: at the limit, the answer depends on how a request was split
// into reads. Both runs agree up to that message.
bool header_limit_boundary(std::string_view input, std::string_view refused,
                           std::string_view accepted) {
  const size_t last = last_line(refused);
  const std::string_view refused_line = refused.substr(last);
  if (!refused_line.ends_with(": bad http 400\n")) return false;
  const size_t start = line_start(refused_line);
  if (accepted.size() < last) return false;
  if (!accepted.substr(last).starts_with(at(start) + "request ")) return false;
  if (refused.substr(0, last) != accepted.substr(0, last)) return false;
  const size_t header = sent_header_bytes(input, start);
  BOXOFFICE_ASSERT(header != std::string_view::npos);  // `accepted` parsed it
  return header + header_limit_slack_bytes > header_bytes_max;
}

// Two runs of one connection saw the same. Beast parses a header once its
// end has arrived, except what it is handed at once: a malformed header
// that the input never finishes is refused (400) when it came in one read,
// and dropped at the end of the stream when it came in pieces. Both close
// the connection. And see header_limit_boundary().
bool same_connection(std::string_view input, std::string_view a, std::string_view b) {
  if (a == b) return true;
  if (header_limit_boundary(input, a, b) || header_limit_boundary(input, b, a)) return true;
  const size_t a_last = last_line(a);
  const size_t b_last = last_line(b);
  const std::string_view a_end = a.substr(a_last);
  const std::string_view b_end = b.substr(b_last);
  const auto refused = [](std::string_view line) { return line.ends_with(": bad http 400\n"); };
  const auto dropped = [](std::string_view line) { return line.ends_with(dropped_at_end); };
  const bool refused_or_dropped =
      (refused(a_end) && dropped(b_end)) || (dropped(a_end) && refused(b_end));
  return refused_or_dropped && line_start(a_end) == line_start(b_end) &&
         a.substr(0, a_last) == b.substr(0, b_last);
}

// Feeds `input` to the parsers of one connection, `chunk` more bytes at a
// time whenever a parser needs more, as a stream would deliver them into the
// session's buffer. Returns what happened, one line per event.
std::string run_connection(Fixture& f, std::string_view input, size_t chunk) {
  std::string log;
  size_t pos = 0;    // the first byte not yet consumed by a parser
  size_t avail = 0;  // the bytes delivered so far
  for (;;) {
    const size_t start = pos;  // where this message begins
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_bytes_max);
    parser.body_limit(body_bytes_max);
    parser.eager(true);
    for (;;) {
      beast::error_code ec;
      if (pos < avail) {
        const size_t used =
            parser.put(boost::asio::const_buffer(input.data() + pos, avail - pos), ec);
        pos += used;
        if (parser.is_done()) break;
        if (ec && ec != http::error::need_more) {
          bad_http(f, ec, parser, input.substr(pos, avail - pos), start, log);
          return log;
        }
        if (!ec && used > 0 && pos < avail) continue;  // progress: offer the rest
      }
      // The parser needs more bytes than it has.
      if (avail == input.size()) {
        // The end of the stream (as http::read does: put_eof if some was read).
        if (!parser.got_some()) return log + at(start) + "end of stream\n";
        parser.put_eof(ec);
        if (ec) return log + at(start) + std::string(dropped_at_end);
        break;
      }
      avail = std::min(input.size(), avail + chunk);
    }
    BOXOFFICE_ASSERT(parser.is_done());
    if (pos - start > header_bytes_max && header_block_bytes(parser.get()) > header_bytes_max) {
      bad_http(f, 400, header_limit_message, start, log);
      return log;
    }
    handle_request(f, parser.get(), start, log);
    if (!parser.get().keep_alive()) return log + at(start) + "connection: close\n";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string whole = run_connection(f, input, std::max<size_t>(size, 1));
  const size_t chunk = size == 0 ? 1 : 1 + data[size - 1] % 16;
  const std::string pieces = run_connection(f, input, chunk);
  if (!same_connection(input, whole, pieces)) {
    std::fprintf(stderr, "in one read:\n%s\nin pieces of %zu bytes:\n%s\n", whole.c_str(), chunk,
                 pieces.c_str());
    BOXOFFICE_ASSERT(false);  // the runs differ
  }
  return 0;
}
