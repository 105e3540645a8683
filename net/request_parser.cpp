#include "net/request_parser.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <limits>

#include "engine/civil_date.hpp"
#include "net/simdjson.hpp"

namespace boxoffice::net {

namespace ondemand = simdjson::ondemand;

void ParsedRequest::set_detail(std::string_view a, std::string_view b, std::string_view c) {
  size_t n = 0;
  for (const std::string_view part : {a, b, c}) {
    const size_t take = std::min(part.size(), detail_chars_max - n);
    std::copy_n(part.data(), take, detail_buf.data() + n);
    n += take;
  }
  detail_size = static_cast<uint8_t>(n);
}

struct RequestParser::Json {
  ondemand::parser parser{body_bytes_max};
  std::string padded;  // the body, with simdjson's padding after it
};

namespace {

// The token state each authenticated route needs.
TokenNeed token_need(Route route) {
  switch (route) {
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

bool needs_token(Route route) {
  switch (route) {
    case Route::join_queue:
    case Route::list_concerts:
    case Route::create_concert:
    case Route::healthz:
    case Route::metrics:
      return false;
    default:
      return true;
  }
}

bool takes_idempotency_key(Route route) {
  return route == Route::hold_seat || route == Route::pay || route == Route::charge_balance ||
         route == Route::refund;
}

// A path id: a positive decimal that fits in 32 bits, else 0 (names nothing).
uint32_t path_id(std::string_view s) {
  int64_t v = 0;
  if (!parse_int64(s, &v) || v <= 0 || v > std::numeric_limits<uint32_t>::max()) return 0;
  return static_cast<uint32_t>(v);
}

Day path_day(std::string_view s) { return parse_day(s).value_or(-1); }

// A body id: positive (else malformed); beyond 32 bits names nothing (0).
bool body_id(int64_t v, uint32_t* out) {
  if (v <= 0) return false;
  *out = v > std::numeric_limits<uint32_t>::max() ? 0 : static_cast<uint32_t>(v);
  return true;
}

// Reads one JSON body. Each reader returns false after setting the detail.
class BodyReader {
 public:
  BodyReader(ondemand::value value, ParsedRequest* out) : value_(value), out_(out) {}

  bool int64(std::string_view name, int64_t* v) {
    if (value_.get_int64().get(*v) == simdjson::SUCCESS) return true;
    out_->set_detail(name, " must be an integer (int64)");
    return false;
  }
  bool string(std::string_view name, std::string_view* v) {
    if (value_.get_string().get(*v) == simdjson::SUCCESS) return true;
    out_->set_detail(name, " must be a string");
    return false;
  }
  ondemand::value& value() { return value_; }

 private:
  ondemand::value value_;
  ParsedRequest* out_;
};

// On-Demand asserts (and only in debug builds) that it is never led deeper
// than its parser's depth; read_unused stops before that.
static_assert(json_depth_max + 2 < simdjson::DEFAULT_MAX_DEPTH);

// RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, of any
// size (a value nobody reads need not fit an int64 or a double).
bool is_json_number(std::string_view t) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') i++;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') i++;
  if (i < t.size() && t[i] == '0') {
    i++;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    i++;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    i++;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) i++;
    if (!digits()) return false;
  }
  return i == t.size();
}

// Reads through a value the request does not use (On-Demand would skip it
// unread): true when it is well-formed JSON whose arrays and objects, `depth`
// levels below the body, nest at most json_depth_max levels in all. Sets the
// detail when it is not.
bool read_unused(ondemand::value value, uint32_t depth, ParsedRequest* out) {
  ondemand::json_type type = ondemand::json_type::null;
  bool ok = value.type().get(type) == simdjson::SUCCESS;
  const bool nests = type == ondemand::json_type::array || type == ondemand::json_type::object;
  if (ok && nests && depth + 1 > json_depth_max) {
    static const std::string detail =
        "the body nests deeper than " + std::to_string(json_depth_max) + " levels";
    out->set_detail(detail);
    return false;
  }
  if (ok) {
    switch (type) {
      case ondemand::json_type::array: {
        ondemand::array array;
        ok = value.get_array().get(array) == simdjson::SUCCESS;
        for (auto element : array) {
          if (!ok) break;
          ondemand::value v;
          if (element.get(v) != simdjson::SUCCESS) {
            ok = false;
          } else if (!read_unused(v, depth + 1, out)) {
            return false;
          }
        }
        break;
      }
      case ondemand::json_type::object: {
        ondemand::object object;
        ok = value.get_object().get(object) == simdjson::SUCCESS;
        for (auto field : object) {
          if (!ok) break;
          std::string_view key;
          ondemand::value v;
          if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
              field.value().get(v) != simdjson::SUCCESS) {
            ok = false;
          } else if (!read_unused(v, depth + 1, out)) {
            return false;
          }
        }
        break;
      }
      case ondemand::json_type::number: {
        std::string_view token = value.raw_json_token();  // with the whitespace after it
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t' ||
                                  token.back() == '\n' || token.back() == '\r')) {
          token.remove_suffix(1);
        }
        ok = is_json_number(token);
        break;
      }
      case ondemand::json_type::string: {
        std::string_view text;
        ok = value.get_string().get(text) == simdjson::SUCCESS;
        break;
      }
      case ondemand::json_type::boolean: {
        bool b = false;
        ok = value.get_bool().get(b) == simdjson::SUCCESS;
        break;
      }
      case ondemand::json_type::null: {
        bool null = false;
        ok = value.is_null().get(null) == simdjson::SUCCESS && null;
        break;
      }
    }
  }
  if (!ok) out->set_detail("malformed JSON");
  return ok;
}

