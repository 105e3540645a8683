// The waiting room: tokens, admission, positions, estimates, leaving, and
// authentication of every request (engine_queue.cpp, engine.cpp).
#include <doctest/doctest.h>

#include <vector>

#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

Config queue_config(uint32_t active_limit, int64_t idle_s = 120) {
  Config c;
  c.active_limit = active_limit;
  c.queue_idle_ms = idle_s * sec;
  return c;
}

TEST_CASE("JoinQueue: a new token is 201; asking again returns the same token with 200") {
  EngineFixture f(queue_config(1));
  const Result a = f.join("alice");
  CHECK(a.code == Code::ok);
  CHECK(a.created);
  CHECK(a.user == UserId{1});
  CHECK(a.token.token == TokenId{1});
  CHECK(a.token.user == UserId{1});
  CHECK(a.token.status == TokenStatus::active);
  CHECK(a.token.position == 0);
  CHECK(a.token.estimated_wait_s == 0);
  CHECK(a.token.expires_ms == t0 + 600 * sec);
  CHECK(f.last_types() == std::vector<EventType>{EventType::user_created, EventType::token_issued,
                                                 EventType::token_activated});
  CHECK(f.last<UserCreated>(0).name.view() == "alice");
  CHECK(f.last<TokenIssued>(1).token == TokenId{1});
  CHECK(f.last<TokenIssued>(1).user == UserId{1});
  CHECK(f.last<TokenActivated>(2).expires_ms == t0 + 600 * sec);

  f.advance(5 * sec);
  const Result again = f.join("alice");
  CHECK(again.code == Code::ok);
  CHECK_FALSE(again.created);
  CHECK(again.token.token == TokenId{1});
  CHECK(again.token.status == TokenStatus::active);
  CHECK(again.token.expires_ms == t0 + 600 * sec);  // not extended
  CHECK(f.last_events().empty());

  const Result bob = f.join("bob");
  CHECK(bob.code == Code::ok);
  CHECK(bob.created);
  CHECK(bob.user == UserId{2});
  CHECK(bob.token.token == TokenId{2});
  CHECK(bob.token.status == TokenStatus::waiting);
  CHECK(bob.token.position == 1);
  CHECK(bob.token.expires_ms == t0 + 125 * sec);  // dropped then unless polled
  CHECK(f.last_types() == std::vector<EventType>{EventType::user_created, EventType::token_issued});

  f.advance(10 * sec);
  const Result bob_again = f.join("bob");
  CHECK(bob_again.code == Code::ok);
  CHECK_FALSE(bob_again.created);
  CHECK(bob_again.token.token == TokenId{2});
  CHECK(bob_again.token.position == 1);
  CHECK(bob_again.token.expires_ms == t0 + 135 * sec);  // asking again is activity
  CHECK(f.last_events().empty());
}

TEST_CASE("JoinQueue: after the token expires, asking again issues a new token at the back") {
  EngineFixture f(queue_config(1, 3600));
  f.join_active("alice");
  f.join_waiting("bob");
  f.now = t0 + 600 * sec;
  const Result again = f.join("alice");
  CHECK(again.code == Code::ok);
  CHECK(again.created);
  CHECK(again.user == UserId{1});  // the same user
  CHECK(again.token.token == TokenId{3});
  CHECK(again.token.status == TokenStatus::waiting);
  CHECK(again.token.position == 1);
  CHECK(f.last_types() == std::vector<EventType>{EventType::token_expired,
                                                 EventType::token_activated,
                                                 EventType::token_issued});
  CHECK(f.last<TokenExpired>(0).token == TokenId{1});
  CHECK(f.last<TokenActivated>(1).token == TokenId{2});
  CHECK(f.user("alice").live_token == TokenId{3});
}

TEST_CASE("JoinQueue: a user name outside 1..64 of [A-Za-z0-9_-.@] is 400") {
  EngineFixture f;
  for (const char* bad : {"", "bad name", "slash/", "semi;colon", "caf\xc3\xa9", "tab\t", "a+b"}) {
    CAPTURE(bad);
    const Result r = f.join(bad);
    CHECK(r.code == Code::invalid_request);
    CHECK(f.last_events().empty());
  }
  const std::string longest = "AZaz09_-.@" + repeat("x", 54);
  REQUIRE(longest.size() == 64);
  const Result ok = f.join(longest);
  CHECK(ok.code == Code::ok);
  CHECK(f.state().user_count() == 1);
}

