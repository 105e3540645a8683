// Holds, payments, cancels, refunds, balances and sales close
// (engine_sales.cpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

constexpr int64_t price = 150000;
constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();
constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();

// A concert with two dates: `d`, 5 seats at `price`, and `d2`, 3 free seats.
struct Sales {
  explicit Sales(const Config& config = Config{}) : f(config) {
    gala = f.create_concert({{d, 5, price}, {d2, 3, 0}});
  }
  EngineFixture f;
  const Day d = day("2027-02-01");
  const Day d2 = day("2027-03-01");
  ConcertId gala{};
};

TEST_CASE("HoldSeat holds an available seat until now + holdTtl") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.now = t0 + 1 * sec;
  const Result r = f.try_hold(a, s.gala, s.d, 3);
  CHECK(r.code == Code::ok);
  CHECK(r.created);
  CHECK_FALSE(r.replayed);
  CHECK(r.reservation == ReservationId{1});
  CHECK(r.user == UserId{1});
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::seat_held});
  const SeatHeld& e = f.last<SeatHeld>(0);
  CHECK(e.reservation == ReservationId{1});
  CHECK(e.user == UserId{1});
  CHECK(e.date == f.state().find_date(s.gala, s.d).value());
  CHECK(e.seat == 3);
  CHECK(e.price == price);
  CHECK(e.expires_ms == t0 + 301 * sec);
  CHECK(e.idempotency.key.empty());

  CHECK(f.seat(s.gala, s.d, 3).status == SeatStatus::held);
  CHECK(f.seat(s.gala, s.d, 3).reservation == ReservationId{1});
  CHECK(f.available(s.gala, s.d) == 4);
  const Reservation& res = f.reservation(r.reservation);
  CHECK(res.status == ReservationStatus::held);
  CHECK(res.user == UserId{1});
  CHECK(res.seat == 3);
  CHECK(res.price == price);
  CHECK(res.created_ms == t0 + 1 * sec);
  CHECK(res.expires_ms == t0 + 301 * sec);
  CHECK(f.user("alice").held_count == 1);

  const Result got = f.run(GetReservation{.token = a, .reservation = r.reservation});
  CHECK(got.code == Code::ok);
  CHECK(got.reservation == r.reservation);
  const Result list = f.run(ListReservations{a});
  CHECK(list.code == Code::ok);
  CHECK(list.user == UserId{1});
}

TEST_CASE("SEAT_UNAVAILABLE for a held seat and for a sold seat") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  f.charge(a, price);
  const ReservationId r = f.hold(a, s.gala, s.d, 3);
  CHECK(f.try_hold(b, s.gala, s.d, 3).code == Code::seat_unavailable);
  CHECK(f.last_events().empty());
  f.pay(a, r);
  CHECK(f.seat(s.gala, s.d, 3).status == SeatStatus::sold);
  CHECK(f.try_hold(b, s.gala, s.d, 3).code == Code::seat_unavailable);
  const TokenId a2 = f.join_active("alice");
  CHECK(f.try_hold(a2, s.gala, s.d, 3).code == Code::seat_unavailable);
  CHECK(f.last_events().empty());
}

TEST_CASE("A body seat number outside 1..totalSeats is 400; an unknown concert or date is 404") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  for (const int64_t seat : {int64_t{0}, int64_t{-1}, int64_t{6}, i64_max, i64_min}) {
    CAPTURE(seat);
    CHECK(f.try_hold(a, s.gala, s.d, seat).code == Code::invalid_request);
  }
  CHECK(f.try_hold(a, s.gala, s.d2, 4).code == Code::invalid_request);  // d2 has 3 seats
  CHECK(f.try_hold(a, ConcertId{2}, s.d, 1).code == Code::not_found);
  CHECK(f.try_hold(a, ConcertId::none, s.d, 1).code == Code::not_found);
  CHECK(f.try_hold(a, s.gala, s.d + 1, 1).code == Code::not_found);
  CHECK(f.try_hold(a, s.gala, -1, 1).code == Code::not_found);
  CHECK(f.try_hold(a, s.gala, limits::day_max + 1, 1).code == Code::not_found);
  // A seat number is judged against its date: an unknown date is 404 first.
  CHECK(f.try_hold(a, s.gala, s.d + 1, 0).code == Code::not_found);
  CHECK(f.last_events().empty());
  CHECK(f.try_hold(a, s.gala, s.d2, 3).code == Code::ok);
  CHECK(f.try_hold(a, s.gala, s.d, 5).code == Code::ok);
  CHECK(f.try_hold(a, s.gala, s.d, 1).code == Code::ok);
}