// Visits every field of one JSON object. on_field(key, BodyReader&) returns
// 1 (used), 0 (unknown: read through and checked as JSON, then ignored), -1
// (malformed). `depth`: how deep the object is in the body (0: the body).
template <typename OnField>
bool for_each_field(ondemand::object object, uint32_t depth, ParsedRequest* out,
                    OnField&& on_field) {
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      out->set_detail("malformed JSON");
      return false;
    }
    ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) {
      out->set_detail("malformed JSON");
      return false;
    }
    BodyReader reader(value, out);
    const int used = on_field(key, reader);
    if (used < 0) return false;
    if (used == 0 && !read_unused(value, depth + 1, out)) return false;
  }
  return true;
}

}  // namespace

RequestParser::RequestParser(const TokenSecret& secret, std::optional<std::string> admin_key)
    : tokens_(secret), admin_key_(std::move(admin_key)), json_(std::make_unique<Json>()) {
  json_->padded.reserve(body_bytes_max + simdjson::SIMDJSON_PADDING);
  BOXOFFICE_ASSERT(json_->parser.allocate(body_bytes_max) == simdjson::SUCCESS);
}

RequestParser::~RequestParser() = default;

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return std::nullopt;
  for (size_t i = 0; i < scheme.size(); i++) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return std::nullopt;
  }
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

bool RequestParser::authenticate(const HttpRequestView& request, ParsedRequest* out,
                                 TokenId* token) {
  out->kind = ParsedRequest::Kind::reply;
  out->code = Code::unauthorized;
  if (!request.authorization.has_value()) {
    out->set_detail("missing Authorization: Bearer token");
    return false;
  }
  const std::optional<std::string_view> text = bearer_token(*request.authorization);
  if (!text.has_value()) {
    out->set_detail("Authorization must be: Bearer <token>");
    return false;
  }
  const std::optional<VerifiedToken> verified = tokens_.verify(*text);
  if (!verified.has_value()) {
    out->set_detail("invalid token");
    return false;
  }
  *token = verified->token;
  out->code = Code::ok;
  return true;
}

bool RequestParser::admin_allowed(const HttpRequestView& request) const {
  if (!admin_key_.has_value() || !request.admin_key.has_value()) return false;
  const std::string_view given = *request.admin_key;
  if (given.size() != admin_key_->size()) return false;
  return CRYPTO_memcmp(given.data(), admin_key_->data(), given.size()) == 0;
}

