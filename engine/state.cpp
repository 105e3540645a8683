#include "engine/state.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace boxoffice {

State::State(uint64_t queue_span_tokens, const HashKey& hash_key)
    : hash_key_(hash_key), fenwick_(queue_span_tokens), idempotent_(hash_key) {}

// Reserves and touches the tables' memory, so that the hot path neither
// reallocates nor takes page faults until it outgrows these sizes.
void State::reserve(uint32_t users, uint64_t tokens, uint32_t reservations, uint32_t payments) {
  const auto touch = [](auto& table, size_t n) {
    if (n <= table.capacity()) return;
    const size_t used = table.size();
    table.resize(n);  // default-constructs, so every page is written once
    table.resize(used);
  };
  touch(users_, users);
  user_by_name_.reserve(users);
  touch(tokens_, tokens);
  touch(reservations_, reservations);
  touch(payments_, payments);
}

void State::reserve_for_events(uint64_t events) {
  const auto room = [events](auto& table, uint64_t entries_max) {
    using Entry = typename std::remove_reference_t<decltype(table)>::value_type;
    const uint64_t n = std::min({table.size() + events, entries_max,
                                 uint64_t{limits::table_reserve_bytes_max / sizeof(Entry)}});
    if (n > table.capacity()) table.reserve(static_cast<size_t>(n));
  };
  room(users_, limits::users_max);
  room(tokens_, limits::tokens_max);
  room(reservations_, limits::reservations_max);
  room(payments_, limits::payments_max);
  room(refunds_, limits::refunds_max);
  idempotent_.reserve_more_entries(static_cast<size_t>(std::min<uint64_t>(events, SIZE_MAX)),
                                   limits::table_reserve_bytes_max);
}

std::array<State::TableRegion, State::table_region_count> State::table_regions() const {
  const auto region = [](const auto& table) {
    using Entry = typename std::remove_reference_t<decltype(table)>::value_type;
    return TableRegion{table.data(), table.size() * sizeof(Entry),
                       table.capacity() * sizeof(Entry)};
  };
  return {region(users_),    region(tokens_),  region(reservations_),
          region(payments_), region(refunds_), region(idempotent_.entries())};
}

void State::apply(const Event& event) {
  BOXOFFICE_ASSERT(event.time_ms >= last_event_ms_);
  std::visit([&](const auto& body) { on(event.time_ms, body); }, event.body);
  last_seq_++;
  last_event_ms_ = event.time_ms;
}

void State::prefetch(const Event& event) const {
  if (const auto* held = std::get_if<SeatHeld>(&event.body)) {
    if (raw(held->date) < dates_.size()) {
      const DateEntry& d = dates_[raw(held->date)];
      if (held->seat >= 1 && held->seat <= d.total()) __builtin_prefetch(&d.seats[held->seat - 1]);
    }
    prefetch_user(held->user);
    prefetch_idempotent(held->user, held->idempotency);
  } else if (const auto* expired = std::get_if<HoldExpired>(&event.body)) {
    prefetch_reservation(expired->reservation);
  } else if (const auto* cancelled = std::get_if<ReservationCancelled>(&event.body)) {
    prefetch_reservation(cancelled->reservation);
  } else if (const auto* paid = std::get_if<PaymentCompleted>(&event.body)) {
    prefetch_reservation(paid->reservation);
  } else if (const auto* charged = std::get_if<BalanceCharged>(&event.body)) {
    prefetch_user(charged->user);
    prefetch_idempotent(charged->user, charged->idempotency);
  } else if (const auto* created = std::get_if<UserCreated>(&event.body)) {
    user_by_name_.prefetch(name_hash(created->name.view()));
  } else if (const auto* issued = std::get_if<TokenIssued>(&event.body)) {
    prefetch_user(issued->user);
  } else if (const auto* activated = std::get_if<TokenActivated>(&event.body)) {
    prefetch_token(activated->token);
  } else if (const auto* ended = std::get_if<TokenExpired>(&event.body)) {
    prefetch_token(ended->token);
  }
}

void State::prefetch_user(UserId id) const {
  if (raw(id) >= 1 && raw(id) <= users_.size()) __builtin_prefetch(&users_[raw(id) - 1]);
}