TEST_CASE("Admission: at most activeLimit active, the rest wait in first-come order") {
  EngineFixture f(queue_config(2, 3600));
  std::vector<Result> joined;
  for (const char* u : {"u1", "u2", "u3", "u4", "u5"}) {
    joined.push_back(f.join(u));
    f.advance(1);
  }
  CHECK(joined[0].token.status == TokenStatus::active);
  CHECK(joined[1].token.status == TokenStatus::active);
  for (size_t i = 2; i < 5; i++) {
    CHECK(joined[i].token.status == TokenStatus::waiting);
    CHECK(joined[i].token.position == i - 1);
  }
  CHECK(f.state().active_count() == 2);
  CHECK(f.state().waiting_count() == 3);

  // u1 leaves at t: u3, the head of the line, is admitted at t.
  f.now = t0 + 10 * sec;
  CHECK(f.run(LeaveQueue{joined[0].token.token}).code == Code::ok);
  CHECK(f.last_types() ==
        std::vector<EventType>{EventType::token_expired, EventType::token_activated});
  CHECK(f.last<TokenActivated>(1).token == joined[2].token.token);
  CHECK(f.last<TokenActivated>(1).expires_ms == t0 + 10 * sec + 600 * sec);
  CHECK(f.poll(joined[3].token.token).token.position == 1);
  CHECK(f.poll(joined[4].token.token).token.position == 2);
}

TEST_CASE("Position is a rank: it shifts when someone ahead leaves or is dropped") {
  EngineFixture f(queue_config(1, 120));
  f.join_active("a");
  const TokenId b = f.join_waiting("b");
  const TokenId c = f.join_waiting("c");
  const TokenId d = f.join_waiting("d");
  const TokenId e = f.join_waiting("e");
  CHECK(f.poll(e).token.position == 4);

  f.now = t0 + 60 * sec;
  CHECK(f.run(LeaveQueue{c}).code == Code::ok);
  CHECK(f.poll(b).token.position == 1);
  CHECK(f.poll(d).token.position == 2);
  CHECK(f.poll(e).token.position == 3);

  // b and e keep polling; d stops, and is dropped at t0+60s+120s.
  f.now = t0 + 150 * sec;
  CHECK(f.poll(b).token.position == 1);
  CHECK(f.poll(e).token.position == 3);
  f.now = t0 + 180 * sec - 1;
  CHECK(f.poll(e).token.position == 3);
  f.now = t0 + 180 * sec;
  const Result at_drop = f.poll(e);
  CHECK(f.last_types() == std::vector<EventType>{EventType::token_expired});
  CHECK(f.last<TokenExpired>(0).token == d);
  CHECK(f.last<TokenExpired>(0).reason == TokenEnd::idle);
  CHECK(f.last_time(0) == t0 + 180 * sec);
  CHECK(at_drop.token.position == 2);
  CHECK(f.poll(b).token.position == 1);
  CHECK(f.poll(d).code == Code::token_expired);
}

TEST_CASE("estimatedWaitSeconds with nothing measured: ceil(position x tokenTtl / activeLimit)") {
  Config c = queue_config(3, 3600);
  c.token_ttl_ms = 100 * sec;
  EngineFixture f(c);
  f.join_active("u1");
  f.join_active("u2");
  f.join_active("u3");
  CHECK(f.join("u4").token.estimated_wait_s == 34);  // ceil(100 / 3)
  CHECK(f.join("u5").token.estimated_wait_s == 67);  // ceil(200 / 3)
  CHECK(f.join("u6").token.estimated_wait_s == 100);
  CHECK(f.join("u7").token.estimated_wait_s == 134);
  CHECK(f.engine.estimated_wait_s(30) == 1000);
}

