#include "net/render.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace boxoffice::net {
namespace {

// 2027-01-01T00:00:00.000Z
constexpr TimeMs t0 = 1798761600000;

TokenSecret test_secret() {
  TokenSecret s{};
  s[5] = 1;
  return s;
}

Config one_active() {
  Config c;
  c.active_limit = 1;
  return c;
}

// Requests through the real parser, engine and renderer.
struct Server {
  Engine engine{one_active()};
  RequestParser parser{test_secret(), std::string("k")};
  TokenCodec tokens{test_secret()};
  std::vector<Event> events;
  ParsedRequest parsed;
  Reply reply;
  TimeMs now = t0;

  const Reply& call(Method m, std::string_view target, std::string_view body = {},
                    std::string_view token = {}, std::optional<std::string_view> key = {}) {
    const std::string authorization = "Bearer " + std::string(token);
    HttpRequestView req;
    req.method = m;
    req.target = target;
    if (!token.empty()) req.authorization = authorization;
    req.idempotency_key = key;
    req.admin_key = "k";
    req.body = body;
    parser.parse(req, now, &parsed);
    if (parsed.kind == ParsedRequest::Kind::command) {
      const Result r = engine.execute(parsed.command, events);
      render_result(parsed, r, engine.state(), engine.now_ms(), tokens, &reply);
    } else {
      REQUIRE(parsed.kind == ParsedRequest::Kind::reply);
      render_rejection(parsed, &reply);
    }
    return reply;
  }

  std::string token_of(uint64_t id, std::string_view user) {
    std::string out;
    tokens.sign(TokenId{id}, user, out);
    return out;
  }
};

TEST_CASE("every status code and wire name of the error table") {
  const std::vector<std::tuple<Code, uint16_t, std::string_view>> table = {
      {Code::invalid_request, 400, "INVALID_REQUEST"},
      {Code::unauthorized, 401, "UNAUTHORIZED"},
      {Code::token_expired, 401, "TOKEN_EXPIRED"},
      {Code::insufficient_balance, 402, "INSUFFICIENT_BALANCE"},
      {Code::token_not_active, 403, "TOKEN_NOT_ACTIVE"},
      {Code::forbidden, 403, "FORBIDDEN"},
      {Code::not_found, 404, "NOT_FOUND"},
      {Code::method_not_allowed, 405, "METHOD_NOT_ALLOWED"},
      {Code::seat_unavailable, 409, "SEAT_UNAVAILABLE"},
      {Code::sales_closed, 409, "SALES_CLOSED"},
      {Code::reservation_not_payable, 409, "RESERVATION_NOT_PAYABLE"},
      {Code::not_cancellable, 409, "NOT_CANCELLABLE"},
      {Code::not_refundable, 409, "NOT_REFUNDABLE"},
      {Code::idempotency_key_reused, 409, "IDEMPOTENCY_KEY_REUSED"},
      {Code::payload_too_large, 413, "PAYLOAD_TOO_LARGE"},
      {Code::hold_limit_reached, 429, "HOLD_LIMIT_REACHED"},
      {Code::overloaded, 503, "OVERLOADED"},
  };
  for (const auto& [code, status, name] : table) {
    CHECK(http_status(code) == status);
    CHECK(code_name(code) == name);
    Reply r;
    render_error(code, "a \"quoted\"\nmessage", &r);
    CHECK(r.status == status);
    CHECK(r.body == "{\"error\":{\"code\":\"" + std::string(name) +
                        R"(","message":"a \"quoted\"\nmessage"}})");
    CHECK(r.retry_after == (status == 503));
    CHECK(r.www_authenticate == (status == 401));
  }
}

TEST_CASE("rejections: 404, 405 with Allow, 401, 403, 400") {
  Server s;
  Reply r = s.call(Method::get, "/v1/nope");
  CHECK(r.status == 404);
  CHECK(r.body == R"({"error":{"code":"NOT_FOUND","message":"no such route"}})");
  r = s.call(Method::other, "/v1/concerts");
  CHECK(r.status == 405);
  CHECK(r.allow == "GET");
  CHECK(r.body == R"({"error":{"code":"METHOD_NOT_ALLOWED","message":"allowed: GET"}})");
  r = s.call(Method::get, "/v1/balance");
  CHECK(r.status == 401);
  CHECK(r.www_authenticate);
  r = s.call(Method::post, "/v1/queue/tokens", R"({"userId": 1})");
  CHECK(r.status == 400);
  CHECK(r.body == R"({"error":{"code":"INVALID_REQUEST","message":"userId must be a string"}})");
}