void RequestParser::parse(const HttpRequestView& request, TimeMs now_ms, ParsedRequest* out) {
  *out = ParsedRequest{};
  out->command.time_ms = now_ms;
  const RouteMatch match = route(request.method, request.target);
  if (match.kind == RouteMatch::Kind::not_found) {
    out->code = Code::not_found;
    out->set_detail("no such route");
    return;
  }
  if (match.kind == RouteMatch::Kind::method_not_allowed) {
    out->code = Code::method_not_allowed;
    out->allow = match.allow;
    out->set_detail("allowed: ", match.allow);
    return;
  }
  out->routed = true;
  out->route = match.route;
  parse_routed(request, match, out);
}

namespace {

// Parses the padded body as one JSON object and visits its fields. Returns
// false with the detail set when it is not one well-formed object with
// well-typed fields.
template <typename OnField>
bool parse_object(ondemand::parser& parser, const std::string& padded, ParsedRequest* out,
                  OnField&& on_field) {
  const simdjson::padded_string_view view(padded.data(), padded.size(), padded.capacity());
  ondemand::document doc;
  ondemand::object object;
  if (parser.iterate(view).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    out->set_detail("the body must be a JSON object");
    return false;
  }
  if (!for_each_field(object, 0, out, on_field)) return false;
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    out->set_detail("malformed JSON (content after the object)");
    return false;
  }
  return true;
}

}  // namespace

namespace {

// The request's own body, decoded per route. Each returns false with the
// detail set when the body is malformed.
struct BodyContext {
  ondemand::parser& parser;
  const std::string& padded;
  ParsedRequest* out;
  TokenId token;
  IdempotencyKey key;

