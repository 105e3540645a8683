// Fuzz target: the JSON bodies of the write endpoints (RequestParser).
//
// Input: byte 0 picks the endpoint (bits 0-2, `endpoints` below) and the
// Idempotency-Key header (bits 3-4: none, valid, unprintable, 65
// characters); the rest is the body. Every request carries a bearer token
// signed with the fixed secret, and POST /v1/admin/concerts the configured
// X-Admin-Key.
//
// Properties:
// - The outcome is either a command of the endpoint's type or a 400-class
//   refusal: INVALID_REQUEST now on the routes without a token,
//   RejectAfterAuth{token, need, invalid_request} on the others, with a
//   detail (a body over 64 KiB: 413 PAYLOAD_TOO_LARGE). The DELETE routes
//   ignore the body; a bad Idempotency-Key refuses the routes that take one.
// - An accepted body is one well-formed JSON object (simdjson's DOM parser
//   agrees), and every field of the command is what the DOM reads from the
//   last occurrence of its key, within the ranges the parser checks itself
//   (ids positive, beyond 32 bits 0; real dates; userId at most 64 bytes,
//   title 800, reason 2,000; at most 1,000 dates). Amounts, seat numbers,
//   character sets and the rest are the core's to check, not the parser's.
// - The token, the key and the stamp are the request's.
// - The same request parsed again, after other requests have left other
//   bytes in the parser's reused buffers, gives the same outcome.
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/assert.hpp"
#include "engine/civil_date.hpp"
#include "net/request_parser.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using boxoffice::fuzz::admin_key;
using boxoffice::fuzz::fuzz_secret;
using boxoffice::fuzz::now_ms;

using namespace boxoffice;
using namespace boxoffice::net;
namespace dom = simdjson::dom;

constexpr uint64_t token_id = 4242;
constexpr std::string_view valid_key = "fuzz-key-1";

struct Endpoint {
  Method method;
  std::string_view target;
  Route route;
};

constexpr std::array<Endpoint, 8> endpoints = {{
    {Method::post, "/v1/queue/tokens", Route::join_queue},
    {Method::post, "/v1/reservations", Route::hold_seat},
    {Method::post, "/v1/payments", Route::pay},
    {Method::post, "/v1/balance/charge", Route::charge_balance},
    {Method::post, "/v1/refunds", Route::refund},
    {Method::post, "/v1/admin/concerts", Route::create_concert},
    {Method::del, "/v1/queue/tokens/current", Route::leave_queue},
    {Method::del, "/v1/reservations/7", Route::cancel_reservation},
}};

enum class KeyHeader : uint8_t { none, valid, unprintable, too_long };

bool needs_token(Route r) { return r != Route::join_queue && r != Route::create_concert; }

bool takes_key(Route r) {
  return r == Route::hold_seat || r == Route::pay || r == Route::charge_balance ||
         r == Route::refund;
}

// As RequestParser's token_need(): the write routes that need an active token.
TokenNeed need_of(Route r) {
  return r == Route::hold_seat || r == Route::pay ? TokenNeed::active : TokenNeed::live;
}

// ---- A ParsedRequest as text, to compare two outcomes field by field.

void add(std::string& s, std::string_view name, int64_t v) {
  s += name;
  s += '=';
  s += std::to_string(v);
  s += ' ';
}

void add(std::string& s, std::string_view name, std::string_view v) {
  s += name;
  s += "=[";
  s += v;
  s += "] ";
}

