#include "engine/snapshot.hpp"

#include <algorithm>

#include "engine/byte_io.hpp"
#include "engine/digest.hpp"

namespace boxoffice {

namespace {

constexpr size_t seat_bytes = 5;
constexpr size_t user_bytes_min = 1 + 4 * 8 + 8 + 3 * 4 + 2 * 4;
constexpr size_t token_bytes = 4 + 2 + 4 * 8;
constexpr size_t reservation_bytes = 3 * 4 + 1 + 6 * 8 + 3 * 4;
constexpr size_t payment_bytes = 2 * 4 + 3 * 8 + 4;
constexpr size_t refund_bytes = 4 + 3 * 8;
constexpr size_t idempotent_bytes_min = 4 + 1 + 8 + 1 + 3 * 8;

bool valid_token_status(uint8_t v) { return v >= 1 && v <= 3; }
bool valid_token_end(uint8_t v) { return v >= 1 && v <= 4; }
bool valid_seat_status(uint8_t v) { return v <= 2; }
bool valid_reservation_status(uint8_t v) { return v >= 1 && v <= 5; }
bool valid_idempotent_kind(uint8_t v) { return v >= 1 && v <= 4; }

// Counts are checked against the bytes left before anything is allocated.
bool count_fits(const ByteReader& r, uint64_t count, size_t bytes_each) {
  return count <= r.remaining() / bytes_each;
}

}  // namespace

// ---- encode ----

void SnapshotCodec::encode(const State& s, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  ByteWriter w(out);
  w.u16(snapshot_version_current);
  const size_t digest_at = out.size();
  w.u64(0);
  const size_t body_at = out.size();
  BOXOFFICE_ASSERT(body_at == start + snapshot_prefix_bytes);
  encode_body(s, out);
  const uint64_t digest = digest_bytes(std::span<const uint8_t>(out).subspan(body_at));
  for (size_t i = 0; i < 8; i++) out[digest_at + i] = static_cast<uint8_t>(digest >> (8 * i));
}

void SnapshotCodec::encode_body(const State& s, std::vector<uint8_t>& out) {
  ByteWriter w(out);
  w.u64(s.last_seq_);
  w.i64(s.last_event_ms_);
  encode_catalog(w, s);
  encode_people(w, s);
  encode_sales(w, s);
}

void SnapshotCodec::encode_catalog(ByteWriter& w, const State& s) {
  w.u32(static_cast<uint32_t>(s.concerts_.size()));
  for (const Concert& c : s.concerts_) {
    w.str(c.title);
    w.u16(static_cast<uint16_t>(c.date_count));
    for (uint32_t i = 0; i < c.date_count; i++) {
      const DateEntry& d = s.dates_[c.first_date + i];
      w.i32(d.day);
      w.i64(d.price);
      w.u32(d.total());
      for (const Seat& seat : d.seats) {
        w.u32(raw(seat.reservation));
        w.u8(static_cast<uint8_t>(seat.status));
      }
    }
  }
}

void SnapshotCodec::encode_people(ByteWriter& w, const State& s) {
  w.u32(static_cast<uint32_t>(s.users_.size()));
  for (const User& u : s.users_) {
    w.short_str(u.name.view());
    w.i64(u.balance);
    w.i64(u.charged_total);
    w.i64(u.paid_total);
    w.i64(u.refunded_total);
    w.u64(raw(u.live_token));
    w.u32(u.held_count);
    w.u32(u.reservation_count);
    w.u32(u.payment_count);
    w.u32(raw(u.last_reservation));
    w.u32(raw(u.last_payment));
  }
  w.u64(s.tokens_.size());
  for (const Token& t : s.tokens_) {
    w.u32(raw(t.user));
    w.u8(static_cast<uint8_t>(t.status));
    w.u8(static_cast<uint8_t>(t.end));
    w.i64(t.issued_ms);
    w.i64(t.activated_ms);
    w.i64(t.expires_ms);
    w.i64(t.ended_ms);
  }
  w.i64(s.first_promotion_s_);
  for (const State::PromotionBucket& b : s.promotions_) {
    w.i64(b.second);
    w.u32(b.count);
  }
}

void SnapshotCodec::encode_sales(ByteWriter& w, const State& s) {
  w.u32(static_cast<uint32_t>(s.reservations_.size()));
  for (const Reservation& r : s.reservations_) {
    w.u32(raw(r.user));
    w.u32(raw(r.date));
    w.u32(r.seat);
    w.u8(static_cast<uint8_t>(r.status));
    w.i64(r.price);
    w.i64(r.created_ms);
    w.i64(r.expires_ms);
    w.i64(r.paid_ms);
    w.i64(r.cancelled_ms);
    w.i64(r.refunded_ms);
    w.u32(raw(r.prev_of_user));
    w.u32(raw(r.payment));
    w.u32(raw(r.refund));
  }
  w.u32(static_cast<uint32_t>(s.payments_.size()));
  for (const Payment& p : s.payments_) {
    w.u32(raw(p.reservation));
    w.u32(raw(p.user));
    w.i64(p.amount);
    w.i64(p.balance_after);
    w.i64(p.paid_ms);
    w.u32(raw(p.prev_of_user));
  }
  w.u32(static_cast<uint32_t>(s.refunds_.size()));
  for (const RefundRecord& f : s.refunds_) {
    w.u32(raw(f.reservation));
    w.i64(f.amount);
    w.i64(f.balance_after);
    w.i64(f.created_ms);
  }
  w.u64(s.idempotent_.size());
  s.for_each_idempotent([&w](const IdempotentKey& k, const IdempotentEntry& e) {
    w.u32(raw(k.user));
    w.short_str(k.key.view());
    w.u64(e.fingerprint);
    w.u8(static_cast<uint8_t>(e.kind));
    w.u64(e.id);
    w.i64(e.balance_after);
    w.i64(e.created_ms);
  });
}

// ---- decode ----

std::string SnapshotCodec::check_digest(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  if (r.u16() != snapshot_version_current) return "unknown snapshot version";
  const uint64_t digest = r.u64();
  if (r.failed()) return "truncated";
  // The body is canonical: the stored digest is the hash of its bytes, and
  // so of the state decoded from them (the decoder builds exactly the state
  // that encodes to them: tests and the snapshot fuzz target check it).
  if (digest_bytes(bytes.subspan(snapshot_prefix_bytes)) != digest) return "digest mismatch";
  return "";
}

std::string SnapshotCodec::decode(std::span<const uint8_t> bytes, State* state, DigestCheck check) {
  State& s = *state;
  BOXOFFICE_ASSERT(s.last_seq_ == 0 && s.concerts_.empty() && s.users_.empty());
  if (check == DigestCheck::here) {
    if (std::string error = check_digest(bytes); !error.empty()) return error;
  }
  ByteReader r(bytes);
  if (r.u16() != snapshot_version_current) return "unknown snapshot version";
  (void)r.u64();  // the digest
  if (r.failed()) return "truncated";
  const uint64_t last_seq = r.u64();
  const int64_t last_event_ms = r.i64();
  s.last_event_ms_ = last_event_ms;  // tokens' soft state starts here
  for (auto* section : {&decode_catalog, &decode_users, &decode_tokens, &decode_reservations,
                        &decode_payments, &decode_idempotency}) {
    std::string error = section(r, s);
    if (!error.empty()) return error;
  }
  if (r.failed()) return "truncated";
  if (!r.at_end()) return "trailing bytes";
  s.last_seq_ = last_seq;
  return "";
}

// Each concert is created as its event would create it; then its seats are
// filled in.
std::string SnapshotCodec::decode_catalog(ByteReader& r, State& s) {
  const uint32_t concerts = r.u32();
  if (r.failed() || concerts > limits::concerts_max) return "bad concert count";
  for (uint32_t c = 0; c < concerts; c++) {
    ConcertCreated created;
    created.concert = ConcertId{c + 1};
    created.title.assign(r.str());
    const uint16_t dates = r.u16();
    if (r.failed() || dates == 0 || dates > limits::dates_per_concert_max) return "bad dates";
    std::vector<Seat> seats;
    for (uint16_t d = 0; d < dates; d++) {
      const int32_t day = r.i32();
      const int64_t price = r.i64();
      const uint32_t total = r.u32();
      if (r.failed() || total < 1 || total > limits::seats_per_date_max ||
          !count_fits(r, total, seat_bytes) || price < 0 || price > limits::price_won_max ||
          day < limits::day_min || day > limits::day_max ||
          (d > 0 && created.dates.back().day >= day)) {
        return "bad date in concert " + std::to_string(c + 1);
      }
      created.dates.push_back(DateSpec{day, total, price});
      for (uint32_t n = 0; n < total; n++) {
        const auto reservation = ReservationId{r.u32()};
        const uint8_t status = r.u8();
        if (!valid_seat_status(status)) return "bad seat status";
        seats.push_back(Seat{reservation, static_cast<SeatStatus>(status)});
      }
    }
    if (r.failed()) return "truncated catalog";
    const uint32_t first = static_cast<uint32_t>(s.dates_.size());
    s.on(0, created);
    std::copy(seats.begin(), seats.end(), s.concerts_.back().seats.begin());
    for (uint16_t d = 0; d < dates; d++) {
      DateEntry& entry = s.dates_[first + d];
      entry.available = static_cast<uint32_t>(
          std::count_if(entry.seats.begin(), entry.seats.end(),
                        [](const Seat& seat) { return seat.status == SeatStatus::available; }));
    }
  }
  return "";
}

std::string SnapshotCodec::decode_users(ByteReader& r, State& s) {
  const uint32_t users = r.u32();
  if (r.failed() || users > limits::users_max || !count_fits(r, users, user_bytes_min)) {
    return "bad user count";
  }
  s.users_.resize(users);
  s.user_by_name_.reserve(users);  // one allocation of buckets, no rehash
  for (uint32_t i = 0; i < users; i++) {
    User& u = s.users_[i];
    const std::string_view name = r.short_str();
    if (r.failed() || !is_valid_user_name(name)) return "bad user name";
    u.name = UserName::from(name);
    u.balance = r.i64();
    u.charged_total = r.i64();
    u.paid_total = r.i64();
    u.refunded_total = r.i64();
    u.live_token = TokenId{r.u64()};
    u.held_count = r.u32();
    u.reservation_count = r.u32();
    u.payment_count = r.u32();
    u.last_reservation = ReservationId{r.u32()};
    u.last_payment = PaymentId{r.u32()};
    if (s.find_user(name).has_value()) return "duplicate user";
    s.user_by_name_.insert(s.name_hash(name), i + 1);
  }
  return "";
}

// Tokens, then the line rebuilt from them, then the promotion buckets.
std::string SnapshotCodec::decode_tokens(ByteReader& r, State& s) {
  const uint64_t tokens = r.u64();
  if (r.failed() || tokens > limits::tokens_max || !count_fits(r, tokens, token_bytes)) {
    return "bad token count";
  }
  s.tokens_.resize(tokens);
  for (uint64_t i = 0; i < tokens; i++) {
    Token& t = s.tokens_[i];
    t.user = UserId{r.u32()};
    const uint8_t status = r.u8();
    const uint8_t end = r.u8();
    t.issued_ms = r.i64();
    t.activated_ms = r.i64();
    t.expires_ms = r.i64();
    t.ended_ms = r.i64();
    if (r.failed() || !valid_token_status(status) || !valid_token_end(end) || raw(t.user) == 0 ||
        raw(t.user) > s.users_.size()) {
      return "bad token " + std::to_string(i + 1);
    }
    t.status = static_cast<TokenStatus>(status);
    t.end = static_cast<TokenEnd>(end);
    t.seen_ms = s.last_event_ms_;
    if (t.status == TokenStatus::active) s.active_count_++;
  }
  s.line_head_ = tokens + 1;
  for (uint64_t i = 0; i < tokens; i++) {
    if (s.tokens_[i].status != TokenStatus::waiting) continue;
    if (s.line_head_ == tokens + 1) s.line_head_ = i + 1;
    if (i + 1 - s.line_head_ >= s.fenwick_.span()) return "waiting tokens span more than the ring";
    s.fenwick_.mark(i + 1);
  }
  s.first_promotion_s_ = r.i64();
  for (State::PromotionBucket& b : s.promotions_) {
    b.second = r.i64();
    b.count = r.u32();
  }
  return "";
}

std::string SnapshotCodec::decode_reservations(ByteReader& r, State& s) {
  const uint32_t reservations = r.u32();
  if (r.failed() || reservations > limits::reservations_max ||
      !count_fits(r, reservations, reservation_bytes)) {
    return "bad reservation count";
  }
  s.reservations_.resize(reservations);
  for (uint32_t i = 0; i < reservations; i++) {
    Reservation& x = s.reservations_[i];
    x.user = UserId{r.u32()};
    x.date = DateRef{r.u32()};
    x.seat = r.u32();
    const uint8_t status = r.u8();
    x.price = r.i64();
    x.created_ms = r.i64();
    x.expires_ms = r.i64();
    x.paid_ms = r.i64();
    x.cancelled_ms = r.i64();
    x.refunded_ms = r.i64();
    x.prev_of_user = ReservationId{r.u32()};
    x.payment = PaymentId{r.u32()};
    x.refund = RefundId{r.u32()};
    if (r.failed() || !valid_reservation_status(status) || raw(x.date) >= s.dates_.size() ||
        x.seat < 1 || x.seat > s.dates_[raw(x.date)].total() || raw(x.user) == 0 ||
        raw(x.user) > s.users_.size()) {
      return "bad reservation " + std::to_string(i + 1);
    }
    x.status = static_cast<ReservationStatus>(status);
    if (x.status == ReservationStatus::held || x.status == ReservationStatus::confirmed) {
      s.live_reservations_++;
    }
  }
  return "";
}

std::string SnapshotCodec::decode_payments(ByteReader& r, State& s) {
  const uint32_t payments = r.u32();
  if (r.failed() || payments > limits::payments_max || !count_fits(r, payments, payment_bytes)) {
    return "bad payment count";
  }
  s.payments_.resize(payments);
  for (Payment& p : s.payments_) {
    p.reservation = ReservationId{r.u32()};
    p.user = UserId{r.u32()};
    p.amount = r.i64();
    p.balance_after = r.i64();
    p.paid_ms = r.i64();
    p.prev_of_user = PaymentId{r.u32()};
  }
  const uint32_t refunds = r.u32();
  if (r.failed() || refunds > limits::refunds_max || !count_fits(r, refunds, refund_bytes)) {
    return "bad refund count";
  }
  s.refunds_.resize(refunds);
  for (RefundRecord& f : s.refunds_) {
    f.reservation = ReservationId{r.u32()};
    f.amount = r.i64();
    f.balance_after = r.i64();
    f.created_ms = r.i64();
  }
  return "";
}

std::string SnapshotCodec::decode_idempotency(ByteReader& r, State& s) {
  const uint64_t keys = r.u64();
  if (r.failed() || !count_fits(r, keys, idempotent_bytes_min)) return "bad key count";
  s.idempotent_.reserve(keys);  // bounded by the bytes left (count_fits)
  for (uint64_t i = 0; i < keys; i++) {
    IdempotentKey k;
    k.user = UserId{r.u32()};
    const std::string_view key = r.short_str();
    IdempotentEntry e;
    e.fingerprint = r.u64();
    const uint8_t kind = r.u8();
    e.id = r.u64();
    e.balance_after = r.i64();
    e.created_ms = r.i64();
    if (r.failed() || !is_valid_idempotency_key(key) || !valid_idempotent_kind(kind) ||
        raw(k.user) == 0 || raw(k.user) > s.users_.size()) {
      return "bad idempotency key";
    }
    k.key = IdempotencyKey::from(key);
    e.kind = static_cast<IdempotentKind>(kind);
    if (s.idempotent_.find(k) != nullptr) return "duplicate idempotency key";
    s.idempotent_.insert(k, e);
  }
  return "";
}

}  // namespace boxoffice