TEST_CASE(
    "429 HOLD_LIMIT_REACHED at holdsPerUserMax held; cancel, payment and expiry free a slot") {
  Sales s;  // 4 holds per user
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, price);
  std::vector<ReservationId> r;
  for (int64_t seat = 1; seat <= 4; seat++) r.push_back(f.hold(a, s.gala, s.d, seat));
  CHECK(f.user("alice").held_count == 4);
  CHECK(f.try_hold(a, s.gala, s.d2, 1).code == Code::hold_limit_reached);
  CHECK(f.last_events().empty());
  // An unavailable seat is 409 before the limit is looked at.
  CHECK(f.try_hold(a, s.gala, s.d, 1).code == Code::seat_unavailable);
  // The limit is per user.
  const TokenId b = f.join_active("bob");
  CHECK(f.try_hold(b, s.gala, s.d, 5).code == Code::ok);

  // A cancel frees a slot.
  f.now = t0 + 1 * sec;
  REQUIRE(f.cancel(a, r[0]).code == Code::ok);
  CHECK(f.user("alice").held_count == 3);
  CHECK(f.try_hold(a, s.gala, s.d2, 1).code == Code::ok);
  CHECK(f.try_hold(a, s.gala, s.d2, 2).code == Code::hold_limit_reached);

  // A payment frees a slot (and uses the token up).
  f.now = t0 + 3 * sec;
  f.pay(a, r[1]);
  CHECK(f.user("alice").held_count == 3);
  const TokenId a2 = f.join_active("alice");
  CHECK(f.try_hold(a2, s.gala, s.d2, 2).code == Code::ok);
  CHECK(f.user("alice").held_count == 4);

  // Expiry frees slots: r[2] and r[3] end at t0+300 s.
  f.now = t0 + 300 * sec - 1;
  CHECK(f.try_hold(a2, s.gala, s.d2, 3).code == Code::hold_limit_reached);
  f.now = t0 + 300 * sec;
  CHECK(f.try_hold(a2, s.gala, s.d2, 3).code == Code::ok);
  CHECK(f.reservation(r[2]).status == ReservationStatus::expired);
  CHECK(f.reservation(r[3]).status == ReservationStatus::expired);
  CHECK(f.user("alice").held_count == 3);
  CHECK(f.try_hold(a2, s.gala, s.d, 1).code == Code::ok);
  CHECK(f.try_hold(a2, s.gala, s.d, 3).code == Code::hold_limit_reached);
}

TEST_CASE("holdsPerUserMax is the configured limit") {
  Config c;
  c.holds_per_user_max = 1;
  Sales s(c);
  const TokenId a = s.f.join_active("alice");
  CHECK(s.f.try_hold(a, s.gala, s.d, 1).code == Code::ok);
  CHECK(s.f.try_hold(a, s.gala, s.d, 2).code == Code::hold_limit_reached);
}

