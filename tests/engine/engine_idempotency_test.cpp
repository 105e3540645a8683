// Idempotency keys: replays, reuse with another body, per-user keys, and
// forgetting after 24 hours (engine.cpp, engine_sales.cpp).
#include <doctest/doctest.h>

#include <vector>

#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

constexpr int64_t price = 150000;
constexpr Day gala_day = day("2027-02-01");

TEST_CASE("Hold: the same key and body replays the first answer and changes nothing") {
  EngineFixture f;
  const ConcertId gala = f.create_concert({{gala_day, 5, price}});
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  f.now = t0 + 1 * sec;
  const Result first = f.try_hold(a, gala, gala_day, 2, key("k1"));
  REQUIRE(first.code == Code::ok);
  CHECK_FALSE(first.replayed);
  const SeatHeld& e = f.last<SeatHeld>(0);
  CHECK(e.idempotency.key.view() == "k1");
  CHECK(e.idempotency.fingerprint ==
        fingerprint(HoldSeat{.token = a, .concert = gala, .day = gala_day, .seat = 2, .key = {}}));

  f.now = t0 + 5 * sec;
  const Result again = f.try_hold(a, gala, gala_day, 2, key("k1"));
  CHECK(again.code == Code::ok);
  CHECK(again.replayed);
  CHECK(again.created);
  CHECK(again.reservation == first.reservation);
  CHECK(again.user == UserId{1});
  CHECK(f.last_events().empty());
  CHECK(f.state().reservation_count() == 1);

  // The same key with another body.
  CHECK(f.try_hold(a, gala, gala_day, 3, key("k1")).code == Code::idempotency_key_reused);
  CHECK(f.last_events().empty());
  CHECK(f.seat(gala, gala_day, 3).status == SeatStatus::available);
  // The request's own checks come first: a bad seat is 400, an unknown date 404.
  CHECK(f.try_hold(a, gala, gala_day, 0, key("k1")).code == Code::invalid_request);
  CHECK(f.try_hold(a, gala, gala_day + 1, 3, key("k1")).code == Code::not_found);
  // The same key on another endpoint is another request.
  CHECK(f.try_charge(a, 100, key("k1")).code == Code::idempotency_key_reused);
  CHECK(f.try_pay(a, first.reservation, key("k1")).code == Code::idempotency_key_reused);
  CHECK(f.user("alice").balance == 0);

  // Keys are per user: bob's "k1" is his own.
  CHECK(f.try_hold(b, gala, gala_day, 2, key("k1")).code == Code::seat_unavailable);
  const Result bobs = f.try_hold(b, gala, gala_day, 3, key("k1"));
  CHECK(bobs.code == Code::ok);
  CHECK_FALSE(bobs.replayed);
  CHECK(bobs.reservation == ReservationId{2});

  // The replay shows the reservation as created, even after it expired.
  f.now = t0 + 301 * sec;
  const Result late = f.try_hold(a, gala, gala_day, 2, key("k1"));
  CHECK(late.code == Code::ok);
  CHECK(late.replayed);
  CHECK(late.reservation == first.reservation);
  CHECK(f.last_types() == std::vector<EventType>{EventType::hold_expired});  // the deadline only
  CHECK(f.reservation(first.reservation).status == ReservationStatus::expired);
}

TEST_CASE("Charge: a replay answers the balance after the first charge") {
  EngineFixture f;
  const TokenId a = f.join_active("alice");
  const Result first = f.try_charge(a, 1000, key("c1"));
  CHECK(first.balance == 1000);
  CHECK(f.last<BalanceCharged>(0).idempotency.key.view() == "c1");
  CHECK(f.charge(a, 500) == 1500);
  const Result again = f.try_charge(a, 1000, key("c1"));
  CHECK(again.code == Code::ok);
  CHECK(again.replayed);
  CHECK_FALSE(again.created);
  CHECK(again.balance == 1000);
  CHECK(f.last_events().empty());
  CHECK(f.user("alice").balance == 1500);
  CHECK(f.try_charge(a, 999, key("c1")).code == Code::idempotency_key_reused);
  CHECK(f.try_charge(a, 0, key("c1")).code == Code::invalid_request);
  CHECK(f.user("alice").balance == 1500);
}

