// Vocabulary types of the engine: ids, time, statuses and result codes.
//
// Ids are strong types over dense sequence numbers starting at 1; 0 is "none".
// Wire numbers of the enums below are part of the event format and of the
// API: they are never changed, and a retired number is never reused.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/assert.hpp"
#include "engine/limits.hpp"

namespace boxoffice {

// Milliseconds since the Unix epoch, UTC.
using TimeMs = int64_t;
// Days since 1970-01-01.
using Day = int32_t;

enum class UserId : uint32_t { none = 0 };
enum class TokenId : uint64_t { none = 0 };
enum class ConcertId : uint32_t { none = 0 };
enum class ReservationId : uint32_t { none = 0 };
enum class PaymentId : uint32_t { none = 0 };
enum class RefundId : uint32_t { none = 0 };
// A concert date's index in the catalog's flat table of dates (0-based).
enum class DateRef : uint32_t {};

template <typename Id>
constexpr auto raw(Id id) {
  return static_cast<std::underlying_type_t<Id>>(id);
}

// The outcome of a command. Wire numbers are fixed.
enum class Code : uint8_t {
  ok = 0,
  invalid_request = 1,
  unauthorized = 2,
  token_expired = 3,
  insufficient_balance = 4,
  token_not_active = 5,
  forbidden = 6,
  not_found = 7,
  seat_unavailable = 8,
  sales_closed = 9,
  reservation_not_payable = 10,
  not_cancellable = 11,
  not_refundable = 12,
  idempotency_key_reused = 13,
  payload_too_large = 14,
  hold_limit_reached = 15,
  overloaded = 16,
  method_not_allowed = 17,
};

enum class TokenStatus : uint8_t { waiting = 1, active = 2, expired = 3 };

// Why a token stopped being live.
enum class TokenEnd : uint8_t { window = 1, idle = 2, left = 3, used = 4 };

enum class SeatStatus : uint8_t { available = 0, held = 1, sold = 2 };

enum class ReservationStatus : uint8_t {
  held = 1,
  confirmed = 2,
  expired = 3,
  cancelled = 4,
  refunded = 5,
};

// A short string stored inline (no allocation): user names, idempotency keys.
// Only the first `size` bytes are meaningful; the rest is never read, so it
// is not cleared (this string is copied on the hot path).
template <uint32_t capacity_bytes>
struct InlineString {
  uint8_t size = 0;
  std::array<char, capacity_bytes> bytes;

  static InlineString from(std::string_view s) {
    BOXOFFICE_ASSERT(s.size() <= capacity_bytes);
    InlineString out;
    out.size = static_cast<uint8_t>(s.size());
    if (!s.empty()) std::memcpy(out.bytes.data(), s.data(), s.size());
    return out;
  }
  std::string_view view() const { return {bytes.data(), size}; }
  bool empty() const { return size == 0; }
  friend bool operator==(const InlineString& a, const InlineString& b) {
    return a.view() == b.view();
  }
};

using UserName = InlineString<limits::user_name_bytes_max>;
using IdempotencyKey = InlineString<limits::idempotency_key_bytes_max>;

// An idempotency key with the fingerprint of the request it was first used
// for. An empty key means the request had none.
struct IdempotencyTag {
  IdempotencyKey key;
  uint64_t fingerprint = 0;
};

// A valid user name: 1..64 characters of A-Z a-z 0-9 _ - . @
constexpr bool is_valid_user_name(std::string_view s) {
  if (s.empty() || s.size() > limits::user_name_bytes_max) return false;
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

// A valid idempotency key: 1..64 printable ASCII characters (0x20..0x7e).
constexpr bool is_valid_idempotency_key(std::string_view s) {
  if (s.empty() || s.size() > limits::idempotency_key_bytes_max) return false;
  for (const char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Counts UTF-8 code points; returns false when `s` is not valid UTF-8.
bool utf8_length(std::string_view s, uint32_t* chars_out);

}  // namespace boxoffice