TEST_CASE(
    "Sales close at 00:00 UTC of the date: holds and payments SALES_CLOSED, refunds refused") {
  const Day eve = day("2027-01-02");
  const Day past = day("2026-12-31");
  const TimeMs close = midnight(eve);
  EngineFixture f(Config{}, close - 200 * sec);
  // A date that has already begun may be created; it never goes on sale.
  const ConcertId c = f.create_concert({{eve, 5, 1000}, {past, 2, 1000}}, "Eve");
  const TokenId a = f.join_active("alice");
  f.charge(a, 10000);
  const ReservationId r1 = f.hold(a, c, eve, 1);
  f.pay(a, r1);
  const TokenId b = f.join_active("bob");
  f.charge(b, 10000);
  CHECK(f.try_hold(b, c, past, 1).code == Code::sales_closed);
  const ReservationId r2 = f.hold(b, c, eve, 2);
  f.pay(b, r2);
  const TokenId a2 = f.join_active("alice");
  const TokenId b2 = f.join_active("bob");

  // The last instant of sales.
  f.now = close - 1;
  const ReservationId r3 = f.hold(a2, c, eve, 3);
  const Result refunded = f.refund(b2, r2);
  CHECK(refunded.code == Code::ok);
  CHECK(refunded.balance == 10000);
  CHECK(f.seat(c, eve, 2).status == SeatStatus::available);

  f.now = close;
  CHECK(f.try_hold(a2, c, eve, 4).code == Code::sales_closed);
  CHECK(f.last_events().empty());
  CHECK(f.try_pay(a2, r3).code == Code::sales_closed);
  CHECK(f.last_events().empty());
  CHECK(f.reservation(r3).status == ReservationStatus::held);  // the hold stays
  CHECK(f.seat(c, eve, 3).status == SeatStatus::held);
  CHECK(f.user("alice").balance == 9000);
  CHECK(f.refund(a2, r1).code == Code::not_refundable);
  CHECK(f.last_events().empty());
  // A paid reservation may still be cancelled; its refund stays refused.
  CHECK(f.cancel(a2, r1).code == Code::ok);
  CHECK(f.seat(c, eve, 1).status == SeatStatus::available);
  CHECK(f.refund(a2, r1).code == Code::not_refundable);
  CHECK(f.user("alice").balance == 9000);
  // The closed date is still listed.
  CHECK(f.run(GetSeats{.token = a2, .concert = c, .day = eve}).code == Code::ok);

  // The hold placed at close - 1 ms lasts its full time.
  f.now = close - 1 + 300 * sec - 1;
  f.run(Tick{});
  CHECK(f.reservation(r3).status == ReservationStatus::held);
  f.now = close - 1 + 300 * sec;
  f.run(Tick{});
  CHECK(f.last_types() == std::vector<EventType>{EventType::hold_expired});
  CHECK(f.reservation(r3).status == ReservationStatus::expired);
}

TEST_CASE("Pay debits the balance, confirms the reservation, sells the seat, uses the token up") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  CHECK(f.charge(a, 200000) == 200000);
  const ReservationId r = f.hold(a, s.gala, s.d, 1);
  f.now = t0 + 10 * sec;
  const Result paid = f.try_pay(a, r);
  CHECK(paid.code == Code::ok);
  CHECK(paid.created);
  CHECK_FALSE(paid.replayed);
  CHECK(paid.payment == PaymentId{1});
  CHECK(paid.reservation == r);
  CHECK(paid.user == UserId{1});
  CHECK(paid.balance == 50000);
  REQUIRE(f.last_types() ==
          std::vector<EventType>{EventType::payment_completed, EventType::token_expired});
  const PaymentCompleted& e = f.last<PaymentCompleted>(0);
  CHECK(e.payment == PaymentId{1});
  CHECK(e.reservation == r);
  CHECK(e.amount == price);
  CHECK(e.idempotency.key.empty());
  CHECK(f.last<TokenExpired>(1).token == a);
  CHECK(f.last<TokenExpired>(1).reason == TokenEnd::used);

  const Reservation& res = f.reservation(r);
  CHECK(res.status == ReservationStatus::confirmed);
  CHECK(res.paid_ms == t0 + 10 * sec);
  CHECK(res.payment == PaymentId{1});
  CHECK(f.seat(s.gala, s.d, 1).status == SeatStatus::sold);
  CHECK(f.seat(s.gala, s.d, 1).reservation == r);
  CHECK(f.available(s.gala, s.d) == 4);
  const Payment& p = f.state().payment(PaymentId{1});
  CHECK(p.amount == price);
  CHECK(p.balance_after == 50000);
  CHECK(p.paid_ms == t0 + 10 * sec);
  CHECK(p.user == UserId{1});
  const User& u = f.user("alice");
  CHECK(u.balance == 50000);
  CHECK(u.paid_total == price);
  CHECK(u.held_count == 0);
  CHECK(u.payment_count == 1);

  const TokenId a2 = f.join_active("alice");
  const Result balance = f.run(GetBalance{a2});
  CHECK(balance.code == Code::ok);
  CHECK(balance.balance == 50000);
  CHECK(balance.user == UserId{1});
}

