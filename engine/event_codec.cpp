#include "engine/event_codec.hpp"

#include <cstring>

namespace boxoffice {

namespace {

// Appends fields to `out`. Fixed-width integers are stored little-endian
// whatever the host's byte order.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { fixed(v); }
  void u32(uint32_t v) { fixed(v); }
  void u64(uint64_t v) { fixed(v); }
  void i32(int32_t v) { fixed(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { fixed(static_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    BOXOFFICE_ASSERT(s.size() <= UINT16_MAX);
    u16(static_cast<uint16_t>(s.size()));
    bytes(s);
  }
  void short_str(std::string_view s) {
    BOXOFFICE_ASSERT(s.size() <= UINT8_MAX);
    u8(static_cast<uint8_t>(s.size()));
    bytes(s);
  }
  void idempotency(const IdempotencyTag& tag) {
    short_str(tag.key.view());
    if (!tag.key.empty()) u64(tag.fingerprint);
  }

 private:
  template <typename T>
  void fixed(T v) {
    uint8_t le[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); i++) le[i] = static_cast<uint8_t>(v >> (8 * i));
    out_.insert(out_.end(), le, le + sizeof(T));
  }
  void bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  std::vector<uint8_t>& out_;
};

// Reads fields in order; any read past the end sets `failed` and yields 0.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == in_.size(); }
  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint16_t u16() { return static_cast<uint16_t>(fixed(2)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  int32_t i32() { return static_cast<int32_t>(static_cast<uint32_t>(fixed(4))); }
  int64_t i64() { return static_cast<int64_t>(fixed(8)); }
  std::string_view bytes(size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::string_view str() { return bytes(u16()); }
  std::string_view short_str() { return bytes(u8()); }

 private:
  uint64_t fixed(size_t width) {
    if (failed_ || in_.size() - pos_ < width) [[unlikely]] {
      failed_ = true;
      return 0;
    }
    const uint8_t* p = in_.data() + pos_;
    pos_ += width;
    uint64_t v = 0;
    switch (width) {
      case 1:
        return p[0];
      case 2:
        return uint64_t{p[0]} | uint64_t{p[1]} << 8;
      case 4:
        return load_le<uint32_t>(p);
      default:
        break;
    }
    v = load_le<uint64_t>(p);
    return v;
  }
  template <typename T>
  static T load_le(const uint8_t* p) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); i++)
      v = static_cast<T>(v | static_cast<T>(T{p[i]} << (8 * i)));
    return v;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

void write_body(Writer& w, const UserCreated& e) {
  w.u32(raw(e.user));
  w.short_str(e.name.view());
}
void write_body(Writer& w, const TokenIssued& e) {
  w.u64(raw(e.token));
  w.u32(raw(e.user));
}
void write_body(Writer& w, const TokenActivated& e) {
  w.u64(raw(e.token));
  w.i64(e.expires_ms);
}
void write_body(Writer& w, const TokenExpired& e) {
  w.u64(raw(e.token));
  w.u8(static_cast<uint8_t>(e.reason));
}
void write_body(Writer& w, const ConcertCreated& e) {
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
void write_body(Writer& w, const SeatHeld& e) {
  w.u32(raw(e.reservation));
  w.u32(raw(e.user));
  w.u32(raw(e.date));
  w.u32(e.seat);
  w.i64(e.price);
  w.i64(e.expires_ms);
  w.idempotency(e.idempotency);
}
void write_body(Writer& w, const HoldExpired& e) { w.u32(raw(e.reservation)); }
void write_body(Writer& w, const ReservationCancelled& e) { w.u32(raw(e.reservation)); }
void write_body(Writer& w, const BalanceCharged& e) {
  w.u32(raw(e.user));
  w.i64(e.amount);
  w.idempotency(e.idempotency);
}
void write_body(Writer& w, const PaymentCompleted& e) {
  w.u32(raw(e.payment));
  w.u32(raw(e.reservation));
  w.i64(e.amount);
  w.idempotency(e.idempotency);
}
void write_body(Writer& w, const RefundIssued& e) {
  w.u32(raw(e.refund));
  w.u32(raw(e.reservation));
  w.i64(e.amount);
  w.str(e.reason);
  w.idempotency(e.idempotency);
}
void write_body(Writer& w, const IdempotencyForgotten& e) { w.i64(e.created_up_to_ms); }

bool read_short(Reader& r, uint32_t capacity, std::string_view* out) {
  *out = r.short_str();
  return !r.failed() && out->size() <= capacity;
}

bool read_idempotency(Reader& r, IdempotencyTag* tag) {
  std::string_view key;
  if (!read_short(r, limits::idempotency_key_bytes_max, &key)) return false;
  if (key.empty()) return true;
  if (!is_valid_idempotency_key(key)) return false;
  tag->key = IdempotencyKey::from(key);
  tag->fingerprint = r.u64();
  return !r.failed();
}

bool read_body(Reader& r, UserCreated* e) {
  e->user = UserId{r.u32()};
  std::string_view name;
  if (!read_short(r, limits::user_name_bytes_max, &name)) return false;
  if (!is_valid_user_name(name) || raw(e->user) == 0) return false;
  e->name = UserName::from(name);
  return true;
}
bool read_body(Reader& r, TokenIssued* e) {
  e->token = TokenId{r.u64()};
  e->user = UserId{r.u32()};
  return raw(e->token) != 0 && raw(e->user) != 0;
}
bool read_body(Reader& r, TokenActivated* e) {
  e->token = TokenId{r.u64()};
  e->expires_ms = r.i64();
  return raw(e->token) != 0;
}
bool read_body(Reader& r, TokenExpired* e) {
  e->token = TokenId{r.u64()};
  const uint8_t reason = r.u8();
  e->reason = static_cast<TokenEnd>(reason);
  return raw(e->token) != 0 && reason >= 1 && reason <= 4;
}
bool read_body(Reader& r, ConcertCreated* e) {
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
bool read_body(Reader& r, SeatHeld* e) {
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
bool read_body(Reader& r, HoldExpired* e) {
  e->reservation = ReservationId{r.u32()};
  return raw(e->reservation) != 0;
}
bool read_body(Reader& r, ReservationCancelled* e) {
  e->reservation = ReservationId{r.u32()};
  return raw(e->reservation) != 0;
}
bool read_body(Reader& r, BalanceCharged* e) {
  e->user = UserId{r.u32()};
  e->amount = r.i64();
  if (!read_idempotency(r, &e->idempotency)) return false;
  return raw(e->user) != 0 && e->amount >= limits::charge_won_min &&
         e->amount <= limits::charge_won_max;
}
bool read_body(Reader& r, PaymentCompleted* e) {
  e->payment = PaymentId{r.u32()};
  e->reservation = ReservationId{r.u32()};
  e->amount = r.i64();
  if (!read_idempotency(r, &e->idempotency)) return false;
  return raw(e->payment) != 0 && raw(e->reservation) != 0 && e->amount >= 0 &&
         e->amount <= limits::price_won_max;
}
bool read_body(Reader& r, RefundIssued* e) {
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
bool read_body(Reader& r, IdempotencyForgotten* e) {
  e->created_up_to_ms = r.i64();
  return true;
}

template <typename T>
DecodeError decode_as(Reader& r, EventBody* body) {
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
  Writer w(out);
  w.u8(static_cast<uint8_t>(event_type(event.body)));
  w.u8(event_version_current);
  w.i64(event.time_ms);
  std::visit([&w](const auto& body) { write_body(w, body); }, event.body);
}

DecodeError decode_event(std::span<const uint8_t> bytes, Event* out) {
  Reader r(bytes);
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