TEST_CASE("estimatedWaitSeconds from the promotions measured over the last 60 s") {
  EngineFixture f(queue_config(1, 3600));
  const TokenId a = f.join_active("a");  // admitted at join: not a promotion
  const TokenId b = f.join_waiting("b");
  const TokenId c = f.join_waiting("c");
  const TokenId d = f.join_waiting("d");
  const TokenId e = f.join_waiting("e");

  // One promotion (b) in a span of one second.
  f.now = t0 + 10 * sec;
  REQUIRE(f.run(LeaveQueue{a}).code == Code::ok);
  CHECK(f.poll(c).token.estimated_wait_s == 1);  // position 1 / (1 per 1 s)
  CHECK(f.poll(e).token.estimated_wait_s == 3);
  CHECK(f.poll(b).token.estimated_wait_s == 0);  // active

  // Two promotions over the 11 s since the first.
  f.now = t0 + 20 * sec;
  REQUIRE(f.run(LeaveQueue{b}).code == Code::ok);
  CHECK(f.poll(d).token.position == 1);
  CHECK(f.poll(d).token.estimated_wait_s == 6);   // ceil(1 x 11 / 2)
  CHECK(f.poll(e).token.estimated_wait_s == 11);  // ceil(2 x 11 / 2)

  // At t0+79 s the window (t - 60 s, t] holds c's promotion only (second 20).
  f.now = t0 + 79 * sec + 999;
  CHECK(f.poll(d).token.estimated_wait_s == 60);
  CHECK(f.poll(e).token.estimated_wait_s == 120);
  // At t0+80 s it holds none: back to the prior, ceil(position x 600 / 1).
  f.now = t0 + 80 * sec;
  CHECK(f.poll(d).token.estimated_wait_s == 600);
  CHECK(f.poll(e).token.estimated_wait_s == 1200);
}

TEST_CASE("LeaveQueue: a waiting token leaves the line; an active one frees its slot") {
  EngineFixture f(queue_config(1, 3600));
  const TokenId a = f.join_active("a");
  const TokenId b = f.join_waiting("b");
  const TokenId c = f.join_waiting("c");

  f.now = t0 + 5 * sec;
  const Result left = f.run(LeaveQueue{b});
  CHECK(left.code == Code::ok);
  CHECK(f.last_types() == std::vector<EventType>{EventType::token_expired});
  CHECK(f.last<TokenExpired>(0).token == b);
  CHECK(f.last<TokenExpired>(0).reason == TokenEnd::left);
  CHECK(f.poll(c).token.position == 1);
  CHECK(f.poll(b).code == Code::token_expired);
  const Result back = f.join("b");
  CHECK(back.created);
  CHECK(back.token.token == TokenId{4});
  CHECK(back.token.position == 2);

  f.now = t0 + 6 * sec;
  CHECK(f.run(LeaveQueue{a}).code == Code::ok);
  CHECK(f.last_types() ==
        std::vector<EventType>{EventType::token_expired, EventType::token_activated});
  CHECK(f.last<TokenExpired>(0).reason == TokenEnd::left);
  CHECK(f.last<TokenActivated>(1).token == c);
  CHECK(f.last<TokenActivated>(1).expires_ms == t0 + 6 * sec + 600 * sec);
  CHECK(f.poll(c).token.status == TokenStatus::active);
  CHECK(f.poll(back.token.token).token.position == 1);

  CHECK(f.run(LeaveQueue{a}).code == Code::token_expired);
  CHECK(f.run(LeaveQueue{TokenId{99}}).code == Code::unauthorized);
  CHECK(f.run(LeaveQueue{TokenId::none}).code == Code::unauthorized);
  CHECK(f.last_events().empty());
}

TEST_CASE("A payment uses the token up and admits the next in line at that instant") {
  EngineFixture f(queue_config(1, 3600));
  const Day d = day("2027-02-01");
  const ConcertId gala = f.create_concert({{d, 5, 1000}});
  const TokenId a = f.join_active("a");
  const TokenId b = f.join_waiting("b");
  f.charge(a, 1000);
  const ReservationId r = f.hold(a, gala, d, 1);

  f.now = t0 + 30 * sec;
  const Result paid = f.try_pay(a, r);
  CHECK(paid.code == Code::ok);
  CHECK(f.last_types() == std::vector<EventType>{EventType::payment_completed,
                                                 EventType::token_expired,
                                                 EventType::token_activated});
  CHECK(f.last<TokenExpired>(1).token == a);
  CHECK(f.last<TokenExpired>(1).reason == TokenEnd::used);
  CHECK(f.last<TokenActivated>(2).token == b);
  CHECK(f.last<TokenActivated>(2).expires_ms == t0 + 30 * sec + 600 * sec);
  for (size_t i = 0; i < 3; i++) CHECK(f.last_time(i) == t0 + 30 * sec);

  CHECK(f.poll(a).code == Code::token_expired);
  CHECK(f.run(GetBalance{a}).code == Code::token_expired);
  CHECK(f.token(a).end == TokenEnd::used);
  const Result again = f.join("a");
  CHECK(again.created);
  CHECK(again.token.status == TokenStatus::waiting);
  CHECK(again.token.position == 1);
}