TEST_CASE("Pay: another user's or unknown reservation is 404; an amount other than the price 400") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  f.charge(a, 300000);
  f.charge(b, 300000);
  const ReservationId r = f.hold(a, s.gala, s.d, 1);
  CHECK(f.try_pay(b, r).code == Code::not_found);
  CHECK(f.try_pay(b, ReservationId{99}).code == Code::not_found);
  CHECK(f.try_pay(a, ReservationId::none).code == Code::not_found);
  CHECK(f.run(GetReservation{.token = b, .reservation = r}).code == Code::not_found);
  for (const int64_t amount : {price - 1, price + 1, int64_t{0}, int64_t{-price}}) {
    CAPTURE(amount);
    const Result wrong = f.run(
        Pay{.token = a, .reservation = r, .amount_present = true, .amount = amount, .key = {}});
    CHECK(wrong.code == Code::invalid_request);
    CHECK(f.last_events().empty());
  }
  CHECK(f.reservation(r).status == ReservationStatus::held);
  const Result right =
      f.run(Pay{.token = a, .reservation = r, .amount_present = true, .amount = price, .key = {}});
  CHECK(right.code == Code::ok);
  CHECK(right.balance == 150000);
}

TEST_CASE("Pay: an expired, cancelled or paid reservation is 409 RESERVATION_NOT_PAYABLE") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, 1000000);
  const ReservationId expiring = f.hold(a, s.gala, s.d, 1);
  const ReservationId cancelled = f.hold(a, s.gala, s.d, 2);
  const ReservationId paid = f.hold(a, s.gala, s.d, 3);
  REQUIRE(f.cancel(a, cancelled).code == Code::ok);
  f.pay(a, paid);
  const TokenId a2 = f.join_active("alice");
  CHECK(f.try_pay(a2, paid).code == Code::reservation_not_payable);
  CHECK(f.try_pay(a2, cancelled).code == Code::reservation_not_payable);
  CHECK(f.last_events().empty());
  f.now = t0 + 300 * sec;
  CHECK(f.try_pay(a2, expiring).code == Code::reservation_not_payable);
  CHECK(f.user("alice").balance == 1000000 - price);
  CHECK(f.token(a2).status == TokenStatus::active);  // only a payment uses it up
}

TEST_CASE("Pay: 402 INSUFFICIENT_BALANCE leaves the hold and the token as they were") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, price - 1);
  const ReservationId r = f.hold(a, s.gala, s.d, 1);
  CHECK(f.try_pay(a, r).code == Code::insufficient_balance);
  CHECK(f.last_events().empty());
  CHECK(f.reservation(r).status == ReservationStatus::held);
  CHECK(f.seat(s.gala, s.d, 1).status == SeatStatus::held);
  CHECK(f.user("alice").balance == price - 1);
  CHECK(f.poll(a).token.status == TokenStatus::active);
  f.charge(a, 1);
  const Result paid = f.try_pay(a, r);
  CHECK(paid.code == Code::ok);
  CHECK(paid.balance == 0);

  // A free seat is payable with an empty balance.
  const TokenId b = f.join_active("bob");
  const ReservationId free_seat = f.hold(b, s.gala, s.d2, 1);
  const Result free_paid = f.try_pay(b, free_seat);
  CHECK(free_paid.code == Code::ok);
  CHECK(free_paid.balance == 0);
  CHECK(f.last<PaymentCompleted>(0).amount == 0);
}