TEST_CASE("a whole sale, rendered") {
  Server s;
  const std::string concert_body =
      R"({"title": "Gala \"Night\"\n", "dates": [{"date": "2027-03-02", "seats": 50, "price": 150000},
          {"date": "2027-03-01", "seats": 2, "price": 0},
          {"date": "2026-12-01", "seats": 1, "price": 5}]})";
  Reply r = s.call(Method::post, "/v1/admin/concerts", concert_body);
  CHECK(r.status == 201);
  const std::string concert =
      R"({"concertId":1,"title":"Gala \"Night\"\n","dates":["2026-12-01","2027-03-01","2027-03-02"]})";
  CHECK(r.body == concert);
  r = s.call(Method::get, "/v1/concerts");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"concerts":[)" + concert + "]}");

  // Tokens: alice is active at once, bob waits (one active slot).
  r = s.call(Method::post, "/v1/queue/tokens", R"({"userId": "alice"})");
  const std::string alice = s.token_of(1, "alice");
  CHECK(r.status == 201);
  CHECK(r.body == R"({"token":")" + alice +
                      R"(","userId":"alice","status":"active","position":0,)"
                      R"("estimatedWaitSeconds":0,"expiresAt":"2027-01-01T00:10:00.000Z"})");
  r = s.call(Method::post, "/v1/queue/tokens", R"({"userId": "alice"})");
  CHECK(r.status == 200);
  r = s.call(Method::post, "/v1/queue/tokens", R"({"userId": "bob"})");
  const std::string bob = s.token_of(2, "bob");
  CHECK(r.status == 201);
  CHECK(r.body == R"({"token":")" + bob +
                      R"(","userId":"bob","status":"waiting","position":1,)"
                      R"("estimatedWaitSeconds":600,"expiresAt":"2027-01-01T00:02:00.000Z"})");
  r = s.call(Method::get, "/v1/queue/tokens/current", {}, bob);
  CHECK(r.status == 200);
  r = s.call(Method::get, "/v1/concerts/1/dates", {}, bob);
  CHECK(r.status == 403);
  CHECK(r.body == R"({"error":{"code":"TOKEN_NOT_ACTIVE","message":"the token is waiting in line )"
                  R"(at position 1","position":1},"position":1})");
  // A malformed body is 403 first for a waiting token (auth before shape).
  r = s.call(Method::post, "/v1/reservations", "{", bob);
  CHECK(r.status == 403);

  r = s.call(Method::get, "/v1/concerts/1/dates", {}, alice);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"concertId":1,"dates":[)"
                  R"({"date":"2026-12-01","open":false,"totalSeats":1,"availableSeats":1},)"
                  R"({"date":"2027-03-01","open":true,"totalSeats":2,"availableSeats":2},)"
                  R"({"date":"2027-03-02","open":true,"totalSeats":50,"availableSeats":50}]})");
  r = s.call(Method::get, "/v1/concerts/1/dates/2027-03-01/seats", {}, alice);
  CHECK(r.body == R"({"concertId":1,"date":"2027-03-01","seats":[)"
                  R"({"seatNumber":1,"status":"available","price":0},)"
                  R"({"seatNumber":2,"status":"available","price":0}]})");
  r = s.call(Method::get, "/v1/concerts/1/dates/2027-03-01/seats/3", {}, alice);
  CHECK(r.status == 404);
  r = s.call(Method::get, "/v1/concerts/1/dates/2027-03-01/seats/x", {}, alice);
  CHECK(r.status == 404);
  r = s.call(Method::get, "/v1/concerts/2/dates", {}, alice);
  CHECK(r.status == 404);

  // A hold.
  s.now += 1500;
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2027-03-02", "seatNumber": 12, "userId": "bob"})", alice,
             "hold-1");
  CHECK(r.status == 201);
  const std::string held =
      R"({"reservationId":1,"userId":"alice","concertId":1,"date":"2027-03-02","seatNumber":12,)"
      R"("price":150000,"status":"held","createdAt":"2027-01-01T00:00:01.500Z",)"
      R"("expiresAt":"2027-01-01T00:05:01.500Z","paidAt":null,"cancelledAt":null,)"
      R"("refundedAt":null})";
  CHECK(r.body == held);
  r = s.call(Method::get, "/v1/concerts/1/dates/2027-03-02/seats/12", {}, alice);
  CHECK(r.body ==
        R"({"concertId":1,"date":"2027-03-02","seatNumber":12,"status":"held","price":150000})");
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2027-03-02", "seatNumber": 12})", alice);
  CHECK(r.status == 409);
  CHECK(r.body ==
        R"({"error":{"code":"SEAT_UNAVAILABLE","message":"seat 12 on 2027-03-02 is held"}})");
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2027-03-02", "seatNumber": 51})", alice);
  CHECK(r.status == 400);
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2026-12-01", "seatNumber": 1})", alice);
  CHECK(r.status == 409);
  CHECK(r.body.find("SALES_CLOSED") != std::string::npos);
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2027-03-02", "seatNumber": 13})", alice, "hold-1");
  CHECK(r.status == 409);
  CHECK(r.body.find("IDEMPOTENCY_KEY_REUSED") != std::string::npos);

  // Balance and a payment.
  r = s.call(Method::post, "/v1/payments", R"({"reservationId": 1})", alice);
  CHECK(r.status == 402);
  r = s.call(Method::post, "/v1/balance/charge", R"({"amount": 200000})", alice, "c1");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"userId":"alice","balance":200000})");
  r = s.call(Method::post, "/v1/balance/charge", R"({"amount": 5})", alice);
  CHECK(r.body == R"({"userId":"alice","balance":200005})");
  r = s.call(Method::post, "/v1/balance/charge", R"({"amount": 200000})", alice, "c1");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"userId":"alice","balance":200000})");  // as first answered
  r = s.call(Method::get, "/v1/balance", {}, alice);
  CHECK(r.body == R"({"userId":"alice","balance":200005})");

  s.now += 1000;
  r = s.call(Method::post, "/v1/payments", R"({"reservationId": 1, "amount": 150000})", alice,
             "pay-1");
  CHECK(r.status == 201);
  const std::string paid =
      R"({"paymentId":1,"reservationId":1,"amount":150000,"balance":50005,"status":"completed",)"
      R"("paidAt":"2027-01-01T00:00:02.500Z"})";
  CHECK(r.body == paid);
  // The token is used up; its retry still gets the first answer.
  r = s.call(Method::get, "/v1/balance", {}, alice);
  CHECK(r.status == 401);
  CHECK(r.body.find("TOKEN_EXPIRED") != std::string::npos);
  r = s.call(Method::post, "/v1/payments", R"({"reservationId": 1, "amount": 150000})", alice,
             "pay-1");
  CHECK(r.status == 201);
  CHECK(r.body == paid);

  // Bob was admitted; alice comes back with a new token.
  r = s.call(Method::get, "/v1/queue/tokens/current", {}, bob);
  CHECK(r.body.find(R"("status":"active","position":0,"estimatedWaitSeconds":0)") !=
        std::string::npos);
  r = s.call(Method::del, "/v1/queue/tokens/current", {}, bob);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  r = s.call(Method::post, "/v1/queue/tokens", R"({"userId": "alice"})");
  CHECK(r.status == 201);
  const std::string alice2 = s.token_of(3, "alice");

  r = s.call(Method::post, "/v1/refunds", R"({"reservationId": 1, "reason": "ill"})", alice2);
  CHECK(r.status == 201);
  CHECK(r.body == R"({"refundId":1,"reservationId":1,"amount":150000,"balance":200005,)"
                  R"("createdAt":"2027-01-01T00:00:02.500Z"})");
  r = s.call(Method::post, "/v1/refunds", R"({"reservationId": 1})", alice2);
  CHECK(r.status == 409);
  CHECK(r.body == R"({"error":{"code":"NOT_REFUNDABLE","message":"reservation 1 is refunded; )"
                  R"(only a paid reservation can be refunded, before its date begins"}})");
  r = s.call(Method::get, "/v1/payments", {}, alice2);
  CHECK(r.body == R"({"payments":[{"paymentId":1,"reservationId":1,"amount":150000,)"
                  R"("balance":50005,"status":"refunded","paidAt":"2027-01-01T00:00:02.500Z"}],)"
                  R"("page":1,"limit":20,"total":1})");
  r = s.call(Method::get, "/v1/payments?page=2&limit=1", {}, alice2);
  CHECK(r.body == R"({"payments":[],"page":2,"limit":1,"total":1})");
  r = s.call(Method::get, "/v1/payments?limit=101", {}, alice2);
  CHECK(r.status == 400);
  r = s.call(Method::get, "/v1/reservations/1", {}, alice2);
  CHECK(r.body.find(R"("status":"refunded")") != std::string::npos);
  CHECK(r.body.find(R"("paidAt":"2027-01-01T00:00:02.500Z","cancelledAt":null,)"
                    R"("refundedAt":"2027-01-01T00:00:02.500Z")") != std::string::npos);
  // The hold's replay shows the reservation as it was created.
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2027-03-02", "seatNumber": 12})", alice2, "hold-1");
  CHECK(r.status == 201);
  CHECK(r.body == held);

  // Cancel: a held reservation becomes cancelled; again is 409.
  r = s.call(Method::post, "/v1/reservations",
             R"({"concertId": 1, "date": "2027-03-01", "seatNumber": 2})", alice2);
  CHECK(r.status == 201);
  r = s.call(Method::del, "/v1/reservations/2", {}, alice2);
  CHECK(r.status == 200);
  CHECK(r.body.find(R"("status":"cancelled")") != std::string::npos);
  CHECK(r.body.find(R"("cancelledAt":"2027-01-01T00:00:02.500Z")") != std::string::npos);
  r = s.call(Method::del, "/v1/reservations/2", {}, alice2);
  CHECK(r.status == 409);
  CHECK(r.body.find("NOT_CANCELLABLE") != std::string::npos);
  r = s.call(Method::get, "/v1/reservations", {}, alice2);
  CHECK(r.body.rfind(R"({"reservations":[{"reservationId":2,)", 0) == 0);
  CHECK(r.body.find(R"({"reservationId":1,)") != std::string::npos);
  r = s.call(Method::get, "/v1/reservations/2", {}, bob);
  CHECK(r.status == 401);  // bob left the line
}

}  // namespace
}  // namespace boxoffice::net