  template <typename OnField>
  bool object(OnField&& on_field) {
    return parse_object(parser, padded, out, std::forward<OnField>(on_field));
  }
  bool fail(std::string_view a, std::string_view b = {}) {
    out->set_detail(a, b);
    return false;
  }
};

bool parse_join(BodyContext& c) {
  std::optional<std::string_view> user;
  if (!c.object([&](std::string_view k, BodyReader& v) -> int {
        if (k != "userId") return 0;
        return v.string(k, &user.emplace()) ? 1 : -1;
      })) {
    return false;
  }
  if (!user.has_value()) return c.fail("missing field ", "userId");
  if (user->size() > limits::user_name_bytes_max) {
    return c.fail("userId must be 1 to 64 characters of A-Z a-z 0-9 _ - . @");
  }
  c.out->command.body = JoinQueue{UserName::from(*user)};
  return true;
}

bool parse_hold(BodyContext& c) {
  std::optional<int64_t> concert, seat;
  std::optional<std::string_view> date;
  if (!c.object([&](std::string_view k, BodyReader& v) -> int {
        if (k == "concertId") return v.int64(k, &concert.emplace()) ? 1 : -1;
        if (k == "date") return v.string(k, &date.emplace()) ? 1 : -1;
        if (k == "seatNumber") return v.int64(k, &seat.emplace()) ? 1 : -1;
        return 0;
      })) {
    return false;
  }
  if (!concert.has_value()) return c.fail("missing field ", "concertId");
  if (!date.has_value()) return c.fail("missing field ", "date");
  if (!seat.has_value()) return c.fail("missing field ", "seatNumber");
  uint32_t concert_id = 0;
  if (!body_id(*concert, &concert_id)) return c.fail("concertId must be a positive integer");
  // Below 1 is out of range for every date (400 before the state's 404);
  // above the date's seats only the core can tell.
  if (*seat < 1) return c.fail("seatNumber must be a positive integer");
  const std::optional<Day> day = parse_day(*date);
  if (!day.has_value()) return c.fail("date must be a real date, YYYY-MM-DD");
  HoldSeat& hold = c.out->command.body.emplace<HoldSeat>();
  hold.token = c.token;
  hold.concert = ConcertId{concert_id};
  hold.day = *day;
  hold.seat = *seat;
  hold.key = c.key;
  return true;
}

bool parse_charge(BodyContext& c) {
  std::optional<int64_t> amount;
  if (!c.object([&](std::string_view k, BodyReader& v) -> int {
        if (k != "amount") return 0;
        return v.int64(k, &amount.emplace()) ? 1 : -1;
      })) {
    return false;
  }
  if (!amount.has_value()) return c.fail("missing field ", "amount");
  c.out->command.body = ChargeBalance{c.token, *amount, c.key};
  return true;
}

bool parse_pay(BodyContext& c) {
  std::optional<int64_t> reservation, amount;
  if (!c.object([&](std::string_view k, BodyReader& v) -> int {
        if (k == "reservationId") return v.int64(k, &reservation.emplace()) ? 1 : -1;
        if (k == "amount") return v.int64(k, &amount.emplace()) ? 1 : -1;
        return 0;
      })) {
    return false;
  }
  if (!reservation.has_value()) return c.fail("missing field ", "reservationId");
  uint32_t id = 0;
  if (!body_id(*reservation, &id)) return c.fail("reservationId must be a positive integer");
  Pay& pay = c.out->command.body.emplace<Pay>();
  pay.token = c.token;
  pay.reservation = ReservationId{id};
  pay.amount_present = amount.has_value();
  pay.amount = amount.value_or(0);
  pay.key = c.key;
  return true;
}

bool parse_refund(BodyContext& c) {
  std::optional<int64_t> reservation;
  std::string_view reason;
  if (!c.object([&](std::string_view k, BodyReader& v) -> int {
        if (k == "reservationId") return v.int64(k, &reservation.emplace()) ? 1 : -1;
        if (k == "reason") return v.string(k, &reason) ? 1 : -1;
        return 0;
      })) {
    return false;
  }
  if (!reservation.has_value()) return c.fail("missing field ", "reservationId");
  uint32_t id = 0;
  if (!body_id(*reservation, &id)) return c.fail("reservationId must be a positive integer");
  if (reason.size() > limits::refund_reason_bytes_max) {
    return c.fail("reason must be at most 500 characters");
  }
  Refund& refund = c.out->command.body.emplace<Refund>();
  refund.token = c.token;
  refund.reservation = ReservationId{id};
  refund.reason = reason;
  refund.key = c.key;
  return true;
}

// One element of a new concert's "dates": {"date", "seats", "price"}.
bool parse_new_date(BodyContext& c, ondemand::value& element, NewDate* out) {
  ondemand::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    return c.fail("each of dates must be an object");
  }
  std::optional<int64_t> seats, price;
  std::optional<std::string_view> date;
  // The body's "dates" array holds it: two levels below the body.
  if (!for_each_field(object, 2, c.out, [&](std::string_view k, BodyReader& v) -> int {
        if (k == "date") return v.string(k, &date.emplace()) ? 1 : -1;
        if (k == "seats") return v.int64(k, &seats.emplace()) ? 1 : -1;
        if (k == "price") return v.int64(k, &price.emplace()) ? 1 : -1;
        return 0;
      })) {
    return false;
  }
  if (!date.has_value()) return c.fail("missing field ", "dates[].date");
  if (!seats.has_value()) return c.fail("missing field ", "dates[].seats");
  if (!price.has_value()) return c.fail("missing field ", "dates[].price");
  const std::optional<Day> day = parse_day(*date);
  if (!day.has_value()) return c.fail("dates[].date must be a real date, YYYY-MM-DD");
  *out = NewDate{*day, *seats, *price};
  return true;
}

bool parse_dates(BodyContext& c, BodyReader& v, std::vector<NewDate>* dates) {
  ondemand::array array;
  if (v.value().get_array().get(array) != simdjson::SUCCESS) {
    return c.fail("dates must be an array");
  }
  dates->clear();
  for (auto element : array) {
    ondemand::value value;
    if (element.get(value) != simdjson::SUCCESS) return c.fail("malformed JSON");
    if (dates->size() == limits::dates_per_concert_max) {
      return c.fail("a concert has 1 to 1000 dates");
    }
    if (!parse_new_date(c, value, &dates->emplace_back())) return false;
  }
  return true;
}

bool parse_create_concert(BodyContext& c) {
  CreateConcert& create = c.out->command.body.emplace<CreateConcert>();
  bool has_title = false, has_dates = false;
  if (!c.object([&](std::string_view k, BodyReader& v) -> int {
        if (k == "title") {
          std::string_view title;
          if (!v.string(k, &title)) return -1;
          if (title.size() > limits::title_bytes_max) {
            return c.fail("title must be 1 to 200 characters"), -1;
          }
          create.title = title;
          return has_title = true, 1;
        }
        if (k == "dates") return has_dates = true, parse_dates(c, v, &create.dates) ? 1 : -1;
        return 0;
      })) {
    return false;
  }
  if (!has_title) return c.fail("missing field ", "title");
  if (!has_dates) return c.fail("missing field ", "dates");
  return true;
}

}  // namespace

