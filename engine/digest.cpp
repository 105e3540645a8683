#include "engine/digest.hpp"

namespace boxoffice {

namespace {

// A simple, fast, portable 64-bit mixer (a multiply-rotate over words, with
// a murmur-style finalizer). Not cryptographic; it detects divergence.
class Hasher {
 public:
  void u64(uint64_t v) {
    h_ ^= v * 0x9e3779b97f4a7c15ULL;
    h_ = (h_ << 27 | h_ >> 37) * 0xbf58476d1ce4e5b9ULL + 0x94d049bb133111ebULL;
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    uint64_t word = 0;
    size_t n = 0;
    for (const char c : s) {
      word |= uint64_t{static_cast<uint8_t>(c)} << (8 * n);
      if (++n == 8) u64(word), word = 0, n = 0;
    }
    if (n > 0) u64(word);
  }
  uint64_t value() const {
    uint64_t x = h_;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
  }

 private:
  uint64_t h_ = 0x243f6a8885a308d3ULL;
};

void hash_catalog(Hasher& h, const State& s) {
  h.u64(s.concerts().size());
  for (const Concert& c : s.concerts()) {
    h.str(c.title);
    h.u64(c.first_date);
    h.u64(c.date_count);
  }
  h.u64(s.dates().size());
  for (const DateEntry& d : s.dates()) {
    h.u64(raw(d.concert));
    h.i64(d.day);
    h.u64(d.available);
    h.i64(d.price);
    h.u64(d.seats.size());
    for (const Seat& seat : d.seats)
      h.u64(uint64_t{raw(seat.reservation)} << 8 | uint64_t{static_cast<uint8_t>(seat.status)});
  }
}

void hash_people(Hasher& h, const State& s) {
  h.u64(s.users().size());
  for (const User& u : s.users()) {
    h.str(u.name.view());
    h.i64(u.balance);
    h.i64(u.charged_total);
    h.i64(u.paid_total);
    h.i64(u.refunded_total);
    h.u64(raw(u.live_token));
    h.u64(u.held_count);
    h.u64(u.reservation_count);
    h.u64(u.payment_count);
    h.u64(raw(u.last_reservation));
    h.u64(raw(u.last_payment));
  }
  h.u64(s.tokens().size());
  for (const Token& t : s.tokens()) {
    h.u64(raw(t.user));
    h.u64(static_cast<uint64_t>(t.status) | uint64_t{static_cast<uint8_t>(t.end)} << 8);
    h.i64(t.issued_ms);
    h.i64(t.activated_ms);
    h.i64(t.expires_ms);
    h.i64(t.ended_ms);
  }
  h.u64(s.active_count());
  h.u64(s.waiting_count());
  h.i64(s.first_promotion_s());
  for (const State::PromotionBucket& b : s.promotion_buckets()) {
    h.i64(b.second);
    h.u64(b.count);
  }
}

void hash_sales(Hasher& h, const State& s) {
  h.u64(s.reservations().size());
  for (const Reservation& r : s.reservations()) {
    h.u64(raw(r.user));
    h.u64(raw(r.date));
    h.u64(r.seat);
    h.u64(static_cast<uint64_t>(r.status));
    h.i64(r.price);
    h.i64(r.created_ms);
    h.i64(r.expires_ms);
    h.i64(r.paid_ms);
    h.i64(r.cancelled_ms);
    h.i64(r.refunded_ms);
    h.u64(raw(r.prev_of_user));
    h.u64(raw(r.payment));
    h.u64(raw(r.refund));
  }
  h.u64(s.payments().size());
  for (const Payment& p : s.payments()) {
    h.u64(raw(p.reservation));
    h.u64(raw(p.user));
    h.i64(p.amount);
    h.i64(p.balance_after);
    h.i64(p.paid_ms);
    h.u64(raw(p.prev_of_user));
  }
  h.u64(s.refunds().size());
  for (const RefundRecord& f : s.refunds()) {
    h.u64(raw(f.reservation));
    h.i64(f.amount);
    h.i64(f.balance_after);
    h.i64(f.created_ms);
  }
  h.u64(s.idempotent_count());
  s.for_each_idempotent([&h](const IdempotentKey& k, const IdempotentEntry& e) {
    h.u64(raw(k.user));
    h.str(k.key.view());
    h.u64(e.fingerprint);
    h.u64(static_cast<uint64_t>(e.kind));
    h.u64(e.id);
    h.i64(e.balance_after);
    h.i64(e.created_ms);
  });
}

}  // namespace

uint64_t state_digest(const State& state) {
  Hasher h;
  h.u64(state.last_seq());
  h.i64(state.last_event_ms());
  hash_catalog(h, state);
  hash_people(h, state);
  hash_sales(h, state);
  return h.value();
}

}  // namespace boxoffice
