// Result: the core's answer to one command.
//
// A result is a code plus the ids a reply needs; the reply is rendered by the
// caller from these ids and the state (which is stable until the next
// command). `replayed` marks an idempotent replay: the reply must show the
// resource as it was when first created.
#pragma once

#include <cstdint>

#include "engine/types.hpp"

namespace boxoffice {

struct TokenView {
  TokenId token = TokenId::none;
  UserId user = UserId::none;
  TokenStatus status = TokenStatus::waiting;
  uint64_t position = 0;  // 1 = head of the line; 0 when active
  uint64_t estimated_wait_s = 0;
  TimeMs expires_ms = 0;  // end of the active window, or idle drop while waiting
};

struct Result {
  Code code = Code::ok;
  bool created = false;   // 201 rather than 200
  bool replayed = false;  // idempotent replay of an earlier answer
  TokenView token;        // JoinQueue, PollToken; position for token_not_active
  UserId user = UserId::none;
  ConcertId concert = ConcertId::none;
  DateRef date{};
  uint32_t seat = 0;
  ReservationId reservation = ReservationId::none;
  PaymentId payment = PaymentId::none;
  RefundId refund = RefundId::none;
  int64_t balance = 0;  // balance after a charge
  int64_t page = 0;     // ListPayments, as asked
  int64_t limit = 0;

  static Result error(Code c) {
    Result r;
    r.code = c;
    return r;
  }
  bool ok() const { return code == Code::ok; }
};

}  // namespace boxoffice