// One command of every authenticated kind, presenting `token`.
std::vector<CommandBody> authenticated_commands(TokenId token, Day d) {
  return {
      PollToken{token},
      LeaveQueue{token},
      GetDates{.token = token, .concert = ConcertId{1}},
      GetSeats{.token = token, .concert = ConcertId{1}, .day = d},
      HoldSeat{.token = token, .concert = ConcertId{1}, .day = d, .seat = 1, .key = {}},
      ListReservations{token},
      GetReservation{.token = token, .reservation = ReservationId{1}},
      CancelReservation{.token = token, .reservation = ReservationId{1}},
      GetBalance{token},
      ChargeBalance{.token = token, .amount = 100, .key = {}},
      Pay{.token = token, .reservation = ReservationId{1}, .key = {}},
      ListPayments{.token = token},
      Refund{.token = token, .reservation = ReservationId{1}, .reason = {}, .key = {}},
      RejectAfterAuth{.token = token, .need = TokenNeed::live, .code = Code::invalid_request},
  };
}

bool needs_active(const CommandBody& body) {
  return std::holds_alternative<GetDates>(body) || std::holds_alternative<GetSeats>(body) ||
         std::holds_alternative<HoldSeat>(body) || std::holds_alternative<Pay>(body);
}

TEST_CASE("401 for an unknown token, 401 TOKEN_EXPIRED for an expired one, on every request") {
  EngineFixture f(queue_config(1, 3600));
  const Day d = day("2027-02-01");
  f.create_concert({{d, 5, 1000}});
  const TokenId a = f.join_active("a");
  REQUIRE(f.run(LeaveQueue{a}).code == Code::ok);
  for (const TokenId unknown : {TokenId::none, TokenId{2}, TokenId{~0ULL}}) {
    for (const CommandBody& body : authenticated_commands(unknown, d)) {
      CAPTURE(body.index());
      CHECK(f.run(body).code == Code::unauthorized);
      CHECK(f.last_events().empty());
    }
  }
  for (const CommandBody& body : authenticated_commands(a, d)) {
    CAPTURE(body.index());
    CHECK(f.run(body).code == Code::token_expired);
    CHECK(f.last_events().empty());
  }
}

TEST_CASE("403 TOKEN_NOT_ACTIVE with the position for a waiting token; live-only requests pass") {
  EngineFixture f(queue_config(1, 3600));
  const Day d = day("2027-02-01");
  f.create_concert({{d, 5, 1000}});
  f.join_active("a");
  f.join_waiting("b");
  const TokenId c = f.join_waiting("c");
  for (const CommandBody& body : authenticated_commands(c, d)) {
    if (std::holds_alternative<LeaveQueue>(body)) continue;
    CAPTURE(body.index());
    const Result r = f.run(body);
    if (needs_active(body)) {
      CHECK(r.code == Code::token_not_active);
      CHECK(r.token.token == c);
      CHECK(r.token.status == TokenStatus::waiting);
      CHECK(r.token.position == 2);
      CHECK(r.token.expires_ms == f.now + 3600 * sec);
    } else {
      CHECK(r.code != Code::unauthorized);
      CHECK(r.code != Code::token_expired);
      CHECK(r.code != Code::token_not_active);
    }
  }
  CHECK(f.run(GetBalance{c}).code == Code::ok);
  CHECK(f.run(ChargeBalance{.token = c, .amount = 100, .key = {}}).code == Code::ok);
  CHECK(f.run(ListReservations{c}).code == Code::ok);
  CHECK(f.run(GetReservation{.token = c, .reservation = ReservationId{1}}).code == Code::not_found);
}

TEST_CASE("RejectAfterAuth: authentication errors win over the request's own 400") {
  EngineFixture f(queue_config(1, 3600));
  const TokenId a = f.join_active("a");
  const TokenId b = f.join_waiting("b");
  const TokenId gone = f.join_waiting("gone");
  REQUIRE(f.run(LeaveQueue{gone}).code == Code::ok);
  const auto reject = [&](TokenId t, TokenNeed need, Code code = Code::invalid_request) {
    return f.run(RejectAfterAuth{.token = t, .need = need, .code = code});
  };
  CHECK(reject(TokenId{77}, TokenNeed::live).code == Code::unauthorized);
  CHECK(reject(gone, TokenNeed::live).code == Code::token_expired);
  const Result waiting = reject(b, TokenNeed::active);
  CHECK(waiting.code == Code::token_not_active);
  CHECK(waiting.token.position == 1);
  CHECK(reject(b, TokenNeed::live).code == Code::invalid_request);
  CHECK(reject(a, TokenNeed::active).code == Code::invalid_request);
  CHECK(reject(a, TokenNeed::live, Code::payload_too_large).code == Code::payload_too_large);
  CHECK(f.last_events().empty());
}

