#include "net/render.hpp"

#include <charconv>

#include "net/json_writer.hpp"

namespace boxoffice::net {

namespace {

// A short human message, built from pieces without a format string.
class Message {
 public:
  Message& operator<<(std::string_view s) {
    text_ += s;
    return *this;
  }
  Message& operator<<(const char* s) {
    text_ += s;
    return *this;
  }
  Message& operator<<(int64_t v) {
    char buf[24];
    text_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  Message& operator<<(uint64_t v) {
    char buf[24];
    text_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  Message& operator<<(uint32_t v) { return *this << uint64_t{v}; }
  Message& day(Day d) {
    char buf[10];
    format_day(d, buf);
    text_.append(buf, sizeof buf);
    return *this;
  }
  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

const char* seat_status_name(SeatStatus s) {
  switch (s) {
    case SeatStatus::available:
      return "available";
    case SeatStatus::held:
      return "held";
    case SeatStatus::sold:
      return "sold";
  }
  return "available";
}

const char* reservation_status_name(ReservationStatus s) {
  switch (s) {
    case ReservationStatus::held:
      return "held";
    case ReservationStatus::confirmed:
      return "confirmed";
    case ReservationStatus::expired:
      return "expired";
    case ReservationStatus::cancelled:
      return "cancelled";
    case ReservationStatus::refunded:
      return "refunded";
  }
  return "held";
}

void write_error(Code code, std::string_view message, const uint64_t* position, Reply* out) {
  out->status = http_status(code);
  out->body.clear();
  JsonWriter w(out->body);
  w.begin_object();
  w.key("error");
  w.begin_object();
  w.field("code", code_name(code));
  w.field("message", message);
  if (position != nullptr) w.field("position", *position);
  w.end_object();
  if (position != nullptr) w.field("position", *position);
  w.end_object();
  out->retry_after = code == Code::overloaded;
  out->www_authenticate = code == Code::unauthorized || code == Code::token_expired;
}

void write_token(JsonWriter& w, const TokenView& v, const State& state, TokenCodec& tokens,
                 std::string& scratch) {
  const std::string_view user = state.user(v.user).name.view();
  scratch.clear();
  tokens.sign(v.token, user, scratch);
  w.begin_object();
  w.field("token", std::string_view(scratch));
  w.field("userId", user);
  w.field("status", v.status == TokenStatus::active ? "active" : "waiting");
  w.field("position", v.status == TokenStatus::active ? uint64_t{0} : v.position);
  w.field("estimatedWaitSeconds",
          v.status == TokenStatus::active ? uint64_t{0} : v.estimated_wait_s);
  w.key("expiresAt");
  w.instant(v.expires_ms);
  w.end_object();
}

// A reservation as it is now, or (as_created) as it was when first held.
void write_reservation(JsonWriter& w, const State& state, ReservationId id, bool as_created) {
  const Reservation* r = state.reservation(id);
  BOXOFFICE_ASSERT(r != nullptr);
  const DateEntry& date = state.date(r->date);
  w.begin_object();
  w.field("reservationId", uint64_t{raw(id)});
  w.field("userId", state.user(r->user).name.view());
  w.field("concertId", uint64_t{raw(date.concert)});
  w.key("date");
  w.day(date.day);
  w.field("seatNumber", r->seat);
  w.field("price", r->price);
  w.field("status", reservation_status_name(as_created ? ReservationStatus::held : r->status));
  w.key("createdAt");
  w.instant(r->created_ms);
  w.key("expiresAt");
  w.instant(r->expires_ms);
  w.key("paidAt");
  w.instant_or_null(as_created ? 0 : r->paid_ms);
  w.key("cancelledAt");
  w.instant_or_null(as_created ? 0 : r->cancelled_ms);
  w.key("refundedAt");
  w.instant_or_null(as_created ? 0 : r->refunded_ms);
  w.end_object();
}

void write_payment(JsonWriter& w, const State& state, PaymentId id, const Payment& p,
                   bool as_created, int64_t balance) {
  const Reservation* r = state.reservation(p.reservation);
  BOXOFFICE_ASSERT(r != nullptr);
  const bool refunded = !as_created && r->refund != RefundId::none;
  w.begin_object();
  w.field("paymentId", uint64_t{raw(id)});
  w.field("reservationId", uint64_t{raw(p.reservation)});
  w.field("amount", p.amount);
  w.field("balance", balance);
  w.field("status", refunded ? "refunded" : "completed");
  w.key("paidAt");
  w.instant(p.paid_ms);
  w.end_object();
}

void write_concert(JsonWriter& w, const State& state, ConcertId id) {
  const Concert* c = state.concert(id);
  BOXOFFICE_ASSERT(c != nullptr);
  w.begin_object();
  w.field("concertId", uint64_t{raw(id)});
  w.field("title", std::string_view(c->title));
  w.key("dates");
  w.begin_array();
  for (uint32_t i = 0; i < c->date_count; i++) {
    w.day(state.date(DateRef{c->first_date + i}).day);
  }
  w.end_array();
  w.end_object();
}

void write_seat(JsonWriter& w, const DateEntry& date, uint32_t number) {
  w.begin_object();
  w.field("seatNumber", number);
  w.field("status", seat_status_name(date.seats[number - 1].status));
  w.field("price", date.price);
  w.end_object();
}

void write_seats(JsonWriter& w, const State& state, const Result& r, bool one_seat) {
  const DateEntry& date = state.date(r.date);
  w.begin_object();
  w.field("concertId", uint64_t{raw(date.concert)});
  w.key("date");
  w.day(date.day);
  if (one_seat) {
    BOXOFFICE_ASSERT(r.seat >= 1 && r.seat <= date.total());
    w.field("seatNumber", r.seat);
    w.field("status", seat_status_name(date.seats[r.seat - 1].status));
    w.field("price", date.price);
  } else {
    w.key("seats");
    w.begin_array();
    for (uint32_t n = 1; n <= date.total(); n++) write_seat(w, date, n);
    w.end_array();
  }
  w.end_object();
}

void write_dates(JsonWriter& w, const State& state, ConcertId id, TimeMs now_ms) {
  const Concert* c = state.concert(id);
  BOXOFFICE_ASSERT(c != nullptr);
  w.begin_object();
  w.field("concertId", uint64_t{raw(id)});
  w.key("dates");
  w.begin_array();
  for (uint32_t i = 0; i < c->date_count; i++) {
    const DateEntry& d = state.date(DateRef{c->first_date + i});
    w.begin_object();
    w.key("date");
    w.day(d.day);
    w.field("open", now_ms < d.sales_close_ms());
    w.field("totalSeats", d.total());
    w.field("availableSeats", d.available);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_balance(JsonWriter& w, const State& state, UserId user, int64_t balance) {
  w.begin_object();
  w.field("userId", state.user(user).name.view());
  w.field("balance", balance);
  w.end_object();
}

// The success body of every route; sets the status.
void write_success(const ParsedRequest& req, const Result& r, const State& state, TimeMs now_ms,
                   TokenCodec& tokens, Reply* out) {
  JsonWriter w(out->body);
  std::string scratch;
  out->status = r.created ? 201 : 200;
  switch (req.route) {
    case Route::join_queue:
    case Route::poll_token:
      return write_token(w, r.token, state, tokens, scratch);
    case Route::leave_queue:
      out->status = 204;
      return;
    case Route::list_concerts:
      w.begin_object();
      w.key("concerts");
      w.begin_array();
      for (size_t i = 1; i <= state.concert_count(); i++) {
        write_concert(w, state, ConcertId{static_cast<uint32_t>(i)});
      }
      w.end_array();
      return w.end_object();
    case Route::get_dates:
      return write_dates(w, state, r.concert, now_ms);
    case Route::get_seats:
      return write_seats(w, state, r, false);
    case Route::get_seat:
      return write_seats(w, state, r, true);
    case Route::hold_seat:
      return write_reservation(w, state, r.reservation, r.replayed);
    case Route::get_reservation:
    case Route::cancel_reservation:
      return write_reservation(w, state, r.reservation, false);
    case Route::list_reservations:
      w.begin_object();
      w.key("reservations");
      w.begin_array();
      state.for_each_reservation(r.user, [&](ReservationId id, const Reservation&) {
        write_reservation(w, state, id, false);
      });
      w.end_array();
      return w.end_object();
    case Route::get_balance:
    case Route::charge_balance:
      return write_balance(w, state, r.user, r.balance);
    case Route::pay:
      return write_payment(w, state, r.payment, state.payment(r.payment), r.replayed, r.balance);
    case Route::list_payments:
      w.begin_object();
      w.key("payments");
      w.begin_array();
      state.for_each_payment_on_page(r.user, r.page, r.limit, [&](PaymentId id, const Payment& p) {
        write_payment(w, state, id, p, false, p.balance_after);
      });
      w.end_array();
      w.field("page", r.page);
      w.field("limit", r.limit);
      w.field("total", state.user(r.user).payment_count);
      return w.end_object();
    case Route::refund: {
      const RefundRecord& f = state.refund(r.refund);
      w.begin_object();
      w.field("refundId", uint64_t{raw(r.refund)});
      w.field("reservationId", uint64_t{raw(f.reservation)});
      w.field("amount", f.amount);
      w.field("balance", f.balance_after);
      w.key("createdAt");
      w.instant(f.created_ms);
      return w.end_object();
    }
    case Route::create_concert:
      return write_concert(w, state, r.concert);
    case Route::healthz:
    case Route::metrics:
      break;
  }
  BOXOFFICE_ASSERT(false);
}

}  // namespace

uint16_t http_status(Code code) {
  switch (code) {
    case Code::ok:
      return 200;
    case Code::invalid_request:
      return 400;
    case Code::unauthorized:
    case Code::token_expired:
      return 401;
    case Code::insufficient_balance:
      return 402;
    case Code::token_not_active:
    case Code::forbidden:
      return 403;
    case Code::not_found:
      return 404;
    case Code::method_not_allowed:
      return 405;
    case Code::seat_unavailable:
    case Code::sales_closed:
    case Code::reservation_not_payable:
    case Code::not_cancellable:
    case Code::not_refundable:
    case Code::idempotency_key_reused:
      return 409;
    case Code::payload_too_large:
      return 413;
    case Code::hold_limit_reached:
      return 429;
    case Code::overloaded:
      return 503;
  }
  return 500;
}

std::string_view code_name(Code code) {
  switch (code) {
    case Code::ok:
      return "OK";
    case Code::invalid_request:
      return "INVALID_REQUEST";
    case Code::unauthorized:
      return "UNAUTHORIZED";
    case Code::token_expired:
      return "TOKEN_EXPIRED";
    case Code::insufficient_balance:
      return "INSUFFICIENT_BALANCE";
    case Code::token_not_active:
      return "TOKEN_NOT_ACTIVE";
    case Code::forbidden:
      return "FORBIDDEN";
    case Code::not_found:
      return "NOT_FOUND";
    case Code::seat_unavailable:
      return "SEAT_UNAVAILABLE";
    case Code::sales_closed:
      return "SALES_CLOSED";
    case Code::reservation_not_payable:
      return "RESERVATION_NOT_PAYABLE";
    case Code::not_cancellable:
      return "NOT_CANCELLABLE";
    case Code::not_refundable:
      return "NOT_REFUNDABLE";
    case Code::idempotency_key_reused:
      return "IDEMPOTENCY_KEY_REUSED";
    case Code::payload_too_large:
      return "PAYLOAD_TOO_LARGE";
    case Code::hold_limit_reached:
      return "HOLD_LIMIT_REACHED";
    case Code::overloaded:
      return "OVERLOADED";
    case Code::method_not_allowed:
      return "METHOD_NOT_ALLOWED";
  }
  return "INTERNAL";
}

void render_error(Code code, std::string_view message, Reply* out) {
  write_error(code, message, nullptr, out);
}

void render_rejection(const ParsedRequest& request, Reply* out) {
  out->reset();
  write_error(request.code, request.detail(), nullptr, out);
  out->allow = request.code == Code::method_not_allowed ? request.allow : std::string_view{};
}

namespace {

// The message of an error the core decided, with what it is about.
void core_error_message(const ParsedRequest& req, const Result& r, const State& state, Message& m);

}  // namespace

void render_result(const ParsedRequest& request, const Result& result, const State& state,
                   TimeMs now_ms, TokenCodec& tokens, Reply* out) {
  out->reset();
  if (result.ok()) return write_success(request, result, state, now_ms, tokens, out);
  Message m;
  core_error_message(request, result, state, m);
  const uint64_t position = result.token.position;
  write_error(result.code, m.view(), result.code == Code::token_not_active ? &position : nullptr,
              out);
}

namespace {

void seat_message(const HoldSeat& c, const State& state, Message& m) {
  m << "seat " << c.seat << " on ";
  m.day(c.day);
  const std::optional<DateRef> ref = state.find_date(c.concert, c.day);
  if (ref.has_value() && c.seat >= 1 && c.seat <= state.date(*ref).total()) {
    m << " is " << seat_status_name(state.date(*ref).seats[static_cast<size_t>(c.seat - 1)].status);
  } else {
    m << " is not available";
  }
}

void reservation_message(const ParsedRequest& req, const State& state, Message& m,
                         std::string_view what) {
  ReservationId id = ReservationId::none;
  if (const auto* p = std::get_if<Pay>(&req.command.body)) id = p->reservation;
  if (const auto* c = std::get_if<CancelReservation>(&req.command.body)) id = c->reservation;
  if (const auto* f = std::get_if<Refund>(&req.command.body)) id = f->reservation;
  const Reservation* r = state.reservation(id);
  m << "reservation " << uint64_t{raw(id)};
  if (r != nullptr) m << " is " << reservation_status_name(r->status);
  m << what;
}

const char* invalid_message(Route route) {
  switch (route) {
    case Route::join_queue:
      return "userId must be 1 to 64 characters of A-Z a-z 0-9 _ - . @";
    case Route::hold_seat:
      return "seatNumber is outside the date's seats";
    case Route::charge_balance:
      return "amount must be 1 to 1000000000, and a balance at most 10^15";
    case Route::pay:
      return "amount must equal the reservation's price";
    case Route::list_payments:
      return "page must be 1 or more and limit 1 to 100";
    case Route::refund:
      return "reason must be valid UTF-8 of at most 500 characters";
    case Route::create_concert:
      return "a concert needs a title of 1 to 200 characters and 1 to 1000 distinct dates "
             "(1970-01-01 to 9999-12-31), each with 1 to 10000 seats and a price of 0 to "
             "1000000000";
    default:
      return "invalid request";
  }
}

const char* not_found_message(Route route) {
  switch (route) {
    case Route::get_dates:
      return "no such concert";
    case Route::get_seats:
    case Route::hold_seat:
      return "no such concert or date";
    case Route::get_seat:
      return "no such concert, date or seat";
    default:
      return "no such reservation";
  }
}

void core_error_message(const ParsedRequest& req, const Result& r, const State& state, Message& m) {
  switch (r.code) {
    case Code::invalid_request:
      m << (req.detail().empty() ? std::string_view(invalid_message(req.route)) : req.detail());
      return;
    case Code::unauthorized:
      m << "unknown token";
      return;
    case Code::token_expired:
      m << "the token has expired; ask for a new one";
      return;
    case Code::token_not_active:
      m << "the token is waiting in line at position " << r.token.position;
      return;
    case Code::not_found:
      m << not_found_message(req.route);
      return;
    case Code::seat_unavailable:
      if (const auto* hold = std::get_if<HoldSeat>(&req.command.body)) {
        return seat_message(*hold, state, m);
      }
      m << "the seat is not available";
      return;
    case Code::sales_closed:
      m << "sales for this date have closed (its day has begun)";
      return;
    case Code::reservation_not_payable:
      return reservation_message(req, state, m, "; only a held reservation can be paid");
    case Code::not_cancellable:
      return reservation_message(req, state, m, "; it cannot be cancelled");
    case Code::not_refundable:
      return reservation_message(
          req, state, m, "; only a paid reservation can be refunded, before its date begins");
    case Code::insufficient_balance:
      m << "the balance is less than the price";
      return;
    case Code::idempotency_key_reused:
      m << "this Idempotency-Key was used for another request";
      return;
    case Code::hold_limit_reached:
      m << "the user already holds the maximum number of reservations";
      return;
    case Code::overloaded:
      m << "the server is at capacity; retry later";
      return;
    case Code::forbidden:
    case Code::payload_too_large:
    case Code::method_not_allowed:
    case Code::ok:
      break;
  }
  m << code_name(r.code);
}

}  // namespace

}  // namespace boxoffice::net
