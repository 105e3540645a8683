// EngineFixture: the real engine driven with explicit times, for the core's tests.
//
// Every command runs at `now` (set it, or advance it; nothing sleeps). After
// every command the fixture checks, for the state as a whole:
//   - the invariants (DESIGN.md 1-4) at the engine's clock, and that no
//     active slot is free while tokens wait;
//   - the event stream: times never run backwards, no event is later than the
//     engine's clock, and each event survives the codec (encode, decode,
//     re-encode to the same bytes);
//   - replay (invariant 5): a second State built only from the decoded events
//     has the engine's digest.
// A test therefore asserts the rule it covers; the fixture catches collateral
// damage anywhere else.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/civil_date.hpp"
#include "engine/digest.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/invariants.hpp"

namespace boxoffice::test {

// 2027-01-01T00:00:00.000Z
inline constexpr TimeMs t0 = 1798761600000;
inline constexpr int64_t sec = 1000;  // milliseconds
inline constexpr int64_t day_ms = limits::ms_per_day;

// A day number from "YYYY-MM-DD" (a bad date does not compile in a constant).
constexpr Day day(std::string_view yyyy_mm_dd) { return parse_day(yyyy_mm_dd).value(); }
// 00:00 UTC of a day: when its sales close.
inline TimeMs midnight(Day d) { return d * day_ms; }
inline IdempotencyKey key(std::string_view s) { return IdempotencyKey::from(s); }
inline UserName name(std::string_view s) { return UserName::from(s); }

// A string of `n` copies of `piece`.
inline std::string repeat(std::string_view piece, size_t n) {
  std::string out;
  out.reserve(piece.size() * n);
  for (size_t i = 0; i < n; i++) out += piece;
  return out;
}

inline std::vector<uint8_t> encoded(const Event& e) {
  std::vector<uint8_t> bytes;
  encode_event(e, bytes);
  return bytes;
}

class EngineFixture {
 public:
  explicit EngineFixture(const Config& config = Config{}, TimeMs start_ms = t0)
      : engine(config), rebuilt(config.queue_span_tokens), now(start_ms) {}

  Engine engine;
  State rebuilt;  // built from the decoded log only
  TimeMs now;     // the instant stamped on the next command
  std::vector<Event> events;
  std::vector<std::vector<uint8_t>> log;  // every event, encoded
  // Compare digests after every n-th command only (long random runs).
  uint32_t digest_every = 1;

  void advance(int64_t ms) { now += ms; }

  Result run(CommandBody body) { return run_at(now, std::move(body)); }

  // Runs a command stamped `t` (which may be earlier than the engine's clock).
  Result run_at(TimeMs t, CommandBody body) {
    const TimeMs clock_before = engine.now_ms();
    first_new_ = events.size();
    const Result r = engine.execute(Command{t, std::move(body)}, events);
    CHECK(engine.now_ms() == std::max(clock_before, t));
    for (size_t i = first_new_; i < events.size(); i++) follow(events[i]);
    InvariantOptions options;
    options.now_ms = engine.now_ms();
    options.active_limit = engine.config().active_limit;
    options.full = true;
    const std::optional<std::string> violation = check_invariants(engine.state(), options);
    CHECK_MESSAGE(!violation.has_value(), violation.value_or(""));
    if (++commands_ % digest_every == 0) {
      CHECK(state_digest(rebuilt) == state_digest(engine.state()));
    }
    // A free active slot is never left while someone waits.
    const State& s = engine.state();
    CHECK((s.waiting_count() == 0 || s.active_count() == engine.config().active_limit));
    return r;
  }

  // The events of the last command.
  std::span<const Event> last_events() const {
    return std::span<const Event>(events).subspan(first_new_);
  }
  std::vector<EventType> last_types() const {
    std::vector<EventType> types;
    for (const Event& e : last_events()) types.push_back(event_type(e.body));
    return types;
  }
  // The i-th event of the last command, which must be an E.
  template <typename E>
  const E& last(size_t i) const {
    REQUIRE(i < last_events().size());
    const E* e = std::get_if<E>(&last_events()[i].body);
    REQUIRE(e != nullptr);
    return *e;
  }
  TimeMs last_time(size_t i) const {
    REQUIRE(i < last_events().size());
    return last_events()[i].time_ms;
  }

