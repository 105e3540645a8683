// The event format: every type round-trips; the layout is the documented
// one; malformed input of any kind is an error, never a crash
// (event_codec.cpp).
#include "engine/event_codec.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/byte_io.hpp"
#include "tests/engine/engine_fixture.hpp"
#include "tests/support/splitmix.hpp"

namespace boxoffice::test {
namespace {

IdempotencyTag tag(std::string_view k, uint64_t print) {
  return IdempotencyTag{IdempotencyKey::from(k), print};
}

// At least one event of every type, with edge values.
std::vector<Event> samples() {
  return {
      {t0, UserCreated{UserId{7}, name("alice.B-9@x_y")}},
      {t0, UserCreated{UserId{0xffffffff}, name(repeat("z", 64))}},
      {t0 + 1, TokenIssued{TokenId{0x0102030405060708}, UserId{0xfffffffe}}},
      {t0 + 2, TokenActivated{TokenId{3}, t0 + 600 * sec}},
      {t0 + 3, TokenExpired{TokenId{3}, TokenEnd::window}},
      {t0 + 3, TokenExpired{TokenId{4}, TokenEnd::idle}},
      {t0 + 3, TokenExpired{TokenId{5}, TokenEnd::left}},
      {t0 + 3, TokenExpired{TokenId{~0ULL}, TokenEnd::used}},
      {t0 + 4, ConcertCreated{ConcertId{2},
                              "Gala \xea\xb0\x80 \"quoted\"",
                              {{0, 1, 0}, {20819, 10000, 1000000000}, {limits::day_max, 5, 7}}}},
      {t0 + 4, ConcertCreated{ConcertId{3}, "", {{1, 1, 1}}}},
      {t0 + 4, ConcertCreated{ConcertId{4}, repeat("\xf0\x9f\x8e\xb5", 200), {{1, 1, 1}}}},
      {t0 + 5, SeatHeld{ReservationId{9}, UserId{7}, DateRef{3}, 10000, 150000, t0 + 300 * sec,
                        tag("key-1", 0xdeadbeefcafef00dULL)}},
      {t0 + 5, SeatHeld{ReservationId{10}, UserId{7}, DateRef{0}, 1, 0, t0 + 1, {}}},
      {t0 + 5, SeatHeld{ReservationId{11}, UserId{1}, DateRef{0}, 2, 1000000000, t0 + 9,
                        tag(repeat("~", 64), 0)}},
      {t0 + 6, HoldExpired{ReservationId{9}}},
      {t0 + 7, ReservationCancelled{ReservationId{0xffffffff}}},
      {t0 + 8, BalanceCharged{UserId{7}, 1000000000, tag(" ", 1)}},
      {t0 + 8, BalanceCharged{UserId{7}, 1, {}}},
      {t0 + 9, PaymentCompleted{PaymentId{4}, ReservationId{9}, 150000, tag("p", ~0ULL)}},
      {t0 + 9, PaymentCompleted{PaymentId{5}, ReservationId{10}, 0, {}}},
      {t0 + 10,
       RefundIssued{RefundId{1}, ReservationId{9}, 150000, "reason \xc3\xa9", tag("r", 2)}},
      {t0 + 10, RefundIssued{RefundId{2}, ReservationId{11}, 1000000000, "", {}}},
      {t0 + 10, RefundIssued{RefundId{3},
                             ReservationId{12},
                             1,
                             repeat("\xc3\xa9", limits::refund_reason_chars_max),
                             {}}},
      {t0 + 11, IdempotencyForgotten{t0 - day_ms}},
      {0, IdempotencyForgotten{0}},
      {INT64_MAX, IdempotencyForgotten{INT64_MIN}},
  };
}

// ---- field-by-field equality ----

bool same(const IdempotencyTag& a, const IdempotencyTag& b) {
  return a.key == b.key && a.fingerprint == b.fingerprint;
}
bool same(const UserCreated& a, const UserCreated& b) {
  return a.user == b.user && a.name == b.name;
}
bool same(const TokenIssued& a, const TokenIssued& b) {
  return a.token == b.token && a.user == b.user;
}
bool same(const TokenActivated& a, const TokenActivated& b) {
  return a.token == b.token && a.expires_ms == b.expires_ms;
}
bool same(const TokenExpired& a, const TokenExpired& b) {
  return a.token == b.token && a.reason == b.reason;
}
bool same(const ConcertCreated& a, const ConcertCreated& b) {
  if (a.concert != b.concert || a.title != b.title || a.dates.size() != b.dates.size()) {
    return false;
  }
  for (size_t i = 0; i < a.dates.size(); i++) {
    const DateSpec& x = a.dates[i];
    const DateSpec& y = b.dates[i];
    if (x.day != y.day || x.seats != y.seats || x.price != y.price) return false;
  }
  return true;
}
bool same(const SeatHeld& a, const SeatHeld& b) {
  return a.reservation == b.reservation && a.user == b.user && a.date == b.date &&
         a.seat == b.seat && a.price == b.price && a.expires_ms == b.expires_ms &&
         same(a.idempotency, b.idempotency);
}
bool same(const HoldExpired& a, const HoldExpired& b) { return a.reservation == b.reservation; }
bool same(const ReservationCancelled& a, const ReservationCancelled& b) {
  return a.reservation == b.reservation;
}
bool same(const BalanceCharged& a, const BalanceCharged& b) {
  return a.user == b.user && a.amount == b.amount && same(a.idempotency, b.idempotency);
}
bool same(const PaymentCompleted& a, const PaymentCompleted& b) {
  return a.payment == b.payment && a.reservation == b.reservation && a.amount == b.amount &&
         same(a.idempotency, b.idempotency);
}
bool same(const RefundIssued& a, const RefundIssued& b) {
  return a.refund == b.refund && a.reservation == b.reservation && a.amount == b.amount &&
         a.reason == b.reason && same(a.idempotency, b.idempotency);
}
bool same(const IdempotencyForgotten& a, const IdempotencyForgotten& b) {
  return a.created_up_to_ms == b.created_up_to_ms;
}
bool same_event(const Event& a, const Event& b) {
  if (a.time_ms != b.time_ms || a.body.index() != b.body.index()) return false;
  return std::visit(
      [&b](const auto& x) { return same(x, std::get<std::decay_t<decltype(x)>>(b.body)); }, a.body);
}

DecodeError decode(const std::vector<uint8_t>& bytes) {
  Event out;
  return decode_event(bytes, &out);
}

TEST_CASE("Every event type round-trips: decode gives equal fields, re-encoding the same bytes") {
  std::vector<bool> covered(13, false);
  for (const Event& e : samples()) {
    const std::vector<uint8_t> bytes = encoded(e);
    CAPTURE(event_type_name(event_type(e.body)));
    CHECK(bytes[0] == static_cast<uint8_t>(event_type(e.body)));
    CHECK(bytes[1] == event_version_current);
    Event decoded;
    REQUIRE(decode_event(bytes, &decoded) == DecodeError::none);
    CHECK(same_event(decoded, e));
    CHECK(encoded(decoded) == bytes);
    covered[bytes[0]] = true;
  }
  for (size_t type = 1; type <= 12; type++) {
    CAPTURE(type);
    CHECK(covered[type]);
  }
}

TEST_CASE("Type numbers are fixed and named") {
  CHECK(event_type(UserCreated{}) == EventType::user_created);
  CHECK(static_cast<int>(EventType::user_created) == 1);
  CHECK(static_cast<int>(EventType::token_issued) == 2);
  CHECK(static_cast<int>(EventType::token_activated) == 3);
  CHECK(static_cast<int>(EventType::token_expired) == 4);
  CHECK(static_cast<int>(EventType::concert_created) == 5);
  CHECK(static_cast<int>(EventType::seat_held) == 6);
  CHECK(static_cast<int>(EventType::hold_expired) == 7);
  CHECK(static_cast<int>(EventType::reservation_cancelled) == 8);
  CHECK(static_cast<int>(EventType::balance_charged) == 9);
  CHECK(static_cast<int>(EventType::payment_completed) == 10);
  CHECK(static_cast<int>(EventType::refund_issued) == 11);
  CHECK(static_cast<int>(EventType::idempotency_forgotten) == 12);
  CHECK(event_type(IdempotencyForgotten{}) == EventType::idempotency_forgotten);
  CHECK(std::string(event_type_name(EventType::seat_held)) == "seat_held");
  CHECK(std::string(event_type_name(EventType::idempotency_forgotten)) == "idempotency_forgotten");
  CHECK(std::string(event_type_name(static_cast<EventType>(99))) == "unknown");
  CHECK(std::string(decode_error_name(DecodeError::truncated)) == "truncated");
  CHECK(std::string(decode_error_name(DecodeError::trailing_bytes)) == "trailing_bytes");
}

TEST_CASE("The layout is explicit little-endian fields after type, version and time") {
  using Bytes = std::vector<uint8_t>;
  CHECK(encoded(Event{0x0102030405060708, HoldExpired{ReservationId{7}}}) ==
        Bytes{7, 1, 8, 7, 6, 5, 4, 3, 2, 1, 7, 0, 0, 0});
  CHECK(encoded(Event{1, UserCreated{UserId{0x01020304}, name("ab")}}) ==
        Bytes{1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 4, 3, 2, 1, 2, 'a', 'b'});
  CHECK(encoded(Event{0, TokenExpired{TokenId{0x0a0b}, TokenEnd::used}}) ==
        Bytes{4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, 0x0a, 0, 0, 0, 0, 0, 0, 4});
  CHECK(encoded(Event{0, ConcertCreated{ConcertId{1}, "T", {{0x0102, 3, 0}}}}) ==
        Bytes{5, 1, 0,   0, 0, 0, 0, 0, 0, 0,  // header
              1, 0, 0,   0,                    // concert
              1, 0, 'T',                       // title
              1, 0,                            // dates
              2, 1, 0,   0, 3, 0, 0, 0,        // day, seats
              0, 0, 0,   0, 0, 0, 0, 0});      // price
  // An idempotency key: its size, its bytes, then the fingerprint only if present.
  const Bytes with_key =
      encoded(Event{0, BalanceCharged{UserId{1}, 1, tag("k", 0x1122334455667788ULL)}});
  CHECK(Bytes(with_key.end() - 10, with_key.end()) ==
        Bytes{1, 'k', 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11});
  const Bytes without_key = encoded(Event{0, BalanceCharged{UserId{1}, 1, {}}});
  CHECK(without_key.size() == 10 + 4 + 8 + 1);
  CHECK(without_key.back() == 0);
  // encode_event appends.
  Bytes two;
  encode_event(Event{0, HoldExpired{ReservationId{1}}}, two);
  encode_event(Event{0, HoldExpired{ReservationId{2}}}, two);
  CHECK(two.size() == 28);
}

TEST_CASE("An event encodes the same on both sides of the stack buffer's size (256 bytes)") {
  // A refund of 29 bytes plus its reason: 256 bytes at a reason of 227.
  for (size_t n = 220; n <= 236; n++) {
    CAPTURE(n);
    const std::string reason(n, 'r');
    std::vector<uint8_t> expected;
    expected.reserve(512);  // (GCC 12 sees a false overflow in growing a 1-byte vector)
    expected.push_back(0xee);
    ByteWriter w(expected);
    w.u8(static_cast<uint8_t>(EventType::refund_issued));
    w.u8(event_version_current);
    w.i64(t0);
    w.u32(1);
    w.u32(2);
    w.i64(3);
    w.str(reason);
    w.short_str("");
    std::vector<uint8_t> out = {0xee};  // encode_event appends
    encode_event(Event{t0, RefundIssued{RefundId{1}, ReservationId{2}, 3, reason, {}}}, out);
    CHECK(out == expected);
  }
}

TEST_CASE("A truncated event at every length is DecodeError::truncated") {
  for (const Event& e : samples()) {
    const std::vector<uint8_t> bytes = encoded(e);
    CAPTURE(event_type_name(event_type(e.body)));
    for (size_t n = 0; n < bytes.size(); n++) {
      CAPTURE(n);
      const std::vector<uint8_t> prefix(bytes.begin(),
                                        bytes.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK(decode(prefix) == DecodeError::truncated);
    }
  }
}

TEST_CASE("Trailing bytes, an unknown type and an unknown version are errors") {
  for (const Event& e : samples()) {
    CAPTURE(event_type_name(event_type(e.body)));
    std::vector<uint8_t> bytes = encoded(e);
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    CHECK(decode(longer) == DecodeError::trailing_bytes);
    for (const int type : {0, 13, 200, 255}) {
      std::vector<uint8_t> other = bytes;
      other[0] = static_cast<uint8_t>(type);
      CHECK(decode(other) == DecodeError::unknown_type);
    }
    for (const int version : {0, 2, 255}) {
      std::vector<uint8_t> other = bytes;
      other[1] = static_cast<uint8_t>(version);
      CHECK(decode(other) == DecodeError::unknown_version);
    }
  }
}

TEST_CASE("Field values outside their ranges are DecodeError::invalid_field") {
  const IdempotencyTag bad_key = tag("\x01", 5);
  const std::vector<Event> invalid = {
      {-1, HoldExpired{ReservationId{1}}},
      {INT64_MIN, HoldExpired{ReservationId{1}}},
      {t0, UserCreated{UserId{0}, name("alice")}},
      {t0, UserCreated{UserId{1}, name("")}},
      {t0, UserCreated{UserId{1}, name("a b")}},
      {t0, TokenIssued{TokenId{0}, UserId{1}}},
      {t0, TokenIssued{TokenId{1}, UserId{0}}},
      {t0, TokenActivated{TokenId{0}, t0}},
      {t0, TokenExpired{TokenId{0}, TokenEnd::left}},
      {t0, TokenExpired{TokenId{1}, static_cast<TokenEnd>(0)}},
      {t0, TokenExpired{TokenId{1}, static_cast<TokenEnd>(5)}},
      {t0, ConcertCreated{ConcertId{0}, "T", {{1, 1, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{2, 1, 1}, {1, 1, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{1, 1, 1}, {1, 1, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{1, 0, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{1, limits::seats_per_date_max + 1, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{1, 1, -1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{1, 1, limits::price_won_max + 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{-1, 1, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, "T", {{limits::day_max + 1, 1, 1}}}},
      {t0, ConcertCreated{ConcertId{1}, repeat("x", limits::title_bytes_max + 1), {{1, 1, 1}}}},
      {t0, SeatHeld{ReservationId{0}, UserId{1}, DateRef{0}, 1, 1, t0, {}}},
      {t0, SeatHeld{ReservationId{1}, UserId{0}, DateRef{0}, 1, 1, t0, {}}},
      {t0, SeatHeld{ReservationId{1}, UserId{1}, DateRef{0}, 0, 1, t0, {}}},
      {t0, SeatHeld{ReservationId{1}, UserId{1}, DateRef{0}, 10001, 1, t0, {}}},
      {t0, SeatHeld{ReservationId{1}, UserId{1}, DateRef{0}, 1, -1, t0, {}}},
      {t0, SeatHeld{ReservationId{1}, UserId{1}, DateRef{0}, 1, 1000000001, t0, {}}},
      {t0, SeatHeld{ReservationId{1}, UserId{1}, DateRef{0}, 1, 1, t0, bad_key}},
      {t0, HoldExpired{ReservationId{0}}},
      {t0, ReservationCancelled{ReservationId{0}}},
      {t0, BalanceCharged{UserId{0}, 1, {}}},
      {t0, BalanceCharged{UserId{1}, 0, {}}},
      {t0, BalanceCharged{UserId{1}, 1000000001, {}}},
      {t0, BalanceCharged{UserId{1}, 1, tag("\x7f", 1)}},
      {t0, PaymentCompleted{PaymentId{0}, ReservationId{1}, 1, {}}},
      {t0, PaymentCompleted{PaymentId{1}, ReservationId{0}, 1, {}}},
      {t0, PaymentCompleted{PaymentId{1}, ReservationId{1}, -1, {}}},
      {t0, PaymentCompleted{PaymentId{1}, ReservationId{1}, 1000000001, {}}},
      {t0, PaymentCompleted{PaymentId{1}, ReservationId{1}, 1, bad_key}},
      {t0, RefundIssued{RefundId{0}, ReservationId{1}, 1, "", {}}},
      {t0, RefundIssued{RefundId{1}, ReservationId{0}, 1, "", {}}},
      {t0, RefundIssued{RefundId{1}, ReservationId{1}, -1, "", {}}},
      {t0, RefundIssued{RefundId{1}, ReservationId{1}, 1000000001, "", {}}},
      {t0, RefundIssued{RefundId{1},
                        ReservationId{1},
                        1,
                        repeat("x", limits::refund_reason_bytes_max + 1),
                        {}}},
      {t0, RefundIssued{RefundId{1}, ReservationId{1}, 1, "", bad_key}},
  };
  for (size_t i = 0; i < invalid.size(); i++) {
    CAPTURE(i);
    CHECK(decode(encoded(invalid[i])) == DecodeError::invalid_field);
  }
}

TEST_CASE("Short strings longer than their field are invalid") {
  const auto header = [](EventType type, std::vector<uint8_t>& out) {
    ByteWriter w(out);
    w.u8(static_cast<uint8_t>(type));
    w.u8(event_version_current);
    w.i64(t0);
  };
  std::vector<uint8_t> user;
  header(EventType::user_created, user);
  ByteWriter(user).u32(1);
  ByteWriter(user).short_str(repeat("a", 65));
  CHECK(decode(user) == DecodeError::invalid_field);

  std::vector<uint8_t> charge;
  header(EventType::balance_charged, charge);
  ByteWriter(charge).u32(1);
  ByteWriter(charge).i64(1);
  ByteWriter(charge).short_str(repeat("k", 65));
  ByteWriter(charge).u64(0);
  CHECK(decode(charge) == DecodeError::invalid_field);

  // More dates than a concert may have, whatever follows.
  std::vector<uint8_t> concert;
  header(EventType::concert_created, concert);
  ByteWriter(concert).u32(1);
  ByteWriter(concert).str("T");
  ByteWriter(concert).u16(static_cast<uint16_t>(limits::dates_per_concert_max + 1));
  CHECK(decode(concert) == DecodeError::invalid_field);
}

TEST_CASE("Decoding into a used Event leaves nothing of the old one") {
  Event out;
  const Event with_key{
      t0, SeatHeld{ReservationId{1}, UserId{1}, DateRef{0}, 1, 5, t0 + 1, tag("key", 77)}};
  const Event without_key{t0, SeatHeld{ReservationId{2}, UserId{1}, DateRef{0}, 2, 5, t0 + 1, {}}};
  REQUIRE(decode_event(encoded(with_key), &out) == DecodeError::none);
  REQUIRE(decode_event(encoded(without_key), &out) == DecodeError::none);
  CHECK(same_event(out, without_key));
  const Event concert{t0, ConcertCreated{ConcertId{1}, "T", {{1, 1, 1}}}};
  REQUIRE(decode_event(encoded(concert), &out) == DecodeError::none);
  CHECK(same_event(out, concert));
}

// Whatever decodes is canonical: it re-encodes to exactly the input.
void check_garbage(const std::vector<uint8_t>& bytes, size_t& accepted) {
  Event out;
  const DecodeError error = decode_event(bytes, &out);
  if (error == DecodeError::none) {
    accepted++;
    CHECK(encoded(out) == bytes);
  }
}

TEST_CASE("Random bytes decode to an error or to a canonical event, never a crash") {
  SplitMix rng(20270101);
  size_t accepted = 0;
  for (int i = 0; i < 100000; i++) {
    std::vector<uint8_t> bytes(rng.next() % 64);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.next());
    // Mostly a plausible header, so that the bodies get exercised.
    if (bytes.size() >= 2 && rng.next() % 4 != 0) {
      bytes[0] = static_cast<uint8_t>(1 + rng.next() % 12);
      bytes[1] = event_version_current;
    }
    check_garbage(bytes, accepted);
  }
  // Mutations of valid events: flipped bytes, cut or extended.
  const std::vector<Event> base = samples();
  for (int i = 0; i < 100000; i++) {
    std::vector<uint8_t> bytes = encoded(base[rng.next() % base.size()]);
    const uint64_t flips = 1 + rng.next() % 3;
    for (uint64_t k = 0; k < flips; k++) {
      bytes[rng.next() % bytes.size()] ^= static_cast<uint8_t>(1 + rng.next() % 255);
    }
    if (rng.next() % 8 == 0) bytes.resize(rng.next() % (bytes.size() + 8));
    check_garbage(bytes, accepted);
  }
  CHECK(accepted > 0);  // some mutations land on other valid values
}

}  // namespace
}  // namespace boxoffice::test