TEST_CASE("GetDates and GetSeats: unknown concert, date or path seat is 404") {
  EngineFixture f;
  const Day d = day("2027-02-01");
  const ConcertId gala = f.create_concert({{d, 5, 1000}});
  const TokenId a = f.join_active("a");
  const Result dates = f.run(GetDates{.token = a, .concert = gala});
  CHECK(dates.code == Code::ok);
  CHECK(dates.concert == gala);
  CHECK(f.run(GetDates{.token = a, .concert = ConcertId{2}}).code == Code::not_found);
  CHECK(f.run(GetDates{.token = a, .concert = ConcertId::none}).code == Code::not_found);

  const auto seats = [&](ConcertId c, Day dd, uint32_t seat, bool one) {
    return f.run(GetSeats{.token = a, .concert = c, .day = dd, .seat = seat, .one_seat = one});
  };
  const Result map = seats(gala, d, 0, false);
  CHECK(map.code == Code::ok);
  CHECK(map.concert == gala);
  CHECK(map.date == f.state().find_date(gala, d).value());
  CHECK(seats(ConcertId{2}, d, 0, false).code == Code::not_found);
  CHECK(seats(gala, d + 1, 0, false).code == Code::not_found);
  CHECK(seats(gala, d - 1, 0, false).code == Code::not_found);
  CHECK(seats(gala, -1, 0, false).code == Code::not_found);
  CHECK(seats(gala, d, 0, true).code == Code::not_found);
  CHECK(seats(gala, d, 6, true).code == Code::not_found);
  CHECK(seats(gala, d, ~0U, true).code == Code::not_found);
  const Result one = seats(gala, d, 5, true);
  CHECK(one.code == Code::ok);
  CHECK(one.seat == 5);
  CHECK(seats(gala, d, 1, true).code == Code::ok);
  CHECK(f.run(ListConcerts{}).code == Code::ok);
  CHECK(f.last_events().empty());
}

TEST_CASE("A full line is 503 OVERLOADED; positions stay exact as token ids wrap the ring") {
  Config c = queue_config(1, 3600);
  c.queue_span_tokens = 4;
  EngineFixture f(c);
  std::vector<TokenId> line;  // waiting tokens, head first
  TokenId active = f.join_active("u0");
  int next_user = 1;
  const auto join_next = [&]() { return f.join("u" + std::to_string(next_user++)); };
  for (int i = 0; i < 4; i++) line.push_back(join_next().token.token);
  CHECK(f.state().waiting_count() == 4);
  const Result full = join_next();
  CHECK(full.code == Code::overloaded);
  CHECK(f.last_events().empty());
  CHECK_FALSE(f.state().find_user("u5").has_value());

  // Churn: the active token leaves, the head is admitted, someone joins.
  for (int round = 0; round < 40; round++) {
    f.advance(sec);
    REQUIRE(f.run(LeaveQueue{active}).code == Code::ok);
    active = line.front();
    line.erase(line.begin());
    CHECK(f.token(active).status == TokenStatus::active);
    const Result joined = join_next();
    REQUIRE(joined.code == Code::ok);
    line.push_back(joined.token.token);
    for (size_t i = 0; i < line.size(); i++) {
      CAPTURE(round);
      CHECK(f.poll(line[i]).token.position == i + 1);
    }
    CHECK(join_next().code == Code::overloaded);
  }
  // A waiting token in the middle leaves: the ones behind move up.
  REQUIRE(f.run(LeaveQueue{line[1]}).code == Code::ok);
  CHECK(f.poll(line[0]).token.position == 1);
  CHECK(f.poll(line[2]).token.position == 2);
  CHECK(f.poll(line[3]).token.position == 3);
}

TEST_CASE("A Tick with nothing due and the reads emit no events") {
  EngineFixture f;
  f.join_active("a");
  f.advance(sec);
  CHECK(f.run(Tick{}).code == Code::ok);
  CHECK(f.last_events().empty());
  CHECK(f.run(ListConcerts{}).code == Code::ok);
  CHECK(f.last_events().empty());
}

}  // namespace
}  // namespace boxoffice::test