TEST_CASE("Cancel a held reservation: cancelled, and its seat is available at once") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  const ReservationId r = f.hold(a, s.gala, s.d, 1);
  f.now = t0 + 5 * sec;
  const Result c = f.cancel(a, r);
  CHECK(c.code == Code::ok);
  CHECK(c.reservation == r);
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::reservation_cancelled});
  CHECK(f.last<ReservationCancelled>(0).reservation == r);
  CHECK(f.reservation(r).status == ReservationStatus::cancelled);
  CHECK(f.reservation(r).cancelled_ms == t0 + 5 * sec);
  CHECK(f.seat(s.gala, s.d, 1).status == SeatStatus::available);
  CHECK(f.available(s.gala, s.d) == 5);
  CHECK(f.user("alice").held_count == 0);
  CHECK(f.try_hold(b, s.gala, s.d, 1).code == Code::ok);

  CHECK(f.cancel(a, r).code == Code::not_cancellable);
  CHECK(f.cancel(b, r).code == Code::not_found);  // alice's
  CHECK(f.cancel(a, ReservationId{99}).code == Code::not_found);
  CHECK(f.last_events().empty());
  // The cancelled hold's deadline is stale: nothing happens at it.
  f.now = t0 + 300 * sec;
  f.run(Tick{});
  CHECK(f.last_events().empty());
  f.now = t0 + 305 * sec;
  f.run(Tick{});
  CHECK(f.last_types() == std::vector<EventType>{EventType::hold_expired});
  CHECK(f.last<HoldExpired>(0).reservation == ReservationId{2});  // bob's
}

TEST_CASE("Cancel a confirmed reservation: seat released, money owed back until refunded") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, price);
  const ReservationId r = f.hold(a, s.gala, s.d, 1);
  f.pay(a, r);
  const TokenId a2 = f.join_active("alice");
  f.now = t0 + 10 * sec;
  CHECK(f.cancel(a2, r).code == Code::ok);
  CHECK(f.last_types() == std::vector<EventType>{EventType::reservation_cancelled});
  const Reservation& res = f.reservation(r);
  CHECK(res.status == ReservationStatus::cancelled);
  CHECK(res.payment == PaymentId{1});
  CHECK(res.cancelled_ms == t0 + 10 * sec);
  CHECK(f.seat(s.gala, s.d, 1).status == SeatStatus::available);
  CHECK(f.available(s.gala, s.d) == 5);
  CHECK(f.user("alice").balance == 0);

  f.now = t0 + 20 * sec;
  const Result back = f.refund(a2, r);
  CHECK(back.code == Code::ok);
  CHECK(back.balance == price);
  CHECK(f.reservation(r).status == ReservationStatus::refunded);
}

TEST_CASE("409 NOT_CANCELLABLE for expired, cancelled and refunded reservations") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, price);
  const ReservationId expiring = f.hold(a, s.gala, s.d, 1);
  const ReservationId cancelled = f.hold(a, s.gala, s.d, 2);
  const ReservationId refunded = f.hold(a, s.gala, s.d, 3);
  REQUIRE(f.cancel(a, cancelled).code == Code::ok);
  f.pay(a, refunded);
  const TokenId a2 = f.join_active("alice");
  REQUIRE(f.refund(a2, refunded).code == Code::ok);
  CHECK(f.cancel(a2, cancelled).code == Code::not_cancellable);
  CHECK(f.cancel(a2, refunded).code == Code::not_cancellable);
  f.now = t0 + 300 * sec;
  CHECK(f.cancel(a2, expiring).code == Code::not_cancellable);
  CHECK(f.reservation(expiring).status == ReservationStatus::expired);
  CHECK(f.last_types() == std::vector<EventType>{EventType::hold_expired});
}

