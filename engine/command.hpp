// Commands: what ingress asks the core to decide, as plain structs.
//
// Every command carries the instant it was stamped with by ingress
// (`time_ms`); the core never lets its clock run backwards. Ingress has
// already checked the HTTP shape (route, JSON types, header syntax); the core
// checks everything else, in the order API.md fixes: authentication, then
// ranges (400), then state. A path parameter that does not parse reaches the
// core as 0 (or an impossible day), which names nothing and so is 404.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "engine/types.hpp"

namespace boxoffice {

// Which token state a request needs.
enum class TokenNeed : uint8_t { live = 1, active = 2 };

// POST /v1/queue/tokens (no auth). `user` was checked by ingress to fit in 64
// bytes; the core checks the character set.
struct JoinQueue {
  UserName user;
};
// GET /v1/queue/tokens/current
struct PollToken {
  TokenId token = TokenId::none;
};
// DELETE /v1/queue/tokens/current
struct LeaveQueue {
  TokenId token = TokenId::none;
};
// GET /v1/concerts (no auth)
struct ListConcerts {};
// GET /v1/concerts/{concertId}/dates
struct GetDates {
  TokenId token = TokenId::none;
  ConcertId concert = ConcertId::none;
};
// GET /v1/concerts/{concertId}/dates/{date}/seats[/{seatNumber}]; `seat` 0
// means the whole map.
struct GetSeats {
  TokenId token = TokenId::none;
  ConcertId concert = ConcertId::none;
  Day day = -1;
  uint32_t seat = 0;
  bool one_seat = false;
};
// POST /v1/reservations
struct HoldSeat {
  TokenId token = TokenId::none;
  ConcertId concert = ConcertId::none;
  Day day = -1;  // a day outside the catalog is 404
  int64_t seat = 0;
  IdempotencyKey key;
};
// GET /v1/reservations
struct ListReservations {
  TokenId token = TokenId::none;
};
// GET /v1/reservations/{id}
struct GetReservation {
  TokenId token = TokenId::none;
  ReservationId reservation = ReservationId::none;
};
// DELETE /v1/reservations/{id}
struct CancelReservation {
  TokenId token = TokenId::none;
  ReservationId reservation = ReservationId::none;
};
// GET /v1/balance
struct GetBalance {
  TokenId token = TokenId::none;
};
// POST /v1/balance/charge
struct ChargeBalance {
  TokenId token = TokenId::none;
  int64_t amount = 0;
  IdempotencyKey key;
};
// POST /v1/payments
struct Pay {
  TokenId token = TokenId::none;
  ReservationId reservation = ReservationId::none;
  bool amount_present = false;
  int64_t amount = 0;
  IdempotencyKey key;
};
// GET /v1/payments?page=&limit=
struct ListPayments {
  TokenId token = TokenId::none;
  int64_t page = 1;
  int64_t limit = limits::payments_page_limit_default;
};
// POST /v1/refunds
struct Refund {
  TokenId token = TokenId::none;
  ReservationId reservation = ReservationId::none;
  std::string reason;
  IdempotencyKey key;
};
struct NewDate {
  Day day = 0;
  int64_t seats = 0;
  int64_t price = 0;
};
// POST /v1/admin/concerts (ingress has checked the admin key).
struct CreateConcert {
  std::string title;
  std::vector<NewDate> dates;
};
// Time-driven work: expiry and admission, at `time_ms`.
struct Tick {};
// A request whose token must be checked before it is refused with `code`:
// e.g. a malformed body on an authenticated route is 400 only after the token
// has been found live (or active) — API.md's order of checks.
struct RejectAfterAuth {
  TokenId token = TokenId::none;
  TokenNeed need = TokenNeed::live;
  Code code = Code::invalid_request;
};

using CommandBody =
    std::variant<JoinQueue, PollToken, LeaveQueue, ListConcerts, GetDates, GetSeats, HoldSeat,
                 ListReservations, GetReservation, CancelReservation, GetBalance, ChargeBalance,
                 Pay, ListPayments, Refund, CreateConcert, Tick, RejectAfterAuth>;

struct Command {
  TimeMs time_ms = 0;
  CommandBody body;
};

}  // namespace boxoffice