void State::prefetch_token(TokenId id) const {
  if (raw(id) >= 1 && raw(id) <= tokens_.size()) __builtin_prefetch(&tokens_[raw(id) - 1]);
}

void State::prefetch_idempotent(UserId user, const IdempotencyTag& tag) const {
  if (!tag.key.empty()) idempotent_.prefetch(IdempotentKey{user, tag.key});
}

void State::prefetch_reservation(ReservationId id) const {
  if (const Reservation* r = reservation(id)) __builtin_prefetch(r);
}

void State::touch_token(TokenId id, TimeMs now_ms) {
  Token& t = token_mut(id);
  if (t.status == TokenStatus::waiting) t.seen_ms = std::max(t.seen_ms, now_ms);
}

// ---- catalog ----

std::optional<DateRef> State::search_date(const Concert& c, Day day) const {
  // A branch-free lower bound: the probes do not depend on the outcome of
  // earlier comparisons' branches, so random days cost no mispredictions.
  const Day* base = date_days_.data() + c.first_date;
  uint32_t n = c.date_count;
  while (n > 1) {
    const uint32_t half = n / 2;
    base = base[half - 1] < day ? base + half : base;
    n -= half;
  }
  if (*base != day) return std::nullopt;
  return DateRef{static_cast<uint32_t>(base - date_days_.data())};
}

void State::on(TimeMs, const ConcertCreated& e) {
  BOXOFFICE_ASSERT(raw(e.concert) == concerts_.size() + 1);
  BOXOFFICE_ASSERT(!e.dates.empty() && e.dates.size() <= limits::dates_per_concert_max);
  Concert c;
  c.title = e.title;
  c.first_date = static_cast<uint32_t>(dates_.size());
  c.date_count = static_cast<uint32_t>(e.dates.size());
  size_t seats = 0;
  for (const DateSpec& spec : e.dates) seats += spec.seats;
  c.seats.assign(seats, Seat{});
  uint32_t seat_offset = 0;
  for (size_t i = 0; i < e.dates.size(); i++) {
    const DateSpec& spec = e.dates[i];
    BOXOFFICE_ASSERT(i == 0 || e.dates[i - 1].day < spec.day);
    BOXOFFICE_ASSERT(spec.seats >= 1 && spec.seats <= limits::seats_per_date_max);
    BOXOFFICE_ASSERT(spec.price >= 0 && spec.price <= limits::price_won_max);
    DateEntry d;
    d.concert = e.concert;
    d.day = spec.day;
    d.available = spec.seats;
    d.price = spec.price;
    d.seat_offset = seat_offset;
    d.seats = std::span<const Seat>(c.seats.data() + seat_offset, spec.seats);
    seat_offset += spec.seats;
    dates_.push_back(d);
    date_days_.push_back(spec.day);
    seats_total_ += spec.seats;
  }
  const auto span = static_cast<uint64_t>(e.dates.back().day - e.dates.front().day) + 1;
  if (span <= uint64_t{limits::day_table_days_per_date_max} * e.dates.size() +
                  limits::day_table_slack_days) {
    c.first_day = e.dates.front().day;
    c.day_span = static_cast<uint32_t>(span);
    c.day_table_offset = static_cast<uint32_t>(day_table_.size());
    day_table_.resize(day_table_.size() + span, 0);
    for (uint32_t i = 0; i < c.date_count; i++) {
      const auto offset = static_cast<uint64_t>(e.dates[i].day - c.first_day);
      day_table_[c.day_table_offset + offset] = c.first_date + i + 1;
    }
  }
  concerts_.push_back(std::move(c));
}

// ---- users ----

User& State::user_mut(UserId id) {
  BOXOFFICE_ASSERT(raw(id) >= 1 && raw(id) <= users_.size());
  return users_[raw(id) - 1];
}

std::optional<UserId> State::find_user(std::string_view name) const {
  const std::optional<uint64_t> id = user_by_name_.find(
      name_hash(name), [&](uint64_t u) { return users_[u - 1].name.view() == name; });
  if (!id.has_value()) return std::nullopt;
  return UserId{static_cast<uint32_t>(*id)};
}

