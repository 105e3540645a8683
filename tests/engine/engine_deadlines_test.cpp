// Deadlines are exact: holds, active windows and idle waiting tokens end at
// their instant, tick or no tick, in due-time order (engine.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

constexpr Day gala_day = day("2027-02-01");

TEST_CASE("An active window ends at expiresAt; its slot goes to the next in line at that instant") {
  Config c;
  c.active_limit = 1;
  c.queue_idle_ms = 3600 * sec;
  EngineFixture f(c);
  const TokenId a = f.join_active("a");
  f.now = t0 + 1 * sec;
  const TokenId b = f.join_waiting("b");
  f.now = t0 + 2 * sec;
  const TokenId cc = f.join_waiting("c");

  f.now = t0 + 600 * sec - 1;
  CHECK(f.poll(a).token.status == TokenStatus::active);
  CHECK(f.last_events().empty());

  // Nothing runs until t0+900 s; b's window still starts at t0+600 s.
  f.now = t0 + 900 * sec;
  const Result pb = f.poll(b);
  CHECK(pb.code == Code::ok);
  CHECK(pb.token.status == TokenStatus::active);
  CHECK(pb.token.position == 0);
  CHECK(pb.token.expires_ms == t0 + 1200 * sec);
  CHECK(f.last_types() ==
        std::vector<EventType>{EventType::token_expired, EventType::token_activated});
  CHECK(f.last<TokenExpired>(0).token == a);
  CHECK(f.last<TokenExpired>(0).reason == TokenEnd::window);
  CHECK(f.last_time(0) == t0 + 600 * sec);
  CHECK(f.last<TokenActivated>(1).token == b);
  CHECK(f.last_time(1) == t0 + 600 * sec);
  CHECK(f.token(b).activated_ms == t0 + 600 * sec);
  CHECK(f.poll(a).code == Code::token_expired);
  CHECK(f.poll(cc).token.position == 1);

  // A late tick runs two windows in a row: b's ends at t0+1200 s, c's starts then.
  f.now = t0 + 1300 * sec;
  CHECK(f.run(Tick{}).code == Code::ok);
  CHECK(f.last_types() ==
        std::vector<EventType>{EventType::token_expired, EventType::token_activated});
  CHECK(f.last<TokenExpired>(0).token == b);
  CHECK(f.last_time(0) == t0 + 1200 * sec);
  CHECK(f.last<TokenActivated>(1).token == cc);
  CHECK(f.last<TokenActivated>(1).expires_ms == t0 + 1800 * sec);
  CHECK(f.poll(cc).token.expires_ms == t0 + 1800 * sec);
}

TEST_CASE("An active token is expired at exactly expiresAt, tick or no tick") {
  for (const bool tick : {false, true}) {
    CAPTURE(tick);
    EngineFixture f;
    const TokenId a = f.join_active("a");
    f.now = t0 + 600 * sec;
    if (tick) {
      f.run(Tick{});
      CHECK(f.last_types() == std::vector<EventType>{EventType::token_expired});
    }
    CHECK(f.poll(a).code == Code::token_expired);
    CHECK(f.run(GetBalance{a}).code == Code::token_expired);
    CHECK(f.token(a).ended_ms == t0 + 600 * sec);
  }
}

TEST_CASE("A waiting token not polled for queueIdle is dropped; any request with it is activity") {
  Config c;
  c.active_limit = 1;
  EngineFixture f(c);
  const TokenId a = f.join_active("a");
  const TokenId b = f.join_waiting("b");
  const TokenId cc = f.join_waiting("c");
  CHECK(f.poll(b).token.expires_ms == t0 + 120 * sec);

  f.now = t0 + 120 * sec - 1;
  const Result polled = f.poll(b);
  CHECK(polled.token.expires_ms == t0 + 240 * sec - 1);
  CHECK(f.last_events().empty());

  // c was never polled: dropped at exactly t0+120 s.
  f.now = t0 + 120 * sec;
  CHECK(f.poll(cc).code == Code::token_expired);
  CHECK(f.last_types() == std::vector<EventType>{EventType::token_expired});
  CHECK(f.last<TokenExpired>(0).token == cc);
  CHECK(f.last<TokenExpired>(0).reason == TokenEnd::idle);
  CHECK(f.last_time(0) == t0 + 120 * sec);

  // A live-only request extends the idle window...
  f.now = t0 + 240 * sec - 2;
  CHECK(f.run(GetBalance{b}).code == Code::ok);
  CHECK(f.last_events().empty());
  // ...so does a request refused with 403...
  f.now = t0 + 360 * sec - 3;
  const Result refused = f.try_hold(b, ConcertId{1}, gala_day, 1);
  CHECK(refused.code == Code::token_not_active);
  CHECK(refused.token.expires_ms == t0 + 480 * sec - 3);
  // ...and asking for a token again.
  f.now = t0 + 480 * sec - 4;
  const Result again = f.join("b");
  CHECK(again.code == Code::ok);
  CHECK_FALSE(again.created);
  CHECK(again.token.token == b);
  CHECK(again.token.expires_ms == t0 + 600 * sec - 4);

  // A late tick drops b at its deadline, then ends a's window; nobody is left to admit.
  f.now = t0 + 605 * sec;
  f.run(Tick{});
  CHECK(f.last_types() ==
        std::vector<EventType>{EventType::token_expired, EventType::token_expired});
  CHECK(f.last<TokenExpired>(0).token == b);
  CHECK(f.last<TokenExpired>(0).reason == TokenEnd::idle);
  CHECK(f.last_time(0) == t0 + 600 * sec - 4);
  CHECK(f.last<TokenExpired>(1).token == a);
  CHECK(f.last<TokenExpired>(1).reason == TokenEnd::window);
  CHECK(f.last_time(1) == t0 + 600 * sec);
  CHECK(f.poll(b).code == Code::token_expired);
}