TEST_CASE("Refund a confirmed reservation: refunded, amount credited, seat released") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, 200000);
  const ReservationId r = f.hold(a, s.gala, s.d, 2);
  f.pay(a, r);
  const TokenId a2 = f.join_active("alice");
  f.now = t0 + 20 * sec;
  const Result back = f.refund(a2, r, "changed plans");
  CHECK(back.code == Code::ok);
  CHECK(back.created);
  CHECK(back.refund == RefundId{1});
  CHECK(back.reservation == r);
  CHECK(back.user == UserId{1});
  CHECK(back.balance == 200000);
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::refund_issued});
  const RefundIssued& e = f.last<RefundIssued>(0);
  CHECK(e.refund == RefundId{1});
  CHECK(e.reservation == r);
  CHECK(e.amount == price);
  CHECK(e.reason == "changed plans");
  const Reservation& res = f.reservation(r);
  CHECK(res.status == ReservationStatus::refunded);
  CHECK(res.refunded_ms == t0 + 20 * sec);
  CHECK(res.refund == RefundId{1});
  CHECK(f.seat(s.gala, s.d, 2).status == SeatStatus::available);
  CHECK(f.seat(s.gala, s.d, 2).reservation == ReservationId::none);
  CHECK(f.available(s.gala, s.d) == 5);
  const RefundRecord& rec = f.state().refund(RefundId{1});
  CHECK(rec.amount == price);
  CHECK(rec.balance_after == 200000);
  CHECK(rec.created_ms == t0 + 20 * sec);
  CHECK(f.user("alice").refunded_total == price);
  CHECK(f.user("alice").payment_count == 1);  // history keeps the payment
}

TEST_CASE("Refund after a cancel of a paid reservation leaves a resold seat untouched") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  f.charge(a, price);
  const ReservationId r = f.hold(a, s.gala, s.d, 1);
  f.pay(a, r);
  const TokenId a2 = f.join_active("alice");
  REQUIRE(f.cancel(a2, r).code == Code::ok);
  const TokenId b = f.join_active("bob");
  f.charge(b, price);
  const ReservationId rb = f.hold(b, s.gala, s.d, 1);
  f.pay(b, rb);
  const Result back = f.refund(a2, r);
  CHECK(back.code == Code::ok);
  CHECK(back.balance == price);
  CHECK(f.reservation(r).status == ReservationStatus::refunded);
  CHECK(f.reservation(rb).status == ReservationStatus::confirmed);
  CHECK(f.seat(s.gala, s.d, 1).status == SeatStatus::sold);
  CHECK(f.seat(s.gala, s.d, 1).reservation == rb);
}

TEST_CASE("409 NOT_REFUNDABLE for a reservation never paid or already refunded") {
  Sales s;
  EngineFixture& f = s.f;
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  f.charge(a, price);
  const ReservationId held = f.hold(a, s.gala, s.d, 1);
  const ReservationId cancelled = f.hold(a, s.gala, s.d, 2);
  REQUIRE(f.cancel(a, cancelled).code == Code::ok);
  const ReservationId expiring = f.hold(a, s.gala, s.d, 3);
  const ReservationId paid = f.hold(a, s.gala, s.d, 4);
  f.pay(a, paid);
  const TokenId a2 = f.join_active("alice");
  CHECK(f.refund(a2, held).code == Code::not_refundable);
  CHECK(f.refund(a2, cancelled).code == Code::not_refundable);
  CHECK(f.refund(b, paid).code == Code::not_found);
  CHECK(f.refund(a2, ReservationId{99}).code == Code::not_found);
  CHECK(f.last_events().empty());
  CHECK(f.refund(a2, paid).code == Code::ok);
  CHECK(f.refund(a2, paid).code == Code::not_refundable);
  f.now = t0 + 300 * sec;
  CHECK(f.refund(a2, expiring).code == Code::not_refundable);
  CHECK(f.user("alice").balance == price);
}