void State::on(TimeMs, const UserCreated& e) {
  BOXOFFICE_ASSERT(raw(e.user) == users_.size() + 1);
  BOXOFFICE_ASSERT(is_valid_user_name(e.name.view()));
  BOXOFFICE_ASSERT(!find_user(e.name.view()).has_value());
  User u;
  u.name = e.name;
  users_.push_back(u);
  user_by_name_.insert(name_hash(e.name.view()), raw(e.user));
}

void State::on(TimeMs t, const BalanceCharged& e) {
  User& u = user_mut(e.user);
  BOXOFFICE_ASSERT(e.amount >= limits::charge_won_min && e.amount <= limits::charge_won_max);
  BOXOFFICE_ASSERT(u.balance <= limits::balance_won_max - e.amount);
  u.balance += e.amount;
  u.charged_total += e.amount;
  remember(e.user, e.idempotency, IdempotentKind::charge, 0, u.balance, t);
}

// ---- tokens and the waiting room ----

Token& State::token_mut(TokenId id) {
  BOXOFFICE_ASSERT(raw(id) >= 1 && raw(id) <= tokens_.size());
  return tokens_[raw(id) - 1];
}

bool State::line_has_room() const {
  // The new token's id must lie within one ring span of the head of the line.
  return tokens_.size() + 1 - line_head_ < fenwick_.span();
}

uint64_t State::waiting_position(TokenId id) const {
  const Token* t = token(id);
  BOXOFFICE_ASSERT(t != nullptr && t->status == TokenStatus::waiting);
  BOXOFFICE_ASSERT(raw(id) >= line_head_);
  return fenwick_.count(line_head_, raw(id));
}

TokenId State::next_waiting() const {
  if (fenwick_.marked() == 0) return TokenId::none;
  BOXOFFICE_ASSERT(line_head_ <= tokens_.size());
  BOXOFFICE_ASSERT(tokens_[line_head_ - 1].status == TokenStatus::waiting);
  return TokenId{line_head_};
}

void State::on(TimeMs t, const TokenIssued& e) {
  BOXOFFICE_ASSERT(raw(e.token) == tokens_.size() + 1);
  BOXOFFICE_ASSERT(line_has_room());
  User& u = user_mut(e.user);
  BOXOFFICE_ASSERT(u.live_token == TokenId::none);
  u.live_token = e.token;
  Token tok;
  tok.user = e.user;
  tok.status = TokenStatus::waiting;
  tok.issued_ms = t;
  tok.seen_ms = t;
  tokens_.push_back(tok);
  if (fenwick_.marked() == 0) line_head_ = raw(e.token);
  fenwick_.mark(raw(e.token));
}

void State::on(TimeMs t, const TokenActivated& e) {
  Token& tok = token_mut(e.token);
  BOXOFFICE_ASSERT(tok.status == TokenStatus::waiting);
  BOXOFFICE_ASSERT(e.expires_ms > t);
  // Admission is in order: only the head of the line is activated.
  BOXOFFICE_ASSERT(raw(e.token) == line_head_);
  tok.status = TokenStatus::active;
  tok.activated_ms = t;
  tok.expires_ms = e.expires_ms;
  active_count_++;
  fenwick_.unmark(raw(e.token));
  if (t > tok.issued_ms) count_promotion(t);
  // Advance the head past tokens that are no longer waiting.
  while (line_head_ <= tokens_.size() && tokens_[line_head_ - 1].status != TokenStatus::waiting) {
    line_head_++;
  }
}

void State::on(TimeMs t, const TokenExpired& e) {
  Token& tok = token_mut(e.token);
  BOXOFFICE_ASSERT(tok.status != TokenStatus::expired);
  if (tok.status == TokenStatus::active) {
    BOXOFFICE_ASSERT(active_count_ > 0);
    active_count_--;
  } else {
    fenwick_.unmark(raw(e.token));
  }
  tok.status = TokenStatus::expired;
  tok.end = e.reason;
  tok.ended_ms = t;
  User& u = user_mut(tok.user);
  BOXOFFICE_ASSERT(u.live_token == e.token);
  u.live_token = TokenId::none;
  while (line_head_ <= tokens_.size() && tokens_[line_head_ - 1].status != TokenStatus::waiting) {
    line_head_++;
  }
}

