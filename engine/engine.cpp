#include "engine/engine.hpp"

#include <algorithm>

#include "engine/snapshot.hpp"

namespace boxoffice {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) {
  BOXOFFICE_ASSERT(b > 0);
  return a / b + (a % b != 0 ? 1 : 0);
}

// FNV-1a over a kind byte and little-endian fields.
class Fingerprint {
 public:
  explicit Fingerprint(uint8_t kind) { byte(kind); }
  Fingerprint& u64(uint64_t v) {
    for (int i = 0; i < 8; i++) byte(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Fingerprint& str(std::string_view s) {
    u64(s.size());
    for (const char c : s) byte(static_cast<uint8_t>(c));
    return *this;
  }
  uint64_t value() const { return h_; }

 private:
  void byte(uint8_t b) { h_ = (h_ ^ b) * 1099511628211ULL; }
  uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace

uint64_t fingerprint(const HoldSeat& c) {
  return Fingerprint(1)
      .u64(raw(c.concert))
      .u64(static_cast<uint64_t>(c.day))
      .u64(static_cast<uint64_t>(c.seat))
      .value();
}
uint64_t fingerprint(const ChargeBalance& c) {
  return Fingerprint(2).u64(static_cast<uint64_t>(c.amount)).value();
}
uint64_t fingerprint(const Pay& c) {
  return Fingerprint(3)
      .u64(raw(c.reservation))
      .u64(c.amount_present ? 1 : 0)
      .u64(static_cast<uint64_t>(c.amount))
      .value();
}
uint64_t fingerprint(const Refund& c) {
  return Fingerprint(4).u64(raw(c.reservation)).str(c.reason).value();
}

Engine::Engine(const Config& config)
    : config_(config), state_(config.queue_span_tokens, config.hash_key) {
  BOXOFFICE_ASSERT(!config.invalid_setting().has_value());
}

// ---- the command loop ----

Result Engine::execute(const Command& command, std::vector<Event>& events_out) {
  const TimeMs t = std::max(now_ms_, command.time_ms);
  Out out{events_out};
  run_due(out, t);
  now_ms_ = t;
  Result result;
  std::visit([&](const auto& c) { on(out, c, result); }, command.body);
  return result;
}

void Engine::applied(const Event& event) {
  state_.apply(event);
  index(event);
}

void Engine::recover(const Event& event) {
  state_.apply(event);
  index(event);
  now_ms_ = std::max(now_ms_, event.time_ms);
}

std::string Engine::restore(std::span<const uint8_t> snapshot, DigestCheck check) {
  BOXOFFICE_ASSERT(state_.last_seq() == 0 && hold_due_.empty() && window_due_.empty());
  std::string error = SnapshotCodec::decode(snapshot, &state_, check);
  if (!error.empty()) return error;
  // The deadline indexes are derived: rebuild them from the state.
  const auto reservations = state_.reservations();
  for (size_t i = 0; i < reservations.size(); i++) {
    if (reservations[i].status == ReservationStatus::held) {
      hold_due_.push(reservations[i].expires_ms, ReservationId{static_cast<uint32_t>(i + 1)});
    }
  }
  const auto tokens = state_.tokens();
  for (size_t i = 0; i < tokens.size(); i++) {
    if (tokens[i].status == TokenStatus::active)
      window_due_.push(tokens[i].expires_ms, TokenId{i + 1});
    if (tokens[i].status == TokenStatus::waiting) {
      idle_due_.push(tokens[i].seen_ms + config_.queue_idle_ms, TokenId{i + 1});
    }
  }
  now_ms_ = state_.last_event_ms();
  due_floor_ = earliest_deadline();
  return "";
}

void Engine::begin_serving(TimeMs now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  const auto tokens = state_.tokens();
  for (size_t i = 0; i < tokens.size(); i++) {
    if (tokens[i].status == TokenStatus::waiting) state_.touch_token(TokenId{i + 1}, now_ms_);
  }
}

void Engine::prefetch(const Command& command, PrefetchStage stage) const {
  const auto* hold = std::get_if<HoldSeat>(&command.body);
  if (hold == nullptr) return;
  const Token* tok = state_.token(hold->token);
  if (tok == nullptr) return;
  if (stage == PrefetchStage::late) {
    if (raw(tok->user) >= 1 && raw(tok->user) <= state_.user_count()) {
      __builtin_prefetch(&state_.user(tok->user));
    }
    return;
  }
  __builtin_prefetch(tok);
  const std::optional<DateRef> date = state_.find_date(hold->concert, hold->day);
  if (!date.has_value()) return;
  const DateEntry& d = state_.date(*date);
  if (hold->seat >= 1 && hold->seat <= d.total()) {
    __builtin_prefetch(&d.seats[static_cast<size_t>(hold->seat - 1)]);
  }
}

// Keeps the deadline indexes in step with the state.
void Engine::index(const Event& event) {
  TimeMs due = INT64_MAX;
  const IdempotencyTag* tag = nullptr;
  if (const auto* held = std::get_if<SeatHeld>(&event.body)) {
    due = held->expires_ms;
    hold_due_.push(due, held->reservation);
    tag = &held->idempotency;
  } else if (const auto* activated = std::get_if<TokenActivated>(&event.body)) {
    due = activated->expires_ms;
    window_due_.push(due, activated->token);
  } else if (const auto* issued = std::get_if<TokenIssued>(&event.body)) {
    due = event.time_ms + config_.queue_idle_ms;
    idle_due_.push(due, issued->token);
  } else if (const auto* charged = std::get_if<BalanceCharged>(&event.body)) {
    tag = &charged->idempotency;
  } else if (const auto* paid = std::get_if<PaymentCompleted>(&event.body)) {
    tag = &paid->idempotency;
  } else if (const auto* refunded = std::get_if<RefundIssued>(&event.body)) {
    tag = &refunded->idempotency;
  }
  if (tag != nullptr && !tag->key.empty()) {
    due = std::min(due, event.time_ms + limits::idempotency_ttl_ms);
  }
  due_floor_ = std::min(due_floor_, due);
}

// ---- deadlines ----

void Engine::run_due(Out& out, TimeMs t) {
  if (t >= due_floor_) {
    while (run_one_due(out, t)) {
    }
    forget_idempotent(out, t);
    due_floor_ = earliest_deadline();
  }
  // Slots are handed on as they free up; a free slot with tokens waiting is
  // left only by a restart with a larger active limit. Deadlines first, so
  // that events keep their order in time.
  if (state_.active_count() < config_.active_limit && state_.waiting_count() > 0) {
    admit(out, t);
  }
}

TimeMs Engine::earliest_deadline() const {
  TimeMs floor = INT64_MAX;
  if (!hold_due_.empty()) floor = std::min(floor, hold_due_.front().due_ms);
  if (!window_due_.empty()) floor = std::min(floor, window_due_.front().due_ms);
  if (!idle_due_.empty()) floor = std::min(floor, idle_due_.front().due_ms);
  const auto oldest = state_.oldest_idempotent_ms();
  if (oldest.has_value()) floor = std::min(floor, *oldest + limits::idempotency_ttl_ms);
  return floor;
}

// Handles the earliest deadline at or before `t`, if any. Ties go to holds,
// then active windows, then idle waiting tokens.
bool Engine::run_one_due(Out& out, TimeMs t) {
  TimeMs best = t + 1;
  int kind = -1;
  if (!hold_due_.empty() && hold_due_.front().due_ms < best) {
    best = hold_due_.front().due_ms, kind = 0;
  }
  if (!window_due_.empty() && window_due_.front().due_ms < best) {
    best = window_due_.front().due_ms, kind = 1;
  }
  if (!idle_due_.empty() && idle_due_.front().due_ms < best) {
    best = idle_due_.front().due_ms, kind = 2;
  }
  if (kind == 0) {
    const auto e = hold_due_.front();
    hold_due_.pop();
    expire_hold_at(out, e.id, e.due_ms);
  } else if (kind == 1) {
    const auto e = window_due_.front();
    window_due_.pop();
    end_window_at(out, e.id, e.due_ms);
  } else if (kind == 2) {
    const auto e = idle_due_.front();
    idle_due_.pop();
    drop_idle_at(out, e.id, e.due_ms);
  }
  return kind >= 0;
}

void Engine::expire_hold_at(Out& out, ReservationId id, TimeMs due_ms) {
  const Reservation* r = state_.reservation(id);
  BOXOFFICE_ASSERT(r != nullptr);
  if (r->status != ReservationStatus::held || r->expires_ms != due_ms) return;  // stale
  emit(out, std::max(due_ms, state_.last_event_ms()), HoldExpired{id});
}

void Engine::end_window_at(Out& out, TokenId id, TimeMs due_ms) {
  const Token* tok = state_.token(id);
  BOXOFFICE_ASSERT(tok != nullptr);
  if (tok->status != TokenStatus::active || tok->expires_ms != due_ms) return;  // stale
  const TimeMs at = std::max(due_ms, state_.last_event_ms());
  emit(out, at, TokenExpired{id, TokenEnd::window});
  admit(out, at);
}

void Engine::drop_idle_at(Out& out, TokenId id, TimeMs due_ms) {
  const Token* tok = state_.token(id);
  BOXOFFICE_ASSERT(tok != nullptr);
  if (tok->status != TokenStatus::waiting) return;  // stale: admitted or gone
  const TimeMs deadline = tok->seen_ms + config_.queue_idle_ms;
  if (deadline > due_ms) {
    idle_due_.push(deadline, id);  // seen since: wait for the new deadline
    return;
  }
  emit(out, std::max(due_ms, state_.last_event_ms()), TokenExpired{id, TokenEnd::idle});
}

// Hands free active slots to the head of the line, at instant `t`.
void Engine::admit(Out& out, TimeMs t) {
  while (state_.active_count() < config_.active_limit) {
    const TokenId next = state_.next_waiting();
    if (next == TokenId::none) return;
    emit(out, t, TokenActivated{next, t + config_.token_ttl_ms});
  }
}

void Engine::forget_idempotent(Out& out, TimeMs t) {
  const auto oldest = state_.oldest_idempotent_ms();
  if (!oldest.has_value() || *oldest + limits::idempotency_ttl_ms > t) return;
  emit(out, t, IdempotencyForgotten{t - limits::idempotency_ttl_ms});
}

// ---- tokens ----

uint64_t Engine::estimated_wait_s(uint64_t position) const {
  uint32_t span_s = 0;
  const uint64_t promoted = state_.promotions_within(now_ms_, limits::admission_window_s, &span_s);
  if (promoted == 0) {
    // Nothing measured yet: every active slot turns over within one window.
    const auto ttl_s = static_cast<uint64_t>(config_.token_ttl_ms / 1000);
    return ceil_div(position * ttl_s, config_.active_limit);
  }
  return ceil_div(position * span_s, promoted);
}

TokenView Engine::token_view(TokenId id) const {
  const Token* tok = state_.token(id);
  BOXOFFICE_ASSERT(tok != nullptr);
  TokenView v;
  v.token = id;
  v.user = tok->user;
  v.status = tok->status;
  if (tok->status == TokenStatus::waiting) {
    v.position = state_.waiting_position(id);
    v.estimated_wait_s = estimated_wait_s(v.position);
    v.expires_ms = tok->seen_ms + config_.queue_idle_ms;
  } else {
    v.expires_ms = tok->expires_ms;
  }
  return v;
}

Code Engine::check_waiting_token(TokenId id, TokenNeed need, TimeMs t, Result& result) {
  state_.touch_token(id, t);  // any request with a waiting token is activity
  if (need == TokenNeed::active) {
    result.token = token_view(id);
    return Code::token_not_active;
  }
  return Code::ok;
}

// An idempotent replay is answered for a known token even if the token has
// since expired (a payment uses its token up; its retry must still get the
// first answer). Returns ok with `result` filled for a replay, or
// idempotency_key_reused for the same key with another request, or
// not_found when the key is new (or absent).
Code Engine::check_replay_slow(TokenId id, const IdempotencyKey& key, uint64_t print,
                               IdempotentKind kind, Result& result) const {
  const Token* tok = state_.token(id);
  if (tok == nullptr) return Code::not_found;
  const IdempotentEntry* entry = state_.idempotent(tok->user, key);
  if (entry == nullptr) return Code::not_found;
  if (entry->kind != kind || entry->fingerprint != print) return Code::idempotency_key_reused;
  result.replayed = true;
  result.user = tok->user;
  result.balance = entry->balance_after;
  switch (kind) {
    case IdempotentKind::hold:
      result.created = true;
      result.reservation = ReservationId{static_cast<uint32_t>(entry->id)};
      break;
    case IdempotentKind::pay:
      result.created = true;
      result.payment = PaymentId{static_cast<uint32_t>(entry->id)};
      result.reservation = state_.payment(result.payment).reservation;
      break;
    case IdempotentKind::refund:
      result.created = true;
      result.refund = RefundId{static_cast<uint32_t>(entry->id)};
      result.reservation = state_.refund(result.refund).reservation;
      break;
    case IdempotentKind::charge:
      break;
  }
  return Code::ok;
}

}  // namespace boxoffice