TEST_CASE("Pay: a retry after the payment used the token up still replays") {
  EngineFixture f;
  const ConcertId gala = f.create_concert({{gala_day, 5, price}});
  const TokenId a = f.join_active("alice");
  f.charge(a, 2 * price + 50000);
  const ReservationId r = f.hold(a, gala, gala_day, 1);
  f.now = t0 + 10 * sec;
  const Result first = f.try_pay(a, r, key("p1"));
  REQUIRE(first.code == Code::ok);
  CHECK(f.last<PaymentCompleted>(0).idempotency.key.view() == "p1");
  CHECK(f.token(a).status == TokenStatus::expired);

  f.now = t0 + 20 * sec;
  const Result retry = f.try_pay(a, r, key("p1"));
  CHECK(retry.code == Code::ok);
  CHECK(retry.replayed);
  CHECK(retry.created);
  CHECK(retry.payment == first.payment);
  CHECK(retry.reservation == r);
  CHECK(retry.balance == price + 50000);
  CHECK(retry.user == UserId{1});
  CHECK(f.last_events().empty());
  // Another body with the used-up token: authentication answers first.
  CHECK(f.run(Pay{.token = a,
                  .reservation = r,
                  .amount_present = true,
                  .amount = price,
                  .key = key("p1")})
            .code == Code::token_expired);

  const TokenId a2 = f.join_active("alice");
  const ReservationId r2 = f.hold(a2, gala, gala_day, 2);
  CHECK(f.try_pay(a2, r2, key("p1")).code == Code::idempotency_key_reused);
  CHECK(f.reservation(r2).status == ReservationStatus::held);
  // The same body with the user's new token is the same request.
  const Result with_new_token = f.try_pay(a2, r, key("p1"));
  CHECK(with_new_token.replayed);
  CHECK(with_new_token.payment == first.payment);
  CHECK(f.state().payment_count() == 1);
  CHECK(f.user("alice").balance == price + 50000);
}

TEST_CASE("An error does not use a key up: the retry is decided afresh") {
  EngineFixture f;
  const ConcertId gala = f.create_concert({{gala_day, 5, price}});
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  f.charge(a, price - 1);
  const ReservationId r = f.hold(a, gala, gala_day, 1);
  CHECK(f.try_pay(a, r, key("p2")).code == Code::insufficient_balance);
  f.charge(a, 1);
  const Result paid = f.try_pay(a, r, key("p2"));
  CHECK(paid.code == Code::ok);
  CHECK_FALSE(paid.replayed);

  CHECK(f.try_hold(b, gala, gala_day, 1, key("h")).code == Code::seat_unavailable);
  const Result other_seat = f.try_hold(b, gala, gala_day, 2, key("h"));
  CHECK(other_seat.code == Code::ok);
  CHECK_FALSE(other_seat.replayed);
}

TEST_CASE("Refund: the same key and reason replays; another reason is 409") {
  EngineFixture f;
  const ConcertId gala = f.create_concert({{gala_day, 5, price}});
  const TokenId a = f.join_active("alice");
  f.charge(a, price);
  const ReservationId r = f.hold(a, gala, gala_day, 1);
  f.pay(a, r);
  const TokenId a2 = f.join_active("alice");
  const Result first = f.refund(a2, r, "why", key("r1"));
  REQUIRE(first.code == Code::ok);
  CHECK(f.last<RefundIssued>(0).idempotency.key.view() == "r1");
  const Result again = f.refund(a2, r, "why", key("r1"));
  CHECK(again.code == Code::ok);
  CHECK(again.replayed);
  CHECK(again.created);
  CHECK(again.refund == first.refund);
  CHECK(again.reservation == r);
  CHECK(again.balance == price);
  CHECK(f.last_events().empty());
  CHECK(f.refund(a2, r, "another reason", key("r1")).code == Code::idempotency_key_reused);
  CHECK(f.user("alice").balance == price);
}

TEST_CASE("Keys are forgotten 24 h after first use, with an IdempotencyForgotten event") {
  EngineFixture f;
  const TokenId a = f.join_active("alice");
  CHECK(f.try_charge(a, 100, key("c1")).balance == 100);
  f.now = t0 + 1 * sec;
  CHECK(f.try_charge(a, 200, key("c2")).balance == 300);

  // The last instant c1 is remembered (a's window ended long ago: the replay
  // still answers).
  f.now = t0 + day_ms - 1;
  const Result remembered = f.try_charge(a, 100, key("c1"));
  CHECK(remembered.replayed);
  CHECK(remembered.balance == 100);

  f.now = t0 + day_ms;
  f.run(Tick{});
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::idempotency_forgotten});
  CHECK(f.last<IdempotencyForgotten>(0).created_up_to_ms == t0);
  CHECK(f.state().idempotent_count() == 1);
  CHECK(f.try_charge(a, 100, key("c1")).code == Code::token_expired);  // no replay any more
  const TokenId a2 = f.join_active("alice");
  const Result fresh = f.try_charge(a2, 100, key("c1"));
  CHECK(fresh.code == Code::ok);
  CHECK_FALSE(fresh.replayed);
  CHECK(fresh.balance == 400);
  CHECK(f.try_charge(a2, 200, key("c2")).replayed);

  // A late tick forgets what was due by its own instant, and only that.
  f.now = t0 + day_ms + 5 * sec;
  f.run(Tick{});
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::idempotency_forgotten});
  CHECK(f.last<IdempotencyForgotten>(0).created_up_to_ms == t0 + 5 * sec);
  CHECK(f.state().idempotent_count() == 1);
  const Result c2_again = f.try_charge(a2, 200, key("c2"));
  CHECK_FALSE(c2_again.replayed);
  CHECK(c2_again.balance == 600);
  const Result c1_again = f.try_charge(a2, 100, key("c1"));
  CHECK(c1_again.replayed);
  CHECK(c1_again.balance == 400);
}

}  // namespace
}  // namespace boxoffice::test