TEST_CASE("Refund reason: at most 500 characters of valid UTF-8, else 400 before any 404") {
  Sales s;
  EngineFixture& f = s.f;
  f.charge(f.join_active("alice"), 3 * price);
  // A paid reservation and a live token to refund it with.
  const auto paid_seat = [&](int64_t seat) {
    const TokenId t = f.join_active("alice");
    const ReservationId r = f.hold(t, s.gala, s.d, seat);
    f.pay(t, r);
    return r;
  };
  const ReservationId r1 = paid_seat(1);
  const ReservationId r2 = paid_seat(2);
  const ReservationId r3 = paid_seat(3);
  const TokenId a = f.join_active("alice");
  const std::string too_long[] = {
      repeat("x", 501),
      repeat("\xc3\xa9", 501),  // 501 x U+00E9
      repeat("x", limits::refund_reason_bytes_max + 1),
      "\xff",
      "abc\xc3",       // truncated sequence
      "\xc0\xaf",      // overlong '/'
      "\xed\xa0\x80",  // a surrogate
  };
  for (const std::string& reason : too_long) {
    CAPTURE(reason.size());
    CHECK(f.refund(a, r1, reason).code == Code::invalid_request);
    CHECK(f.refund(a, ReservationId{99}, reason).code == Code::invalid_request);
  }
  CHECK(f.last_events().empty());
  CHECK(f.refund(a, r1, repeat("\xc3\xa9", 500)).code == Code::ok);
  CHECK(f.last<RefundIssued>(0).reason == repeat("\xc3\xa9", 500));
  CHECK(f.refund(a, r2, repeat("x", 500)).code == Code::ok);
  CHECK(f.refund(a, r3, "").code == Code::ok);
  CHECK(f.last<RefundIssued>(0).reason.empty());
}

TEST_CASE("Charge: 1 to 1,000,000,000 per charge, else 400") {
  EngineFixture f;
  const TokenId a = f.join_active("alice");
  for (const int64_t amount : {int64_t{0}, int64_t{-1}, i64_min, int64_t{1000000001}, i64_max}) {
    CAPTURE(amount);
    CHECK(f.try_charge(a, amount).code == Code::invalid_request);
    CHECK(f.last_events().empty());
  }
  const Result one = f.try_charge(a, 1);
  CHECK(one.code == Code::ok);
  CHECK_FALSE(one.created);
  CHECK(one.user == UserId{1});
  CHECK(one.balance == 1);
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::balance_charged});
  CHECK(f.last<BalanceCharged>(0).user == UserId{1});
  CHECK(f.last<BalanceCharged>(0).amount == 1);
  CHECK(f.last<BalanceCharged>(0).idempotency.key.empty());
  CHECK(f.try_charge(a, 1000000000).balance == 1000000001);
  CHECK(f.user("alice").charged_total == 1000000001);
}

TEST_CASE("A balance never exceeds 10^15: a charge that would pass it is 400") {
  // A million charges: driven without the fixture's per-command checks.
  Engine engine{Config{}};
  std::vector<Event> events;
  const auto run = [&](CommandBody body) {
    events.clear();
    return engine.execute(Command{t0, std::move(body)}, events);
  };
  const TokenId a = run(JoinQueue{name("alice")}).token.token;
  const auto charge = [&](int64_t amount) {
    return run(ChargeBalance{.token = a, .amount = amount, .key = {}});
  };
  const int64_t max_charge = limits::charge_won_max;
  bool all_ok = true;
  for (int i = 0; i < 999999; i++) {
    all_ok = all_ok && charge(max_charge).code == Code::ok;
  }
  REQUIRE(all_ok);
  const UserId u = engine.state().find_user("alice").value();
  CHECK(engine.state().user(u).balance == 999999 * max_charge);
  CHECK(charge(max_charge - 1).balance == limits::balance_won_max - 1);
  CHECK(charge(2).code == Code::invalid_request);
  CHECK(events.empty());
  CHECK(charge(max_charge).code == Code::invalid_request);
  const Result last = charge(1);
  CHECK(last.code == Code::ok);
  CHECK(last.balance == limits::balance_won_max);
  CHECK(charge(1).code == Code::invalid_request);
  CHECK(engine.state().user(u).balance == limits::balance_won_max);
  InvariantOptions options;
  options.now_ms = engine.now_ms();
  CHECK_FALSE(check_invariants(engine.state(), options).has_value());
}

