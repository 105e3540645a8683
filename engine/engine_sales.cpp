// Engine handlers for reservations, balances, payments and refunds.
#include "engine/engine.hpp"

namespace boxoffice {

namespace {

// The caller's reservation, or nullptr (another user's is not found either).
const Reservation* owned(const State& state, TokenId token, ReservationId id) {
  const Reservation* r = state.reservation(id);
  if (r == nullptr || r->user != state.token(token)->user) return nullptr;
  return r;
}

}  // namespace

void Engine::on(Out& out, const HoldSeat& c, Result& r) {
  const uint64_t print = c.key.empty() ? 0 : fingerprint(c);
  const Code replay = check_replay(c.token, c.key, print, IdempotentKind::hold, r);
  if (replay == Code::ok) return;
  r.code = check_token(c.token, TokenNeed::active, now_ms_, r);
  if (r.code != Code::ok) return;
  const std::optional<DateRef> date_ref = state_.find_date(c.concert, c.day);
  if (!date_ref.has_value()) return fail(r, Code::not_found);
  const DateEntry& date = state_.date(*date_ref);
  if (c.seat < 1 || c.seat > date.total()) return fail(r, Code::invalid_request);
  if (replay == Code::idempotency_key_reused) return fail(r, replay);
  if (now_ms_ >= date.sales_close_ms()) return fail(r, Code::sales_closed);
  const auto seat = static_cast<uint32_t>(c.seat);
  if (date.seats[seat - 1].status != SeatStatus::available) {
    return fail(r, Code::seat_unavailable);
  }
  const UserId user = state_.token(c.token)->user;
  if (state_.user(user).held_count >= config_.holds_per_user_max) {
    return fail(r, Code::hold_limit_reached);
  }
  if (state_.reservation_count() >= limits::reservations_max) {
    return fail(r, Code::overloaded);
  }
  const ReservationId id{state_.reservation_count() + 1};
  r.created = true;
  r.user = user;
  r.reservation = id;
  SeatHeld& held = emit_begin<SeatHeld>(out, now_ms_);
  held.reservation = id;
  held.user = user;
  held.date = *date_ref;
  held.seat = seat;
  held.price = date.price;
  held.expires_ms = now_ms_ + config_.hold_ttl_ms;
  if (!c.key.empty()) held.idempotency = IdempotencyTag{c.key, print};
  emit_end(out);
}

void Engine::on(Out&, const ListReservations& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  r.user = state_.token(c.token)->user;
}

void Engine::on(Out&, const GetReservation& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  if (owned(state_, c.token, c.reservation) == nullptr) return fail(r, Code::not_found);
  r.reservation = c.reservation;
}

void Engine::on(Out& out, const CancelReservation& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  const Reservation* res = owned(state_, c.token, c.reservation);
  if (res == nullptr) return fail(r, Code::not_found);
  if (res->status != ReservationStatus::held && res->status != ReservationStatus::confirmed) {
    return fail(r, Code::not_cancellable);
  }
  emit(out, now_ms_, ReservationCancelled{c.reservation});
  r.reservation = c.reservation;
}

void Engine::on(Out&, const GetBalance& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  r.user = state_.token(c.token)->user;
  r.balance = state_.user(r.user).balance;
}

void Engine::on(Out& out, const ChargeBalance& c, Result& r) {
  const uint64_t print = c.key.empty() ? 0 : fingerprint(c);
  const Code replay = check_replay(c.token, c.key, print, IdempotentKind::charge, r);
  if (replay == Code::ok) return;
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  if (c.amount < limits::charge_won_min || c.amount > limits::charge_won_max) {
    return fail(r, Code::invalid_request);
  }
  if (replay == Code::idempotency_key_reused) return fail(r, replay);
  const UserId user = state_.token(c.token)->user;
  const int64_t balance = state_.user(user).balance;
  if (balance > limits::balance_won_max - c.amount) return fail(r, Code::invalid_request);
  emit(out, now_ms_, BalanceCharged{user, c.amount, IdempotencyTag{c.key, print}});
  r.user = user;
  r.balance = state_.user(user).balance;
}

void Engine::on(Out& out, const Pay& c, Result& r) {
  const uint64_t print = c.key.empty() ? 0 : fingerprint(c);
  const Code replay = check_replay(c.token, c.key, print, IdempotentKind::pay, r);
  if (replay == Code::ok) return;
  r.code = check_token(c.token, TokenNeed::active, now_ms_, r);
  if (r.code != Code::ok) return;
  const Reservation* res = owned(state_, c.token, c.reservation);
  if (res == nullptr) return fail(r, Code::not_found);
  if (c.amount_present && c.amount != res->price) return fail(r, Code::invalid_request);
  if (replay == Code::idempotency_key_reused) return fail(r, replay);
  if (res->status != ReservationStatus::held) return fail(r, Code::reservation_not_payable);
  if (now_ms_ >= state_.date(res->date).sales_close_ms()) {
    return fail(r, Code::sales_closed);
  }
  const UserId user = res->user;
  if (state_.user(user).balance < res->price) return fail(r, Code::insufficient_balance);
  if (state_.payment_count() >= limits::payments_max) return fail(r, Code::overloaded);
  const PaymentId payment{state_.payment_count() + 1};
  emit(out, now_ms_,
       PaymentCompleted{payment, c.reservation, res->price, IdempotencyTag{c.key, print}});
  // The payment uses the token up; its slot goes to the next in line now.
  emit(out, now_ms_, TokenExpired{c.token, TokenEnd::used});
  admit(out, now_ms_);
  r.created = true;
  r.user = user;
  r.payment = payment;
  r.reservation = c.reservation;
  r.balance = state_.user(user).balance;
}

void Engine::on(Out&, const ListPayments& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  if (c.page < 1 || c.limit < 1 || c.limit > limits::payments_page_limit_max) {
    return fail(r, Code::invalid_request);
  }
  r.user = state_.token(c.token)->user;
  r.page = c.page;
  r.limit = c.limit;
}

void Engine::on(Out& out, const Refund& c, Result& r) {
  const uint64_t print = c.key.empty() ? 0 : fingerprint(c);
  const Code replay = check_replay(c.token, c.key, print, IdempotentKind::refund, r);
  if (replay == Code::ok) return;
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  uint32_t reason_chars = 0;
  if (c.reason.size() > limits::refund_reason_bytes_max || !utf8_length(c.reason, &reason_chars) ||
      reason_chars > limits::refund_reason_chars_max) {
    return fail(r, Code::invalid_request);
  }
  const Reservation* res = owned(state_, c.token, c.reservation);
  if (res == nullptr) return fail(r, Code::not_found);
  if (replay == Code::idempotency_key_reused) return fail(r, replay);
  if (res->payment == PaymentId::none || res->refund != RefundId::none) {
    return fail(r, Code::not_refundable);
  }
  if (now_ms_ >= state_.date(res->date).sales_close_ms()) {
    return fail(r, Code::not_refundable);
  }
  if (state_.refund_count() >= limits::refunds_max) return fail(r, Code::overloaded);
  const RefundId refund{state_.refund_count() + 1};
  const UserId user = res->user;
  emit(out, now_ms_,
       RefundIssued{refund, c.reservation, state_.payment(res->payment).amount, c.reason,
                    IdempotencyTag{c.key, print}});
  r.created = true;
  r.user = user;
  r.refund = refund;
  r.reservation = c.reservation;
  r.balance = state_.user(user).balance;
}

}  // namespace boxoffice