template <typename C>
void describe_body(const C& c, std::string& s) {
  if constexpr (requires { c.token; }) add(s, "token", static_cast<int64_t>(raw(c.token)));
  if constexpr (requires { c.user; }) add(s, "user", c.user.view());
  if constexpr (requires { c.concert; }) add(s, "concert", raw(c.concert));
  if constexpr (requires { c.day; }) add(s, "day", c.day);
  if constexpr (requires { c.seat; }) add(s, "seat", static_cast<int64_t>(c.seat));
  if constexpr (requires { c.one_seat; }) add(s, "one_seat", c.one_seat);
  if constexpr (requires { c.reservation; }) add(s, "reservation", raw(c.reservation));
  if constexpr (requires { c.amount_present; }) add(s, "amount_present", c.amount_present);
  if constexpr (requires { c.amount; }) add(s, "amount", c.amount);
  if constexpr (requires { c.page; }) add(s, "page", c.page);
  if constexpr (requires { c.limit; }) add(s, "limit", c.limit);
  if constexpr (requires { c.reason; }) add(s, "reason", c.reason);
  if constexpr (requires { c.key; }) add(s, "key", c.key.view());
  if constexpr (requires { c.title; }) add(s, "title", c.title);
  if constexpr (requires { c.dates; }) {
    for (const NewDate& d : c.dates) {
      add(s, "date.day", d.day);
      add(s, "date.seats", d.seats);
      add(s, "date.price", d.price);
    }
  }
  if constexpr (requires { c.need; }) add(s, "need", static_cast<int64_t>(c.need));
  if constexpr (requires { c.code; }) add(s, "code", static_cast<int64_t>(c.code));
}

std::string describe(const ParsedRequest& p) {
  std::string s;
  add(s, "kind", static_cast<int64_t>(p.kind));
  add(s, "routed", p.routed);
  add(s, "route", static_cast<int64_t>(p.route));
  add(s, "code", static_cast<int64_t>(p.code));
  add(s, "allow", p.allow);
  add(s, "detail", p.detail());
  add(s, "time", p.command.time_ms);
  add(s, "body", static_cast<int64_t>(p.command.body.index()));
  std::visit([&](const auto& c) { describe_body(c, s); }, p.command.body);
  return s;
}

// ---- What the DOM parser reads from the body.

std::optional<dom::element> last(dom::object object, std::string_view key) {
  std::optional<dom::element> found;
  for (const dom::key_value_pair field : object) {
    if (field.key == key) found = field.value;
  }
  return found;
}

int64_t int_of(std::optional<dom::element> e) {
  BOXOFFICE_ASSERT(e.has_value());
  int64_t v = 0;
  BOXOFFICE_ASSERT(e->get_int64().get(v) == simdjson::SUCCESS);
  return v;
}

std::string_view string_of(std::optional<dom::element> e) {
  BOXOFFICE_ASSERT(e.has_value());
  std::string_view v;
  BOXOFFICE_ASSERT(e->get_string().get(v) == simdjson::SUCCESS);
  return v;
}

bool absent_or_null(std::optional<dom::element> e) { return !e.has_value() || e->is_null(); }

// A body id as the parser maps it: positive, and beyond 32 bits 0.
uint32_t id_of(std::optional<dom::element> e) {
  const int64_t v = int_of(e);
  BOXOFFICE_ASSERT(v > 0);
  return v > std::numeric_limits<uint32_t>::max() ? 0 : static_cast<uint32_t>(v);
}

Day day_of(std::optional<dom::element> e) {
  const std::optional<Day> day = parse_day(string_of(e));
  BOXOFFICE_ASSERT(day.has_value());
  BOXOFFICE_ASSERT(*day >= limits::day_min && *day <= limits::day_max);
  return *day;
}