  // ---- helpers that REQUIRE success ----

  Result join(std::string_view user) { return run(JoinQueue{name(user)}); }
  TokenId join_active(std::string_view user) {
    const Result r = join(user);
    REQUIRE(r.code == Code::ok);
    REQUIRE(r.token.status == TokenStatus::active);
    return r.token.token;
  }
  TokenId join_waiting(std::string_view user) {
    const Result r = join(user);
    REQUIRE(r.code == Code::ok);
    REQUIRE(r.token.status == TokenStatus::waiting);
    return r.token.token;
  }
  Result poll(TokenId token) { return run(PollToken{token}); }

  ConcertId create_concert(std::vector<NewDate> dates, std::string title = "Gala") {
    const Result r = run(CreateConcert{std::move(title), std::move(dates)});
    REQUIRE(r.code == Code::ok);
    return r.concert;
  }
  Result try_hold(TokenId token, ConcertId concert, Day d, int64_t seat,
                  IdempotencyKey k = IdempotencyKey{}) {
    return run(HoldSeat{.token = token, .concert = concert, .day = d, .seat = seat, .key = k});
  }
  ReservationId hold(TokenId token, ConcertId concert, Day d, int64_t seat) {
    const Result r = try_hold(token, concert, d, seat);
    REQUIRE(r.code == Code::ok);
    return r.reservation;
  }
  Result try_charge(TokenId token, int64_t amount, IdempotencyKey k = IdempotencyKey{}) {
    return run(ChargeBalance{.token = token, .amount = amount, .key = k});
  }
  int64_t charge(TokenId token, int64_t amount) {
    const Result r = try_charge(token, amount);
    REQUIRE(r.code == Code::ok);
    return r.balance;
  }
  Result try_pay(TokenId token, ReservationId reservation, IdempotencyKey k = IdempotencyKey{}) {
    return run(Pay{.token = token, .reservation = reservation, .key = k});
  }
  PaymentId pay(TokenId token, ReservationId reservation) {
    const Result r = try_pay(token, reservation);
    REQUIRE(r.code == Code::ok);
    return r.payment;
  }
  Result cancel(TokenId token, ReservationId reservation) {
    return run(CancelReservation{.token = token, .reservation = reservation});
  }
  Result refund(TokenId token, ReservationId reservation, std::string reason = "",
                IdempotencyKey k = IdempotencyKey{}) {
    return run(
        Refund{.token = token, .reservation = reservation, .reason = std::move(reason), .key = k});
  }

  // ---- state lookups ----

  const State& state() const { return engine.state(); }
  const Reservation& reservation(ReservationId id) const {
    const Reservation* r = state().reservation(id);
    REQUIRE(r != nullptr);
    return *r;
  }
  const Seat& seat(ConcertId concert, Day d, uint32_t n) const {
    const std::optional<DateRef> ref = state().find_date(concert, d);
    REQUIRE(ref.has_value());
    REQUIRE(n >= 1);
    REQUIRE(n <= state().date(*ref).total());
    return state().date(*ref).seats[n - 1];
  }
  uint32_t available(ConcertId concert, Day d) const {
    const std::optional<DateRef> ref = state().find_date(concert, d);
    REQUIRE(ref.has_value());
    return state().date(*ref).available;
  }
  const User& user(std::string_view user_name) const {
    const std::optional<UserId> id = state().find_user(user_name);
    REQUIRE(id.has_value());
    return state().user(*id);
  }
  const Token& token(TokenId id) const {
    const Token* t = state().token(id);
    REQUIRE(t != nullptr);
    return *t;
  }

 private:
  void follow(const Event& e) {
    CHECK(e.time_ms <= engine.now_ms());
    CHECK(e.time_ms >= rebuilt.last_event_ms());
    std::vector<uint8_t> bytes = encoded(e);
    Event decoded;
    REQUIRE(decode_event(bytes, &decoded) == DecodeError::none);
    CHECK(encoded(decoded) == bytes);
    rebuilt.apply(decoded);
    log.push_back(std::move(bytes));
  }

  size_t first_new_ = 0;
  uint64_t commands_ = 0;
};

}  // namespace boxoffice::test
