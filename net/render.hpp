// Render: the core's Result (plus the state right after the command) to an
// HTTP status and a JSON body, exactly as docs/API.md shows them.
//
// Contract: render_result() is called on the core thread right after
// Engine::execute() returned `result` for `request`, before the next
// command, so the state it reads is the one the command was decided
// against. It reads ids from the Result and the rest from the state. An
// idempotent replay (result.replayed) shows the resource as it was created:
// a reservation as held (paidAt, cancelledAt, refundedAt null), a payment as
// completed, a charge with the balance right after it (result.balance).
//
// Every error has one shape:
//   {"error": {"code": "SEAT_UNAVAILABLE", "message": "..."}}
// TOKEN_NOT_ACTIVE also carries "position" (in the error object and at the
// top level); 503 sets Retry-After; 405 sets Allow; 401 sets
// WWW-Authenticate. Instants are RFC 3339 UTC with milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/result.hpp"
#include "engine/state.hpp"
#include "net/request_parser.hpp"
#include "net/token_codec.hpp"

namespace boxoffice::net {

inline constexpr uint32_t retry_after_s = 1;

struct Reply {
  uint16_t status = 200;
  std::string body;               // JSON; empty for 204
  std::string_view allow;         // 405: the Allow header
  bool retry_after = false;       // 503: Retry-After: retry_after_s
  bool www_authenticate = false;  // 401: WWW-Authenticate: Bearer

  void reset() {
    status = 200;
    body.clear();
    allow = {};
    retry_after = false;
    www_authenticate = false;
  }
};

uint16_t http_status(Code code);
// The wire name of an error code, e.g. "SEAT_UNAVAILABLE".
std::string_view code_name(Code code);

// An error reply: the one error shape, the status and headers of `code`.
void render_error(Code code, std::string_view message, Reply* out);

// A request answered without the core (ParsedRequest::Kind::reply).
void render_rejection(const ParsedRequest& request, Reply* out);

// The core's answer to `request` (ParsedRequest::Kind::command).
void render_result(const ParsedRequest& request, const Result& result, const State& state,
                   TimeMs now_ms, TokenCodec& tokens, Reply* out);

}  // namespace boxoffice::net