void check_body_fields(dom::object o, const CommandBody& body) {
  if (const auto* c = std::get_if<JoinQueue>(&body)) {
    BOXOFFICE_ASSERT(string_of(last(o, "userId")) == c->user.view());
    BOXOFFICE_ASSERT(c->user.view().size() <= limits::user_name_bytes_max);
  } else if (const auto* h = std::get_if<HoldSeat>(&body)) {
    BOXOFFICE_ASSERT(raw(h->concert) == id_of(last(o, "concertId")));
    BOXOFFICE_ASSERT(h->day == day_of(last(o, "date")));
    BOXOFFICE_ASSERT(h->seat == int_of(last(o, "seatNumber")));
  } else if (const auto* charge = std::get_if<ChargeBalance>(&body)) {
    BOXOFFICE_ASSERT(charge->amount == int_of(last(o, "amount")));
  } else if (const auto* pay = std::get_if<Pay>(&body)) {
    BOXOFFICE_ASSERT(raw(pay->reservation) == id_of(last(o, "reservationId")));
    const std::optional<dom::element> amount = last(o, "amount");
    BOXOFFICE_ASSERT(pay->amount_present == !absent_or_null(amount));
    BOXOFFICE_ASSERT(pay->amount == (pay->amount_present ? int_of(amount) : 0));
  } else if (const auto* refund = std::get_if<Refund>(&body)) {
    BOXOFFICE_ASSERT(raw(refund->reservation) == id_of(last(o, "reservationId")));
    const std::optional<dom::element> reason = last(o, "reason");
    BOXOFFICE_ASSERT(refund->reason == (absent_or_null(reason) ? "" : string_of(reason)));
    BOXOFFICE_ASSERT(refund->reason.size() <= limits::refund_reason_bytes_max);
  } else if (const auto* create = std::get_if<CreateConcert>(&body)) {
    BOXOFFICE_ASSERT(create->title == string_of(last(o, "title")));
    BOXOFFICE_ASSERT(create->title.size() <= limits::title_bytes_max);
    const std::optional<dom::element> dates = last(o, "dates");
    BOXOFFICE_ASSERT(dates.has_value());
    dom::array array;
    BOXOFFICE_ASSERT(dates->get_array().get(array) == simdjson::SUCCESS);
    BOXOFFICE_ASSERT(array.size() == create->dates.size());
    BOXOFFICE_ASSERT(create->dates.size() <= limits::dates_per_concert_max);
    size_t i = 0;
    for (const dom::element e : array) {
      dom::object date;
      BOXOFFICE_ASSERT(e.get_object().get(date) == simdjson::SUCCESS);
      BOXOFFICE_ASSERT(create->dates[i].day == day_of(last(date, "date")));
      BOXOFFICE_ASSERT(create->dates[i].seats == int_of(last(date, "seats")));
      BOXOFFICE_ASSERT(create->dates[i].price == int_of(last(date, "price")));
      i++;
    }
  } else {
    BOXOFFICE_ASSERT(false);  // no other command has a body
  }
}

// The token and key a command carries are the request's.
void check_token_and_key(const CommandBody& body, std::optional<std::string_view> key) {
  std::visit(
      [&](const auto& c) {
        if constexpr (requires { c.token; }) BOXOFFICE_ASSERT(raw(c.token) == token_id);
        if constexpr (requires { c.key; }) {
          BOXOFFICE_ASSERT(c.key.view() == key.value_or(std::string_view{}));
        }
      },
      body);
}

bool holds_endpoint_type(Route r, const CommandBody& body) {
  switch (r) {
    case Route::join_queue:
      return std::holds_alternative<JoinQueue>(body);
    case Route::hold_seat:
      return std::holds_alternative<HoldSeat>(body);
    case Route::pay:
      return std::holds_alternative<Pay>(body);
    case Route::charge_balance:
      return std::holds_alternative<ChargeBalance>(body);
    case Route::refund:
      return std::holds_alternative<Refund>(body);
    case Route::create_concert:
      return std::holds_alternative<CreateConcert>(body);
    case Route::leave_queue:
      return std::holds_alternative<LeaveQueue>(body);
    case Route::cancel_reservation: {
      const auto* c = std::get_if<CancelReservation>(&body);
      return c != nullptr && raw(c->reservation) == 7;
    }
    default:
      return false;
  }
}

void check_accepted(const Endpoint& e, const HttpRequestView& request, const ParsedRequest& p,
                    dom::parser& dom_parser) {
  BOXOFFICE_ASSERT(p.code == Code::ok && p.detail().empty());
  BOXOFFICE_ASSERT(holds_endpoint_type(e.route, p.command.body));
  check_token_and_key(p.command.body, request.idempotency_key);
  if (e.method != Method::post) return;
  dom::element root;
  BOXOFFICE_ASSERT(dom_parser.parse(request.body.data(), request.body.size()).get(root) ==
                   simdjson::SUCCESS);
  dom::object object;
  BOXOFFICE_ASSERT(root.get_object().get(object) == simdjson::SUCCESS);
  check_body_fields(object, p.command.body);
}