TEST_CASE("A hold is payable at expiresAt-1 and expired at expiresAt, with or without a tick") {
  enum class Way { no_tick, tick_at_deadline, late_tick };
  for (const Way way : {Way::no_tick, Way::tick_at_deadline, Way::late_tick}) {
    CAPTURE(static_cast<int>(way));
    EngineFixture f;
    const ConcertId gala = f.create_concert({{gala_day, 5, 1000}});
    const TokenId a = f.join_active("a");
    f.charge(a, 10000);
    const ReservationId first = f.hold(a, gala, gala_day, 1);
    const ReservationId second = f.hold(a, gala, gala_day, 2);
    CHECK(f.reservation(first).expires_ms == t0 + 300 * sec);

    f.now = t0 + 300 * sec - 1;
    CHECK(f.try_pay(a, first).code == Code::ok);
    const TokenId a2 = f.join_active("a");

    const TimeMs deadline = t0 + 300 * sec;
    if (way == Way::tick_at_deadline) f.now = deadline;
    if (way == Way::late_tick) f.now = deadline + 100 * sec;
    if (way != Way::no_tick) {
      f.run(Tick{});
      CHECK(f.last_types() == std::vector<EventType>{EventType::hold_expired});
      CHECK(f.last<HoldExpired>(0).reservation == second);
      CHECK(f.last_time(0) == deadline);
    }
    f.now = std::max(f.now, deadline);
    const Result late = f.try_pay(a2, second);
    CHECK(late.code == Code::reservation_not_payable);
    if (way == Way::no_tick) {
      CHECK(f.last_types() == std::vector<EventType>{EventType::hold_expired});
      CHECK(f.last_time(0) == deadline);
    } else {
      CHECK(f.last_events().empty());
    }
    CHECK(f.reservation(second).status == ReservationStatus::expired);
    CHECK(f.seat(gala, gala_day, 2).status == SeatStatus::available);
    CHECK(f.reservation(first).status == ReservationStatus::confirmed);
    // The seat is free for anyone at once.
    const TokenId b = f.join_active("b");
    CHECK(f.try_hold(b, gala, gala_day, 2).code == Code::ok);
  }
}

TEST_CASE("Deadlines run in due-time order across holds, windows and idle tokens") {
  Config c;
  c.active_limit = 1;
  EngineFixture f(c);  // holds 300 s, windows 600 s, idle 120 s
  const ConcertId gala = f.create_concert({{gala_day, 5, 1000}});
  const TokenId a = f.join_active("a");  // window ends at 600 s
  f.now = t0 + 230 * sec;
  const ReservationId r1 = f.hold(a, gala, gala_day, 1);  // until 530 s
  f.now = t0 + 260 * sec;
  const ReservationId r2 = f.hold(a, gala, gala_day, 2);  // until 560 s
  const ReservationId r3 = f.hold(a, gala, gala_day, 3);  // until 560 s, but cancelled
  f.now = t0 + 270 * sec;
  REQUIRE(f.cancel(a, r3).code == Code::ok);
  f.now = t0 + 390 * sec;
  const TokenId cc = f.join_waiting("c");  // idle at 510 s...
  f.now = t0 + 470 * sec;
  REQUIRE(f.poll(cc).code == Code::ok);  // ...now at 590 s
  f.now = t0 + 490 * sec;
  const TokenId d = f.join_waiting("d");  // idle at 610 s: admitted before that

  // Nothing has run since 490 s; one late tick does it all, in time order.
  f.now = t0 + 700 * sec;
  f.run(Tick{});
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::hold_expired, EventType::hold_expired,
                                                   EventType::token_expired,
                                                   EventType::token_expired,
                                                   EventType::token_activated});
  CHECK(f.last<HoldExpired>(0).reservation == r1);
  CHECK(f.last_time(0) == t0 + 530 * sec);
  CHECK(f.last<HoldExpired>(1).reservation == r2);
  CHECK(f.last_time(1) == t0 + 560 * sec);
  CHECK(f.last<TokenExpired>(2).token == cc);
  CHECK(f.last<TokenExpired>(2).reason == TokenEnd::idle);
  CHECK(f.last_time(2) == t0 + 590 * sec);
  CHECK(f.last<TokenExpired>(3).token == a);
  CHECK(f.last<TokenExpired>(3).reason == TokenEnd::window);
  CHECK(f.last_time(3) == t0 + 600 * sec);
  CHECK(f.last<TokenActivated>(4).token == d);
  CHECK(f.last_time(4) == t0 + 600 * sec);
  CHECK(f.last<TokenActivated>(4).expires_ms == t0 + 1200 * sec);
  CHECK(f.reservation(r3).status == ReservationStatus::cancelled);
  CHECK(f.reservation(r3).cancelled_ms == t0 + 270 * sec);
}