// The pages a reply is rendered from.
std::vector<PaymentId> payments_page(const State& s, UserId user, int64_t page, int64_t limit) {
  std::vector<PaymentId> ids;
  s.for_each_payment_on_page(user, page, limit,
                             [&ids](PaymentId id, const Payment&) { ids.push_back(id); });
  return ids;
}

TEST_CASE(
    "Payment history: newest first, paged, refunded payments kept; reservations newest first") {
  Sales s;
  EngineFixture& f = s.f;
  f.charge(f.join_active("alice"), 3 * price);
  std::vector<ReservationId> paid;
  for (int64_t seat = 1; seat <= 3; seat++) {
    f.advance(sec);
    const TokenId t = f.join_active("alice");
    paid.push_back(f.hold(t, s.gala, s.d, seat));
    f.pay(t, paid.back());
  }
  const TokenId a = f.join_active("alice");
  REQUIRE(f.refund(a, paid[1]).code == Code::ok);
  const TokenId b = f.join_active("bob");
  f.charge(b, price);
  f.pay(b, f.hold(b, s.gala, s.d, 5));

  const State& st = f.state();
  const UserId alice = st.find_user("alice").value();
  using Ids = std::vector<PaymentId>;
  CHECK(st.user(alice).payment_count == 3);  // the total, refunded one included
  CHECK(payments_page(st, alice, 1, 2) == Ids{PaymentId{3}, PaymentId{2}});
  CHECK(payments_page(st, alice, 2, 2) == Ids{PaymentId{1}});
  CHECK(payments_page(st, alice, 3, 2).empty());
  CHECK(payments_page(st, alice, 1, 100) == Ids{PaymentId{3}, PaymentId{2}, PaymentId{1}});
  CHECK(payments_page(st, alice, i64_max, 100).empty());
  CHECK(payments_page(st, alice, i64_max / 2, 3).empty());
  CHECK(payments_page(st, st.find_user("bob").value(), 1, 20) == Ids{PaymentId{4}});
  // A refunded payment is listed with its reservation refunded.
  CHECK(st.reservation(st.payment(PaymentId{2}).reservation)->status ==
        ReservationStatus::refunded);
  CHECK(st.payment(PaymentId{2}).amount == price);

  std::vector<ReservationId> newest_first;
  st.for_each_reservation(alice, [&](ReservationId id, const Reservation& r) {
    CHECK(r.user == alice);
    newest_first.push_back(id);
  });
  CHECK(newest_first == std::vector<ReservationId>{paid[2], paid[1], paid[0]});
}

TEST_CASE("ListPayments: page 1 or more, limit 1 to 100, else 400 (after authentication)") {
  EngineFixture f;
  const TokenId a = f.join_active("alice");
  const auto list = [&](TokenId t, int64_t page, int64_t limit) {
    return f.run(ListPayments{.token = t, .page = page, .limit = limit});
  };
  const std::pair<int64_t, int64_t> bad[] = {{0, 20}, {-1, 20}, {i64_min, 20}, {1, 0},
                                             {1, -1}, {1, 101}, {1, i64_max},  {0, 0}};
  for (const auto& p : bad) {
    CAPTURE(p.first);
    CAPTURE(p.second);
    CHECK(list(a, p.first, p.second).code == Code::invalid_request);
  }
  const Result first = list(a, 1, 1);
  CHECK(first.code == Code::ok);
  CHECK(first.user == UserId{1});
  CHECK(first.page == 1);
  CHECK(first.limit == 1);
  const Result far = list(a, i64_max, 100);
  CHECK(far.code == Code::ok);
  CHECK(far.page == i64_max);
  CHECK(far.limit == 100);
  const Result defaults = f.run(ListPayments{.token = a});
  CHECK(defaults.page == 1);
  CHECK(defaults.limit == 20);
  REQUIRE(f.run(LeaveQueue{a}).code == Code::ok);
  CHECK(list(a, 0, 0).code == Code::token_expired);
  CHECK(list(TokenId{42}, 0, 0).code == Code::unauthorized);
  CHECK(f.last_events().empty());
}

}  // namespace
}  // namespace boxoffice::test
