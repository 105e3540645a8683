#include "engine/event_codec.hpp"

#include "engine/byte_io.hpp"

namespace boxoffice {

namespace {

// The events that encode in at most this many bytes skip the vector's
// append per field.
constexpr size_t event_inline_bytes_max = 256;

template <typename W>
void write_body(W& w, const UserCreated& e) {
  w.u32(raw(e.user));
  w.short_str(e.name.view());
}
template <typename W>
void write_body(W& w, const TokenIssued& e) {
  w.u64(raw(e.token));
  w.u32(raw(e.user));
}
template <typename W>
void write_body(W& w, const TokenActivated& e) {
  w.u64(raw(e.token));
  w.i64(e.expires_ms);
}
template <typename W>
void write_body(W& w, const TokenExpired& e) {
  w.u64(raw(e.token));
  w.u8(static_cast<uint8_t>(e.reason));
}
template <typename W>
void write_body(W& w, const ConcertCreated& e) {
  w.u32(raw(e.concert));
  w.str(e.title);
  BOXOFFICE_ASSERT(e.dates.size() <= UINT16_MAX);
  w.u16(static_cast<uint16_t>(e.dates.size()));
  for (const DateSpec& d : e.dates) {
    w.i32(d.day);
    w.u32(d.seats);
    w.i64(d.price);
  }
}
template <typename W>
void write_body(W& w, const SeatHeld& e) {
  w.u32(raw(e.reservation));
  w.u32(raw(e.user));
  w.u32(raw(e.date));
  w.u32(e.seat);
  w.i64(e.price);
  w.i64(e.expires_ms);
  w.idempotency(e.idempotency);
}
template <typename W>
void write_body(W& w, const HoldExpired& e) {
  w.u32(raw(e.reservation));
}
template <typename W>
void write_body(W& w, const ReservationCancelled& e) {
  w.u32(raw(e.reservation));
}
template <typename W>
void write_body(W& w, const BalanceCharged& e) {
  w.u32(raw(e.user));
  w.i64(e.amount);
  w.idempotency(e.idempotency);
}
template <typename W>
void write_body(W& w, const PaymentCompleted& e) {
  w.u32(raw(e.payment));
  w.u32(raw(e.reservation));
  w.i64(e.amount);
  w.idempotency(e.idempotency);
}
template <typename W>
void write_body(W& w, const RefundIssued& e) {
  w.u32(raw(e.refund));
  w.u32(raw(e.reservation));
  w.i64(e.amount);
  w.str(e.reason);
  w.idempotency(e.idempotency);
}
template <typename W>
void write_body(W& w, const IdempotencyForgotten& e) {
  w.i64(e.created_up_to_ms);
}

bool read_short(ByteReader& r, uint32_t capacity, std::string_view* out) {
  *out = r.short_str();
  return !r.failed() && out->size() <= capacity;
}

bool read_idempotency(ByteReader& r, IdempotencyTag* tag) {
  std::string_view key;
  if (!read_short(r, limits::idempotency_key_bytes_max, &key)) return false;
  if (key.empty()) return true;
  if (!is_valid_idempotency_key(key)) return false;
  tag->key = IdempotencyKey::from(key);
  tag->fingerprint = r.u64();
  return !r.failed();
}

bool read_body(ByteReader& r, UserCreated* e) {
  e->user = UserId{r.u32()};
  std::string_view name;
  if (!read_short(r, limits::user_name_bytes_max, &name)) return false;
  if (!is_valid_user_name(name) || raw(e->user) == 0) return false;
  e->name = UserName::from(name);
  return true;
}
bool read_body(ByteReader& r, TokenIssued* e) {
  e->token = TokenId{r.u64()};
  e->user = UserId{r.u32()};
  return raw(e->token) != 0 && raw(e->user) != 0;
}
bool read_body(ByteReader& r, TokenActivated* e) {
  e->token = TokenId{r.u64()};
  e->expires_ms = r.i64();
  return raw(e->token) != 0;
}
bool read_body(ByteReader& r, TokenExpired* e) {
  e->token = TokenId{r.u64()};
  const uint8_t reason = r.u8();
  e->reason = static_cast<TokenEnd>(reason);
  return raw(e->token) != 0 && reason >= 1 && reason <= 4;
}
bool read_body(ByteReader& r, ConcertCreated* e) {
  e->concert = ConcertId{r.u32()};
  const std::string_view title = r.str();
  if (r.failed() || title.size() > limits::title_bytes_max) return false;
  e->title.assign(title);
  const uint16_t count = r.u16();
  if (r.failed() || count == 0 || count > limits::dates_per_concert_max) return false;
  e->dates.resize(count);
  for (DateSpec& d : e->dates) {
    d.day = r.i32();
    d.seats = r.u32();
    d.price = r.i64();
    if (r.failed() || d.day < limits::day_min || d.day > limits::day_max) return false;
    if (d.seats < 1 || d.seats > limits::seats_per_date_max) return false;
    if (d.price < 0 || d.price > limits::price_won_max) return false;
  }
  for (size_t i = 1; i < e->dates.size(); i++) {
    if (e->dates[i - 1].day >= e->dates[i].day) return false;
  }
  return raw(e->concert) != 0;
}
bool read_body(ByteReader& r, SeatHeld* e) {
  e->reservation = ReservationId{r.u32()};
  e->user = UserId{r.u32()};
  e->date = DateRef{r.u32()};
  e->seat = r.u32();
  e->price = r.i64();
  e->expires_ms = r.i64();
  if (!read_idempotency(r, &e->idempotency)) return false;
  return raw(e->reservation) != 0 && raw(e->user) != 0 && e->seat >= 1 &&
         e->seat <= limits::seats_per_date_max && e->price >= 0 &&
         e->price <= limits::price_won_max;
}
bool read_body(ByteReader& r, HoldExpired* e) {
  e->reservation = ReservationId{r.u32()};
  return raw(e->reservation) != 0;
}
bool read_body(ByteReader& r, ReservationCancelled* e) {
  e->reservation = ReservationId{r.u32()};
  return raw(e->reservation) != 0;
}
bool read_body(ByteReader& r, BalanceCharged* e) {
  e->user = UserId{r.u32()};
  e->amount = r.i64();
  if (!read_idempotency(r, &e->idempotency)) return false;
  return raw(e->user) != 0 && e->amount >= limits::charge_won_min &&
         e->amount <= limits::charge_won_max;
}
bool read_body(ByteReader& r, PaymentCompleted* e) {
  e->payment = PaymentId{r.u32()};
  e->reservation = ReservationId{r.u32()};
  e->amount = r.i64();
  if (!read_idempotency(r, &e->idempotency)) return false;
  return raw(e->payment) != 0 && raw(e->reservation) != 0 && e->amount >= 0 &&
         e->amount <= limits::price_won_max;
}
bool read_body(ByteReader& r, RefundIssued* e) {
  e->refund = RefundId{r.u32()};
  e->reservation = ReservationId{r.u32()};
  e->amount = r.i64();
  const std::string_view reason = r.str();
  if (r.failed() || reason.size() > limits::refund_reason_bytes_max) return false;
  e->reason.assign(reason);
  if (!read_idempotency(r, &e->idempotency)) return false;
  return raw(e->refund) != 0 && raw(e->reservation) != 0 && e->amount >= 0 &&
         e->amount <= limits::price_won_max;
}
bool read_body(ByteReader& r, IdempotencyForgotten* e) {
  e->created_up_to_ms = r.i64();
  return true;
}

template <typename T>
DecodeError decode_as(ByteReader& r, EventBody* body) {
  T* e = std::get_if<T>(body);
  if (e == nullptr) {
    e = &body->emplace<T>();
  } else {
    *e = T{};
  }
  const bool valid = read_body(r, e);
  if (r.failed()) return DecodeError::truncated;
  if (!valid) return DecodeError::invalid_field;
  if (!r.at_end()) return DecodeError::trailing_bytes;
  return DecodeError::none;
}

template <typename W>
void write_event(W& w, const Event& event) {
  w.u8(static_cast<uint8_t>(event_type(event.body)));
  w.u8(event_version_current);
  w.i64(event.time_ms);
  std::visit([&w](const auto& body) { write_body(w, body); }, event.body);
}

}  // namespace

EventType event_type(const EventBody& body) {
  // The variant's alternatives are declared in type-number order.
  static_assert(std::variant_size_v<EventBody> == 12);
  return static_cast<EventType>(body.index() + 1);
}

const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::user_created:
      return "user_created";
    case EventType::token_issued:
      return "token_issued";
    case EventType::token_activated:
      return "token_activated";
    case EventType::token_expired:
      return "token_expired";
    case EventType::concert_created:
      return "concert_created";
    case EventType::seat_held:
      return "seat_held";
    case EventType::hold_expired:
      return "hold_expired";
    case EventType::reservation_cancelled:
      return "reservation_cancelled";
    case EventType::balance_charged:
      return "balance_charged";
    case EventType::payment_completed:
      return "payment_completed";
    case EventType::refund_issued:
      return "refund_issued";
    case EventType::idempotency_forgotten:
      return "idempotency_forgotten";
  }
  return "unknown";
}

