// What boxoffice-load knows of the boxoffice HTTP API (docs/API.md): the kinds
// of request it sends, the error codes it counts, the concert dates it creates,
// and readers for the few response fields it needs.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxoffice::load {

enum class Kind : uint8_t {
  join,    // POST /v1/queue/tokens
  poll,    // GET /v1/queue/tokens/current
  leave,   // DELETE /v1/queue/tokens/current
  hold,    // POST /v1/reservations
  cancel,  // DELETE /v1/reservations/{id}
  charge,  // POST /v1/balance/charge
  pay,     // POST /v1/payments
  dates,   // GET /v1/concerts/{id}/dates
  seats,   // GET /v1/concerts/{id}/dates/{date}/seats
  seat,    // GET /v1/concerts/{id}/dates/{date}/seats/{n}
  admin,   // POST /v1/admin/concerts
  health,  // GET /healthz
};
inline constexpr size_t kind_count = 12;
std::string_view kind_name(Kind kind);

// The error codes of the API's error table; `other` for anything else, `none`
// for a response without an error body.
enum class ErrorCode : uint8_t {
  none,
  invalid_request,
  unauthorized,
  token_expired,
  insufficient_balance,
  token_not_active,
  forbidden,
  not_found,
  method_not_allowed,
  seat_unavailable,
  sales_closed,
  reservation_not_payable,
  not_cancellable,
  not_refundable,
  idempotency_key_reused,
  payload_too_large,
  hold_limit_reached,
  overloaded,
  other,
};
inline constexpr size_t error_code_count = 19;
std::string_view error_code_name(ErrorCode code);
ErrorCode error_code_from_name(std::string_view name);

// The i-th date of every concert boxoffice-load creates: 2090-01-01 plus i days,
// far enough ahead to be on sale for any run.
std::string concert_date(uint32_t index);

// "2026-12-24T19:00:00.000Z" -> milliseconds since the epoch.
std::optional<int64_t> parse_instant_ms(std::string_view text);

struct TokenInfo {
  std::string_view token;  // valid until the reader's next call
  bool active = false;
  uint64_t position = 0;
};

struct SeatStatus {
  enum Value : uint8_t { available = 0, held = 1, sold = 2, unknown = 3 };
};

// Reads response bodies. Each call copies the body into a padded buffer owned
// by the reader, so it works on any string_view. One reader per thread.
class JsonReader {
 public:
  ErrorCode error_code(std::string_view body);
  std::optional<TokenInfo> token(std::string_view body);
  // reservationId and expiresAt (ms) of a reservation.
  std::optional<std::pair<uint64_t, int64_t>> reservation(std::string_view body);
  std::optional<uint64_t> concert_id(std::string_view body) {
    return uint_field(body, "concertId");
  }
  // A top-level unsigned integer field.
  std::optional<uint64_t> uint_field(std::string_view body, std::string_view key);
  // availableSeats of each date, in the order listed.
  std::optional<std::vector<uint32_t>> available_seats(std::string_view body);
  // Fills statuses[seatNumber - 1]; false on a malformed map.
  bool seat_statuses(std::string_view body, std::vector<uint8_t>& statuses);

 private:
  // Parses `body` into document_; false when it is not JSON.
  bool parse(std::string_view body);
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document document_;
  std::string buffer_;
};

}  // namespace boxoffice::load
