// Events: every decision of the core, as plain structs.
//
// `State::apply(event)` is the only code that changes durable state; the log
// of events is the truth. Every event carries the instant it took effect
// (for expiries: the deadline itself, not the later moment it was noticed).
// The binary format is in event_codec.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "engine/types.hpp"

namespace boxoffice {

// A user name seen for the first time gets the next UserId.
struct UserCreated {
  UserId user = UserId::none;
  UserName name;
};
// A token joins the back of the line (waiting). Its id is its place in line.
struct TokenIssued {
  TokenId token = TokenId::none;
  UserId user = UserId::none;
};
// A waiting token becomes active; its window ends at `expires_ms`.
struct TokenActivated {
  TokenId token = TokenId::none;
  TimeMs expires_ms = 0;
};
// A live token stops being live (window over, idle, left, used by payment).
struct TokenExpired {
  TokenId token = TokenId::none;
  TokenEnd reason = TokenEnd::window;
};
struct DateSpec {
  Day day = 0;
  uint32_t seats = 0;
  int64_t price = 0;
};
// A concert with its dates, in ascending order of day.
struct ConcertCreated {
  ConcertId concert = ConcertId::none;
  std::string title;
  std::vector<DateSpec> dates;
};
// A seat is held for a user until `expires_ms`.
struct SeatHeld {
  ReservationId reservation = ReservationId::none;
  UserId user = UserId::none;
  DateRef date{};
  uint32_t seat = 0;  // 1-based
  int64_t price = 0;
  TimeMs expires_ms = 0;
  IdempotencyTag idempotency;
};
// A held reservation reached its deadline; the seat is available again.
struct HoldExpired {
  ReservationId reservation = ReservationId::none;
};
// A held or confirmed reservation is cancelled; its seat is available again.
struct ReservationCancelled {
  ReservationId reservation = ReservationId::none;
};
struct BalanceCharged {
  UserId user = UserId::none;
  int64_t amount = 0;
  IdempotencyTag idempotency;
};
// A held reservation is paid: balance debited, reservation confirmed, seat sold.
struct PaymentCompleted {
  PaymentId payment = PaymentId::none;
  ReservationId reservation = ReservationId::none;
  int64_t amount = 0;
  IdempotencyTag idempotency;
};
// A paid reservation is refunded: amount credited, seat released if still sold.
struct RefundIssued {
  RefundId refund = RefundId::none;
  ReservationId reservation = ReservationId::none;
  int64_t amount = 0;
  std::string reason;
  IdempotencyTag idempotency;
};
// Idempotency keys first used at or before `created_up_to_ms` are forgotten.
struct IdempotencyForgotten {
  TimeMs created_up_to_ms = 0;
};

using EventBody =
    std::variant<UserCreated, TokenIssued, TokenActivated, TokenExpired, ConcertCreated, SeatHeld,
                 HoldExpired, ReservationCancelled, BalanceCharged, PaymentCompleted, RefundIssued,
                 IdempotencyForgotten>;

struct Event {
  TimeMs time_ms = 0;
  EventBody body;
};

}  // namespace boxoffice