void check_refused(const Endpoint& e, const ParsedRequest& p) {
  BOXOFFICE_ASSERT(e.method == Method::post);  // DELETE ignores the body
  BOXOFFICE_ASSERT(!p.detail().empty());
  if (p.code == Code::payload_too_large) {
    BOXOFFICE_ASSERT(p.kind == ParsedRequest::Kind::reply);
    return;
  }
  BOXOFFICE_ASSERT(p.code == Code::invalid_request);
  if (!needs_token(e.route)) {
    BOXOFFICE_ASSERT(p.kind == ParsedRequest::Kind::reply);
    return;
  }
  BOXOFFICE_ASSERT(p.kind == ParsedRequest::Kind::command);
  const auto* reject = std::get_if<RejectAfterAuth>(&p.command.body);
  BOXOFFICE_ASSERT(reject != nullptr);
  BOXOFFICE_ASSERT(raw(reject->token) == token_id);
  BOXOFFICE_ASSERT(reject->need == need_of(e.route));
  BOXOFFICE_ASSERT(reject->code == Code::invalid_request);
}

void check(const Endpoint& e, const HttpRequestView& request, const ParsedRequest& p,
           dom::parser& dom_parser) {
  BOXOFFICE_ASSERT(p.routed && p.route == e.route);
  BOXOFFICE_ASSERT(p.command.time_ms == now_ms);
  if (request.body.size() > body_bytes_max) BOXOFFICE_ASSERT(p.code == Code::payload_too_large);
  const bool refused = p.kind == ParsedRequest::Kind::reply ||
                       std::holds_alternative<RejectAfterAuth>(p.command.body);
  if (refused) return check_refused(e, p);
  BOXOFFICE_ASSERT(p.kind == ParsedRequest::Kind::command);
  // A malformed Idempotency-Key refuses the routes that take one.
  const bool bad_key =
      request.idempotency_key.has_value() && !is_valid_idempotency_key(*request.idempotency_key);
  BOXOFFICE_ASSERT(!(bad_key && takes_key(e.route)));
  check_accepted(e, request, p, dom_parser);
}

// Requests that leave other bytes and other state in the parser's buffers:
// a long create_concert with unknown fields (its DOM validator runs) and a
// join whose userId is too long, full of escapes.
std::string disturbing_body(int which) {
  std::string s;
  if (which == 0) {
    s = R"({"title":"t","dates":[{"date":"2027-01-01","seats":1,"price":1,"n":[)";
    for (int i = 0; i < 450; i++) s += "1234567890,";
    s += R"(0]}],"more":{"a":null}})";
  } else {
    s = R"({"userId":")";
    for (int i = 0; i < 600; i++) s += R"(\"{}[]:,)";
    s += R"("})";
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static RequestParser parser(fuzz_secret(), std::string(admin_key));
  static dom::parser dom_parser;
  static std::string authorization;
  static const std::array<std::string, 2> disturbing = {disturbing_body(0), disturbing_body(1)};
  if (authorization.empty()) {
    authorization = "Bearer ";
    parser.tokens().sign(TokenId{token_id}, "fuzzer", authorization);
  }
  static const std::string too_long_key(limits::idempotency_key_bytes_max + 1, 'k');

  const Endpoint& e = endpoints[data[0] & 7];
  HttpRequestView request;
  request.method = e.method;
  request.target = e.target;
  request.authorization = authorization;
  request.admin_key = admin_key;
  switch (static_cast<KeyHeader>((data[0] >> 3) & 3)) {
    case KeyHeader::none:
      break;
    case KeyHeader::valid:
      request.idempotency_key = valid_key;
      break;
    case KeyHeader::unprintable:
      request.idempotency_key = std::string_view("fuzz\x01key");
      break;
    case KeyHeader::too_long:
      request.idempotency_key = too_long_key;
      break;
  }
  request.body = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);

  // One ParsedRequest for every parse, as an I/O thread reuses its scratch
  // IngressItem: state left over from an earlier request would show.
  static ParsedRequest parsed;
  parser.parse(request, now_ms, &parsed);
  check(e, request, parsed, dom_parser);
  const std::string expected = describe(parsed);

  for (size_t i = 0; i < disturbing.size(); i++) {
    HttpRequestView other;
    other.method = Method::post;
    other.target = i == 0 ? "/v1/admin/concerts" : "/v1/queue/tokens";
    other.admin_key = admin_key;
    other.body = disturbing[i];
    parser.parse(other, now_ms, &parsed);
    parser.parse(request, now_ms, &parsed);
    BOXOFFICE_ASSERT(describe(parsed) == expected);
  }
  return 0;
}