void RequestParser::parse_routed(const HttpRequestView& request, const RouteMatch& match,
                                 ParsedRequest* out) {
  const Route r = match.route;
  if (r == Route::healthz || r == Route::metrics) {
    out->kind = r == Route::healthz ? ParsedRequest::Kind::healthz : ParsedRequest::Kind::metrics;
    return;
  }
  if (request.body.size() > body_bytes_max) {
    out->code = Code::payload_too_large;
    out->set_detail("the body is over 64 KiB");
    return;
  }
  TokenId token = TokenId::none;
  if (needs_token(r) && !authenticate(request, out, &token)) return;
  if (r == Route::create_concert && !admin_allowed(request)) {
    out->code = Code::forbidden;
    out->set_detail(admin_key_.has_value() ? "wrong or missing X-Admin-Key"
                                           : "no admin key is configured");
    return;
  }
  out->kind = ParsedRequest::Kind::command;
  if (!parse_command(request, match, token, out)) {
    // Malformed: refused by the core after its token check, or now on a
    // route without a token.
    if (needs_token(r)) {
      out->command.body = RejectAfterAuth{token, token_need(r), Code::invalid_request};
    } else {
      out->kind = ParsedRequest::Kind::reply;
    }
    out->code = Code::invalid_request;
  }
}

bool RequestParser::parse_command(const HttpRequestView& request, const RouteMatch& match,
                                  TokenId token, ParsedRequest* out) {
  const Route r = match.route;
  const auto& p = match.params;
  BodyContext c{json_->parser, json_->padded, out, token, {}};
  if (takes_idempotency_key(r) && request.idempotency_key.has_value()) {
    if (!is_valid_idempotency_key(*request.idempotency_key)) {
      return c.fail("Idempotency-Key must be 1 to 64 printable ASCII characters");
    }
    c.key = IdempotencyKey::from(*request.idempotency_key);
  }
  if (request.method == Method::post) json_->padded.assign(request.body);
  CommandBody& body = out->command.body;
  switch (r) {
    case Route::join_queue:
      return parse_join(c);
    case Route::poll_token:
      return body = PollToken{token}, true;
    case Route::leave_queue:
      return body = LeaveQueue{token}, true;
    case Route::list_concerts:
      return body = ListConcerts{}, true;
    case Route::get_dates:
      return body = GetDates{token, ConcertId{path_id(p[0])}}, true;
    case Route::get_seats:
      return body = GetSeats{token, ConcertId{path_id(p[0])}, path_day(p[1]), 0, false}, true;
    case Route::get_seat:
      return body = GetSeats{token, ConcertId{path_id(p[0])}, path_day(p[1]), path_id(p[2]), true},
             true;
    case Route::hold_seat:
      return parse_hold(c);
    case Route::list_reservations:
      return body = ListReservations{token}, true;
    case Route::get_reservation:
      return body = GetReservation{token, ReservationId{path_id(p[0])}}, true;
    case Route::cancel_reservation:
      return body = CancelReservation{token, ReservationId{path_id(p[0])}}, true;
    case Route::get_balance:
      return body = GetBalance{token}, true;
    case Route::charge_balance:
      return parse_charge(c);
    case Route::pay:
      return parse_pay(c);
    case Route::list_payments: {
      ListPayments& list = body.emplace<ListPayments>();
      list.token = token;
      if (!parse_page_query(match.query, &list.page, &list.limit)) {
        return c.fail("page and limit must be integers");
      }
      return true;
    }
    case Route::refund:
      return parse_refund(c);
    case Route::create_concert:
      return parse_create_concert(c);
    case Route::healthz:
    case Route::metrics:
      break;
  }
  BOXOFFICE_ASSERT(false);
  return false;
}

}  // namespace boxoffice::net