// API.md leaves open the order of deadlines that fall on the same instant;
// docs/DESIGN.md fixes it: holds, then active windows, then idle waiting
// tokens. So a slot freed at the very instant a waiting token's idle time
// runs out still goes to that token.
TEST_CASE("Deadlines at the same instant: holds, then windows, then idle tokens") {
  Config c;
  c.active_limit = 1;
  EngineFixture f(c);  // holds 300 s, windows 600 s, idle 120 s
  const ConcertId gala = f.create_concert({{gala_day, 5, 1000}});
  const TokenId a = f.join_active("a");  // window ends at 600 s
  f.now = t0 + 300 * sec;
  const ReservationId r = f.hold(a, gala, gala_day, 1);  // until 600 s
  f.now = t0 + 480 * sec;
  const TokenId b = f.join_waiting("b");  // idle at 600 s
  f.now = t0 + 490 * sec;
  const TokenId cc = f.join_waiting("c");  // idle at 610 s

  f.now = t0 + 700 * sec;
  f.run(Tick{});
  REQUIRE(f.last_types() ==
          std::vector<EventType>{EventType::hold_expired, EventType::token_expired,
                                 EventType::token_activated, EventType::token_expired});
  CHECK(f.last<HoldExpired>(0).reservation == r);
  CHECK(f.last<TokenExpired>(1).token == a);
  CHECK(f.last<TokenActivated>(2).token == b);
  CHECK(f.last<TokenActivated>(2).expires_ms == t0 + 1200 * sec);
  for (size_t i = 0; i < 3; i++) CHECK(f.last_time(i) == t0 + 600 * sec);
  CHECK(f.last<TokenExpired>(3).token == cc);
  CHECK(f.last<TokenExpired>(3).reason == TokenEnd::idle);
  CHECK(f.last_time(3) == t0 + 610 * sec);
}

TEST_CASE("A late Tick expires exactly the holds that are due, in deadline order") {
  Config c;
  c.holds_per_user_max = 100;
  EngineFixture f(c);
  const ConcertId gala = f.create_concert({{gala_day, 50, 1000}});
  const TokenId a = f.join_active("a");
  std::vector<ReservationId> held;
  for (uint32_t s = 1; s <= 50; s++) {
    f.now = t0 + s * 10;  // deadlines 10 ms apart
    held.push_back(f.hold(a, gala, gala_day, s));
  }
  f.now = t0 + 300 * sec + 250;  // the first 25 are due
  f.run(Tick{});
  REQUIRE(f.last_events().size() == 25);
  for (size_t i = 0; i < 25; i++) {
    CHECK(f.last<HoldExpired>(i).reservation == held[i]);
    CHECK(f.last_time(i) == t0 + 300 * sec + static_cast<TimeMs>(i + 1) * 10);
  }
  CHECK(f.available(gala, gala_day) == 25);
  CHECK(f.user("a").held_count == 25);
}

TEST_CASE("The clock never runs backwards: a command stamped earlier is decided at engine time") {
  EngineFixture f;
  const ConcertId gala = f.create_concert({{gala_day, 5, 1000}});
  f.now = t0 + 10 * sec;
  const TokenId a = f.join_active("a");
  CHECK(f.engine.now_ms() == t0 + 10 * sec);

  const Result bob = f.run_at(t0, JoinQueue{name("bob")});
  CHECK(f.engine.now_ms() == t0 + 10 * sec);
  CHECK(bob.token.expires_ms == t0 + 610 * sec);
  for (const Event& e : f.last_events()) CHECK(e.time_ms == t0 + 10 * sec);

  const Result held = f.run_at(
      t0 + 5 * sec, HoldSeat{.token = a, .concert = gala, .day = gala_day, .seat = 1, .key = {}});
  REQUIRE(held.code == Code::ok);
  CHECK(f.reservation(held.reservation).created_ms == t0 + 10 * sec);
  CHECK(f.reservation(held.reservation).expires_ms == t0 + 310 * sec);

  // Once a deadline has passed, a command stamped before it does not undo it.
  f.run_at(t0 + 400 * sec, Tick{});
  CHECK(f.reservation(held.reservation).status == ReservationStatus::expired);
  CHECK(
      f.run_at(t0 + 100 * sec, Pay{.token = a, .reservation = held.reservation, .key = {}}).code ==
      Code::reservation_not_payable);
  CHECK(f.engine.now_ms() == t0 + 400 * sec);
}

}  // namespace
}  // namespace boxoffice::test