void State::count_promotion(TimeMs t) {
  const int64_t second = t / 1000;
  PromotionBucket& b = promotions_[static_cast<size_t>(second % limits::admission_window_s)];
  if (b.second != second) b = PromotionBucket{second, 0};
  b.count++;
  if (first_promotion_s_ < 0) first_promotion_s_ = second;
}

uint64_t State::promotions_within(TimeMs now_ms, uint32_t window_s, uint32_t* span_s_out) const {
  BOXOFFICE_ASSERT(window_s >= 1 && window_s <= limits::admission_window_s);
  const int64_t now_s = now_ms / 1000;
  uint64_t n = 0;
  for (const PromotionBucket& b : promotions_) {
    if (b.second >= 0 && b.second > now_s - window_s && b.second <= now_s) n += b.count;
  }
  int64_t span = window_s;
  if (first_promotion_s_ >= 0) span = std::min<int64_t>(span, now_s - first_promotion_s_ + 1);
  *span_s_out = static_cast<uint32_t>(std::max<int64_t>(span, 1));
  return n;
}

// ---- reservations ----

Reservation& State::reservation_mut(ReservationId id) {
  BOXOFFICE_ASSERT(raw(id) >= 1 && raw(id) <= reservations_.size());
  return reservations_[raw(id) - 1];
}

Seat& State::seat_mut(const Reservation& r) {
  DateEntry& d = dates_[raw(r.date)];
  BOXOFFICE_ASSERT(r.seat >= 1 && r.seat <= d.total());
  return concerts_[raw(d.concert) - 1].seats[d.seat_offset + r.seat - 1];
}

void State::on(TimeMs t, const SeatHeld& e) {
  BOXOFFICE_ASSERT(raw(e.reservation) == reservations_.size() + 1);
  BOXOFFICE_ASSERT(raw(e.date) < dates_.size());
  BOXOFFICE_ASSERT(e.expires_ms > t);
  User& u = user_mut(e.user);
  Reservation r;
  r.user = e.user;
  r.date = e.date;
  r.seat = e.seat;
  r.status = ReservationStatus::held;
  r.price = e.price;
  r.created_ms = t;
  r.expires_ms = e.expires_ms;
  r.prev_of_user = u.last_reservation;
  Seat& s = seat_mut(r);
  BOXOFFICE_ASSERT(s.status == SeatStatus::available && s.reservation == ReservationId::none);
  BOXOFFICE_ASSERT(dates_[raw(e.date)].price == e.price);
  s.status = SeatStatus::held;
  s.reservation = e.reservation;
  dates_[raw(e.date)].available--;
  reservations_.push_back(r);
  live_reservations_++;
  u.last_reservation = e.reservation;
  u.reservation_count++;
  u.held_count++;
  remember(e.user, e.idempotency, IdempotentKind::hold, raw(e.reservation), 0, t);
}

// Frees the seat of a live reservation.
void State::end_hold(Reservation& r) {
  Seat& s = seat_mut(r);
  BOXOFFICE_ASSERT(s.status != SeatStatus::available);
  s.status = SeatStatus::available;
  s.reservation = ReservationId::none;
  dates_[raw(r.date)].available++;
  BOXOFFICE_ASSERT(live_reservations_ > 0);
  live_reservations_--;
}

void State::on(TimeMs t, const HoldExpired& e) {
  Reservation& r = reservation_mut(e.reservation);
  BOXOFFICE_ASSERT(r.status == ReservationStatus::held);
  BOXOFFICE_ASSERT(r.expires_ms <= t);
  end_hold(r);
  r.status = ReservationStatus::expired;
  User& u = user_mut(r.user);
  BOXOFFICE_ASSERT(u.held_count > 0);
  u.held_count--;
}

void State::on(TimeMs t, const ReservationCancelled& e) {
  Reservation& r = reservation_mut(e.reservation);
  BOXOFFICE_ASSERT(r.status == ReservationStatus::held || r.status == ReservationStatus::confirmed);
  if (r.status == ReservationStatus::held) {
    User& u = user_mut(r.user);
    BOXOFFICE_ASSERT(u.held_count > 0);
    u.held_count--;
  }
  end_hold(r);
  r.status = ReservationStatus::cancelled;
  r.cancelled_ms = t;
}