const char* decode_error_name(DecodeError error) {
  switch (error) {
    case DecodeError::none:
      return "none";
    case DecodeError::truncated:
      return "truncated";
    case DecodeError::unknown_type:
      return "unknown_type";
    case DecodeError::unknown_version:
      return "unknown_version";
    case DecodeError::invalid_field:
      return "invalid_field";
    case DecodeError::trailing_bytes:
      return "trailing_bytes";
  }
  return "unknown";
}

void encode_event(const Event& event, std::vector<uint8_t>& out) {
  // Nearly every event fits the stack buffer (a hold is about 40 bytes);
  // a concert's dates or a long refund reason go to the vector field by field.
  FieldWriter<ArraySink<event_inline_bytes_max>> small;
  write_event(small, event);
  if (!small.sink().overflowed()) {
    const std::span<const uint8_t> bytes = small.sink().bytes();
    out.insert(out.end(), bytes.begin(), bytes.end());
    return;
  }
  ByteWriter w(out);
  write_event(w, event);
}

DecodeError decode_event(std::span<const uint8_t> bytes, Event* out) {
  ByteReader r(bytes);
  const uint8_t type = r.u8();
  const uint8_t version = r.u8();
  const int64_t time_ms = r.i64();
  if (r.failed()) return DecodeError::truncated;
  if (type < 1 || type > std::variant_size_v<EventBody>) return DecodeError::unknown_type;
  if (version != event_version_current) return DecodeError::unknown_version;
  if (time_ms < 0) return DecodeError::invalid_field;
  out->time_ms = time_ms;
  switch (static_cast<EventType>(type)) {
    case EventType::user_created:
      return decode_as<UserCreated>(r, &out->body);
    case EventType::token_issued:
      return decode_as<TokenIssued>(r, &out->body);
    case EventType::token_activated:
      return decode_as<TokenActivated>(r, &out->body);
    case EventType::token_expired:
      return decode_as<TokenExpired>(r, &out->body);
    case EventType::concert_created:
      return decode_as<ConcertCreated>(r, &out->body);
    case EventType::seat_held:
      return decode_as<SeatHeld>(r, &out->body);
    case EventType::hold_expired:
      return decode_as<HoldExpired>(r, &out->body);
    case EventType::reservation_cancelled:
      return decode_as<ReservationCancelled>(r, &out->body);
    case EventType::balance_charged:
      return decode_as<BalanceCharged>(r, &out->body);
    case EventType::payment_completed:
      return decode_as<PaymentCompleted>(r, &out->body);
    case EventType::refund_issued:
      return decode_as<RefundIssued>(r, &out->body);
    case EventType::idempotency_forgotten:
      return decode_as<IdempotencyForgotten>(r, &out->body);
  }
  return DecodeError::unknown_type;
}

}  // namespace boxoffice
