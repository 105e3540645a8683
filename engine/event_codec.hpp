// The binary format of events, stable and versioned.
//
//   event      := type: u8  version: u8  time_ms: i64  body
//   body       := the event's fields in declaration order, little-endian:
//                 u8/u16/u32/u64/i64 fixed width; bool as u8 (0 or 1)
//   string     := size: u16  bytes[size]          (UTF-8, bounded per field)
//   short      := size: u8   bytes[size]          (user names, keys)
//   idempotency:= key: short  [fingerprint: u64 if key.size > 0]
//   dates      := count: u16  (day: i32  seats: u32  price: i64)[count]
//
// Type numbers are fixed (see EventType); a retired number is never reused.
// A new field is a new version: decoders keep reading every older version.
// The key of an event in the log (its sequence number) is not part of it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/event.hpp"

namespace boxoffice {

enum class EventType : uint8_t {
  user_created = 1,
  token_issued = 2,
  token_activated = 3,
  token_expired = 4,
  concert_created = 5,
  seat_held = 6,
  hold_expired = 7,
  reservation_cancelled = 8,
  balance_charged = 9,
  payment_completed = 10,
  refund_issued = 11,
  idempotency_forgotten = 12,
};
inline constexpr uint8_t event_version_current = 1;

EventType event_type(const EventBody& body);
const char* event_type_name(EventType type);

// Appends the encoding of `event` to `out`.
void encode_event(const Event& event, std::vector<uint8_t>& out);

enum class DecodeError : uint8_t {
  none = 0,
  truncated = 1,
  unknown_type = 2,
  unknown_version = 3,
  invalid_field = 4,
  trailing_bytes = 5,
};
const char* decode_error_name(DecodeError error);

// Decodes exactly one event from `bytes`. Never reads out of bounds; any
// malformed input is an error, never a crash.
DecodeError decode_event(std::span<const uint8_t> bytes, Event* out);

}  // namespace boxoffice