// ---- payments and refunds ----

const Payment& State::payment(PaymentId id) const {
  BOXOFFICE_ASSERT(raw(id) >= 1 && raw(id) <= payments_.size());
  return payments_[raw(id) - 1];
}

const RefundRecord& State::refund(RefundId id) const {
  BOXOFFICE_ASSERT(raw(id) >= 1 && raw(id) <= refunds_.size());
  return refunds_[raw(id) - 1];
}

void State::on(TimeMs t, const PaymentCompleted& e) {
  BOXOFFICE_ASSERT(raw(e.payment) == payments_.size() + 1);
  Reservation& r = reservation_mut(e.reservation);
  BOXOFFICE_ASSERT(r.status == ReservationStatus::held && r.expires_ms > t);
  BOXOFFICE_ASSERT(e.amount == r.price);
  User& u = user_mut(r.user);
  BOXOFFICE_ASSERT(u.balance >= e.amount && u.held_count > 0);
  u.balance -= e.amount;
  u.paid_total += e.amount;
  u.held_count--;
  r.status = ReservationStatus::confirmed;
  r.paid_ms = t;
  r.payment = e.payment;
  Seat& s = seat_mut(r);
  BOXOFFICE_ASSERT(s.status == SeatStatus::held && s.reservation == e.reservation);
  s.status = SeatStatus::sold;
  Payment p;
  p.reservation = e.reservation;
  p.user = r.user;
  p.amount = e.amount;
  p.balance_after = u.balance;
  p.paid_ms = t;
  p.prev_of_user = u.last_payment;
  payments_.push_back(p);
  u.last_payment = e.payment;
  u.payment_count++;
  remember(r.user, e.idempotency, IdempotentKind::pay, raw(e.payment), u.balance, t);
}

void State::on(TimeMs t, const RefundIssued& e) {
  BOXOFFICE_ASSERT(raw(e.refund) == refunds_.size() + 1);
  Reservation& r = reservation_mut(e.reservation);
  BOXOFFICE_ASSERT(r.payment != PaymentId::none && r.refund == RefundId::none);
  BOXOFFICE_ASSERT(r.status == ReservationStatus::confirmed ||
                   r.status == ReservationStatus::cancelled);
  BOXOFFICE_ASSERT(e.amount == payment(r.payment).amount);
  if (r.status == ReservationStatus::confirmed) end_hold(r);
  User& u = user_mut(r.user);
  BOXOFFICE_ASSERT(u.balance <= limits::balance_won_max * 2 - e.amount);
  u.balance += e.amount;
  u.refunded_total += e.amount;
  r.status = ReservationStatus::refunded;
  r.refunded_ms = t;
  r.refund = e.refund;
  RefundRecord f;
  f.reservation = e.reservation;
  f.amount = e.amount;
  f.balance_after = u.balance;
  f.created_ms = t;
  refunds_.push_back(f);
  remember(r.user, e.idempotency, IdempotentKind::refund, raw(e.refund), u.balance, t);
}

// ---- idempotency ----

const IdempotentEntry* State::idempotent(UserId user, const IdempotencyKey& key) const {
  return idempotent_.find(IdempotentKey{user, key});
}

std::optional<TimeMs> State::oldest_idempotent_ms() const {
  if (idempotent_.empty()) return std::nullopt;
  return idempotent_.oldest().value.created_ms;
}

void State::remember(UserId user, const IdempotencyTag& tag, IdempotentKind kind, uint64_t id,
                     int64_t balance_after, TimeMs t) {
  if (tag.key.empty()) return;
  idempotent_.insert(IdempotentKey{user, tag.key},
                     IdempotentEntry{tag.fingerprint, kind, id, balance_after, t});
}

void State::on(TimeMs, const IdempotencyForgotten& e) {
  size_t forgotten = 0;
  while (!idempotent_.empty() && idempotent_.oldest().value.created_ms <= e.created_up_to_ms) {
    idempotent_.pop_oldest();
    forgotten++;
  }
  BOXOFFICE_ASSERT(forgotten > 0);
}

}  // namespace boxoffice
