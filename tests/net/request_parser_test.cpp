#include "net/request_parser.hpp"

#include <doctest/doctest.h>

#include <string>

#include "engine/civil_date.hpp"

namespace boxoffice::net {
namespace {

TokenSecret test_secret() {
  TokenSecret s{};
  s[0] = 9;
  return s;
}

struct Fixture {
  RequestParser parser{test_secret(), std::string("admin-secret")};
  RequestParser no_admin{test_secret(), std::nullopt};
  std::string token;
  ParsedRequest out;

  Fixture() { parser.tokens().sign(TokenId{17}, "alice", token); }

  std::string bearer() const { return "Bearer " + token; }

  const ParsedRequest& run(Method m, std::string_view target, std::string_view body = {},
                           bool auth = true, std::optional<std::string_view> key = std::nullopt) {
    const std::string authorization = bearer();
    HttpRequestView req;
    req.method = m;
    req.target = target;
    if (auth) req.authorization = authorization;
    req.idempotency_key = key;
    req.body = body;
    parser.parse(req, 1234, &out);
    return out;
  }

  // A malformed body on an authenticated route: refused after the token check.
  void expect_reject_after_auth(TokenNeed need) {
    CHECK(out.kind == ParsedRequest::Kind::command);
    CHECK(out.code == Code::invalid_request);
    const auto* r = std::get_if<RejectAfterAuth>(&out.command.body);
    REQUIRE(r != nullptr);
    CHECK(raw(r->token) == 17);
    CHECK(r->need == need);
    CHECK(r->code == Code::invalid_request);
    CHECK_FALSE(out.detail().empty());
  }
  void expect_reply(Code code) {
    CHECK(out.kind == ParsedRequest::Kind::reply);
    CHECK(out.code == code);
    CHECK_FALSE(out.detail().empty());
  }
};

TEST_CASE_FIXTURE(Fixture, "routing errors come first: 404 and 405 without any other check") {
  run(Method::get, "/v1/nope", "{", false);
  expect_reply(Code::not_found);
  CHECK_FALSE(out.routed);
  run(Method::del, "/v1/balance", "{", false);
  expect_reply(Code::method_not_allowed);
  CHECK(out.allow == "GET");
}

TEST_CASE_FIXTURE(Fixture, "operations endpoints need no token") {
  run(Method::get, "/healthz", {}, false);
  CHECK(out.kind == ParsedRequest::Kind::healthz);
  run(Method::get, "/metrics", {}, false);
  CHECK(out.kind == ParsedRequest::Kind::metrics);
}

TEST_CASE_FIXTURE(Fixture, "joining the queue") {
  run(Method::post, "/v1/queue/tokens", R"({"userId": "alice", "extra": [1, {"a": null}]})", false);
  REQUIRE(out.kind == ParsedRequest::Kind::command);
  CHECK(out.command.time_ms == 1234);
  CHECK(std::get<JoinQueue>(out.command.body).user.view() == "alice");

  // The charset is the core's to check; the length must fit.
  run(Method::post, "/v1/queue/tokens", R"({"userId": "bad name!"})", false);
  CHECK(out.kind == ParsedRequest::Kind::command);
  run(Method::post, "/v1/queue/tokens", R"({"userId": "\u0061lice"})", false);
  CHECK(std::get<JoinQueue>(out.command.body).user.view() == "alice");

  for (const std::string_view body :
       {"", "   ", "null", "[]", "\"alice\"", "{", "{}", R"({"userId": 5})", R"({"userId": null})",
        R"({"userId": ["a"]})", R"({"userId": "alice"} trailing)", R"({"userId": "alice"}{})",
        R"({"userId": "alice",})", R"({'userId': 'alice'})", R"({"userId": "alice", "x": tru})",
        R"({"userId": "alice", "x": [1, 2}})", "{\"userId\": \"al\xff\"}"}) {
    CAPTURE(body);
    run(Method::post, "/v1/queue/tokens", body, false);
    expect_reply(Code::invalid_request);
  }
  run(Method::post, "/v1/queue/tokens", "{\"userId\": \"" + std::string(65, 'a') + "\"}", false);
  expect_reply(Code::invalid_request);
  run(Method::post, "/v1/queue/tokens", "{\"userId\": \"" + std::string(64, 'a') + "\"}", false);
  CHECK(out.kind == ParsedRequest::Kind::command);
}

TEST_CASE_FIXTURE(Fixture, "JSON nested 20,000 levels deep is refused at the depth limit") {
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  run(Method::post, "/v1/queue/tokens", "{\"userId\":\"a\",\"x\":" + deep + "}", false);
  expect_reply(Code::invalid_request);
  run(Method::post, "/v1/queue/tokens", deep, false);
  expect_reply(Code::invalid_request);
}

TEST_CASE_FIXTURE(Fixture, "an unknown field may hold any JSON value; it must still be JSON") {
  // Numbers beyond int64 and double are valid JSON: nobody reads them here.
  for (const std::string_view value :
       {"99999999999999999999", "-9223372036854775809", "18446744073709551616", "1e309", "-1E-400",
        "0.5e+3", "-0", "123456789012345678901234567890.5", "true", "false", "null",
        R"("\u00e9\n")", "[]", "{}", R"([1, "a", {"b": [null, -2.5e10]}])", "[ 1 , 2 ]"}) {
    CAPTURE(value);
    run(Method::post, "/v1/queue/tokens",
        "{\"x\": " + std::string(value) + ", \"userId\": \"alice\", \"y\": " + std::string(value) +
            "}",
        false);
    REQUIRE(out.kind == ParsedRequest::Kind::command);
    CHECK(std::get<JoinQueue>(out.command.body).user.view() == "alice");
  }
  for (const std::string_view value :
       {"01",          "1.",    ".5",   "+1",       "1e",       "1e+",         "-",     "--1",
        "0x10",        "1_000", "NaN",  "Infinity", "tru",      "nul",         "nulll", R"("\x")",
        R"("\ud800")", R"("a)", "[1,]", "[1 2]",    R"({"a"})", R"({"a":1,})", "{1:2}"}) {
    CAPTURE(value);
    run(Method::post, "/v1/queue/tokens",
        "{\"userId\": \"alice\", \"x\": " + std::string(value) + "}", false);
    expect_reply(Code::invalid_request);
  }
  // 1000 levels of arrays and objects in all, the body included; not 1001.
  const auto nested = [](size_t levels) {
    return "{\"userId\": \"alice\", \"x\": " + std::string(levels - 1, '[') +
           std::string(levels - 1, ']') + "}";
  };
  run(Method::post, "/v1/queue/tokens", nested(json_depth_max), false);
  CHECK(out.kind == ParsedRequest::Kind::command);
  run(Method::post, "/v1/queue/tokens", nested(json_depth_max + 1), false);
  expect_reply(Code::invalid_request);
  // The same rules inside a new concert's dates.
  const std::string_view admin_body =
      R"({"title": "t", "dates": [{"date": "2027-01-02", "seats": 10, "price": 5, "n": 1e999}]})";
  HttpRequestView req;
  req.method = Method::post;
  req.target = "/v1/admin/concerts";
  req.admin_key = "admin-secret";
  req.body = admin_body;
  parser.parse(req, 1234, &out);
  CHECK(out.kind == ParsedRequest::Kind::command);
  req.body =
      R"({"title": "t", "dates": [{"date": "2027-01-02", "seats": 10, "price": 5, "n": 01}]})";
  parser.parse(req, 1234, &out);
  expect_reply(Code::invalid_request);
}

TEST_CASE_FIXTURE(Fixture, "authentication: missing, malformed and forged tokens are 401 at once") {
  run(Method::get, "/v1/balance", {}, false);
  expect_reply(Code::unauthorized);

  HttpRequestView req;
  req.method = Method::post;
  req.target = "/v1/reservations";
  req.body = "{malformed";  // 401 beats 400
  for (const std::string_view auth : {"", "Bearer", "Bearer ", "Basic abc", "Token x", "bearer"}) {
    req.authorization = auth;
    parser.parse(req, 0, &out);
    expect_reply(Code::unauthorized);
  }
  const std::string forged = "Bearer " + token.substr(0, token.size() - 2) + "AA";
  req.authorization = forged;
  parser.parse(req, 0, &out);
  expect_reply(Code::unauthorized);

  // The scheme is case-insensitive.
  const std::string lower = "bearer " + token;
  req.authorization = lower;
  req.method = Method::get;
  req.target = "/v1/balance";
  parser.parse(req, 0, &out);
  REQUIRE(out.kind == ParsedRequest::Kind::command);
  CHECK(raw(std::get<GetBalance>(out.command.body).token) == 17);
}

TEST_CASE_FIXTURE(Fixture, "reads with path parameters; unparseable ones name nothing") {
  run(Method::get, "/v1/concerts/3/dates/2026-12-24/seats/12");
  GetSeats s = std::get<GetSeats>(out.command.body);
  CHECK(raw(s.concert) == 3);
  CHECK(s.day == *parse_day("2026-12-24"));
  CHECK(s.seat == 12);
  CHECK(s.one_seat);

  run(Method::get, "/v1/concerts/x/dates/2026-02-30/seats/0");
  s = std::get<GetSeats>(out.command.body);
  CHECK(raw(s.concert) == 0);
  CHECK(s.day == -1);
  CHECK(s.seat == 0);
  CHECK(s.one_seat);

  run(Method::get, "/v1/concerts/99999999999/dates/2026-12-24/seats");
  s = std::get<GetSeats>(out.command.body);
  CHECK(raw(s.concert) == 0);
  CHECK_FALSE(s.one_seat);

  run(Method::get, "/v1/concerts/-1/dates");
  CHECK(raw(std::get<GetDates>(out.command.body).concert) == 0);
  // Leading zeros count toward the 19 digits.
  run(Method::get, "/v1/concerts/0000000000000000003/dates");
  CHECK(raw(std::get<GetDates>(out.command.body).concert) == 3);
  run(Method::get, "/v1/concerts/00000000000000000003/dates");
  CHECK(raw(std::get<GetDates>(out.command.body).concert) == 0);
  run(Method::get, "/v1/reservations/12");
  CHECK(raw(std::get<GetReservation>(out.command.body).reservation) == 12);
  run(Method::del, "/v1/reservations/1.5");
  CHECK(raw(std::get<CancelReservation>(out.command.body).reservation) == 0);
  run(Method::get, "/v1/queue/tokens/current");
  CHECK(raw(std::get<PollToken>(out.command.body).token) == 17);
  run(Method::del, "/v1/queue/tokens/current");
  CHECK(raw(std::get<LeaveQueue>(out.command.body).token) == 17);
  run(Method::get, "/v1/reservations");
  CHECK(std::holds_alternative<ListReservations>(out.command.body));
  run(Method::get, "/v1/concerts", {}, false);
  CHECK(std::holds_alternative<ListConcerts>(out.command.body));
}

TEST_CASE_FIXTURE(Fixture, "holding a seat") {
  run(Method::post, "/v1/reservations",
      R"({"userId": "mallory", "seatNumber": 12, "concertId": 1, "date": "2026-12-24"})", true,
      "key-1");
  REQUIRE(out.kind == ParsedRequest::Kind::command);
  const HoldSeat h = std::get<HoldSeat>(out.command.body);
  CHECK(raw(h.token) == 17);
  CHECK(raw(h.concert) == 1);
  CHECK(h.day == *parse_day("2026-12-24"));
  CHECK(h.seat == 12);
  CHECK(h.key.view() == "key-1");

  // A seat number above the date's seats is the core's 400 (it knows the
  // seats; below 1 is refused here, below); a concert id past 32 bits names
  // no concert (404).
  run(Method::post, "/v1/reservations",
      R"({"concertId": 1, "date": "2026-12-24", "seatNumber": 4000000000})");
  CHECK(std::get<HoldSeat>(out.command.body).seat == 4000000000);
  run(Method::post, "/v1/reservations",
      R"({"concertId": 5000000000, "date": "2026-12-24", "seatNumber": 1})");
  CHECK(raw(std::get<HoldSeat>(out.command.body).concert) == 0);

  for (const std::string_view body :
       {R"({"concertId": 1, "date": "2026-12-24"})", R"({"concertId": 1, "seatNumber": 1})",
        R"({"date": "2026-12-24", "seatNumber": 1})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": 1.0})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": 1e1})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": "1"})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": 99999999999999999999})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": 9223372036854775808})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": 0})",
        R"({"concertId": 1, "date": "2026-12-24", "seatNumber": -3})",
        R"({"concertId": 1, "date": "2026-13-01", "seatNumber": 1})",
        R"({"concertId": 1, "date": "24/12/2026", "seatNumber": 1})",
        R"({"concertId": 1, "date": 20261224, "seatNumber": 1})",
        R"({"concertId": 0, "date": "2026-12-24", "seatNumber": 1})",
        R"({"concertId": -1, "date": "2026-12-24", "seatNumber": 1})",
        R"({"concertId": true, "date": "2026-12-24", "seatNumber": 1})", "[1,2,3]", "{"}) {
    CAPTURE(body);
    run(Method::post, "/v1/reservations", body);
    expect_reject_after_auth(TokenNeed::active);
  }
}

TEST_CASE_FIXTURE(Fixture, "Idempotency-Key syntax") {
  const std::string body = R"({"amount": 100})";
  run(Method::post, "/v1/balance/charge", body, true, std::string(64, '~'));
  CHECK(std::get<ChargeBalance>(out.command.body).key.view() == std::string(64, '~'));
  for (const std::string_view key : {std::string_view(""), std::string_view("tab\there"),
                                     std::string_view("\x7f"), std::string_view("caf\xc3\xa9")}) {
    run(Method::post, "/v1/balance/charge", body, true, key);
    expect_reject_after_auth(TokenNeed::live);
  }
  const std::string too_long(65, 'k');
  run(Method::post, "/v1/balance/charge", body, true, too_long);
  expect_reject_after_auth(TokenNeed::live);
  // Ignored where the API takes no key.
  run(Method::get, "/v1/balance", {}, true, "");
  CHECK(std::holds_alternative<GetBalance>(out.command.body));
}

TEST_CASE_FIXTURE(Fixture, "charging, paying and refunding") {
  run(Method::post, "/v1/balance/charge", R"({"amount": -5})");
  CHECK(std::get<ChargeBalance>(out.command.body).amount == -5);  // the core's range
  for (const std::string_view body :
       {"{}", R"({"amount": "5"})", R"({"amount": 5.5})", R"({"amount": null})"}) {
    run(Method::post, "/v1/balance/charge", body);
    expect_reject_after_auth(TokenNeed::live);
  }

  run(Method::post, "/v1/payments", R"({"reservationId": 7})");
  Pay p = std::get<Pay>(out.command.body);
  CHECK(raw(p.reservation) == 7);
  CHECK_FALSE(p.amount_present);
  run(Method::post, "/v1/payments", R"({"reservationId": 7, "amount": 150000})");
  p = std::get<Pay>(out.command.body);
  CHECK(p.amount_present);
  CHECK(p.amount == 150000);
  for (const std::string_view body :
       {"{}", R"({"reservationId": "7"})", R"({"reservationId": 0})",
        R"({"reservationId": 7, "amount": 1.5})", R"({"reservationId": 7, "amount": "1"})",
        R"({"reservationId": 7, "amount": null})"}) {
    run(Method::post, "/v1/payments", body);
    expect_reject_after_auth(TokenNeed::active);
  }

  run(Method::post, "/v1/refunds", R"({"reservationId": 7, "reason": "sick \"cat\""})");
  const Refund& f = std::get<Refund>(out.command.body);
  CHECK(raw(f.reservation) == 7);
  CHECK(f.reason == "sick \"cat\"");
  run(Method::post, "/v1/refunds", R"({"reservationId": 7})");
  CHECK(std::get<Refund>(out.command.body).reason.empty());
  for (const std::string_view body :
       {"{}", R"({"reservationId": 7, "reason": 5})", R"({"reservationId": 7, "reason": null})",
        R"({"reservationId": -7})"}) {
    run(Method::post, "/v1/refunds", body);
    expect_reject_after_auth(TokenNeed::live);
  }
  run(Method::post, "/v1/refunds",
      "{\"reservationId\": 7, \"reason\": \"" + std::string(2001, 'r') + "\"}");
  expect_reject_after_auth(TokenNeed::live);
}

TEST_CASE_FIXTURE(Fixture, "payment history query") {
  run(Method::get, "/v1/payments");
  ListPayments l = std::get<ListPayments>(out.command.body);
  CHECK(l.page == 1);
  CHECK(l.limit == 20);
  run(Method::get, "/v1/payments?limit=5&page=2&userId=bob");
  l = std::get<ListPayments>(out.command.body);
  CHECK(l.page == 2);
  CHECK(l.limit == 5);
  run(Method::get, "/v1/payments?page=0&limit=101");
  l = std::get<ListPayments>(out.command.body);  // ranges: the core's
  CHECK(l.page == 0);
  run(Method::get, "/v1/payments?page=0000000000000000002");
  CHECK(std::get<ListPayments>(out.command.body).page == 2);
  run(Method::get, "/v1/payments?page=two");
  expect_reject_after_auth(TokenNeed::live);
  run(Method::get, "/v1/payments?page=00000000000000000002");
  expect_reject_after_auth(TokenNeed::live);
}

TEST_CASE_FIXTURE(Fixture, "admin: the key, then the body") {
  const std::string body =
      R"({"title": "Night \"Live\"", "dates": [{"date": "2026-12-25", "seats": 50, "price": 1000},
          {"date": "2026-12-24", "seats": 10, "price": 0, "note": "x"}]})";
  HttpRequestView req;
  req.method = Method::post;
  req.target = "/v1/admin/concerts";
  req.body = body;
  parser.parse(req, 0, &out);
  expect_reply(Code::forbidden);
  req.admin_key = "admin-secreT";
  parser.parse(req, 0, &out);
  expect_reply(Code::forbidden);
  req.admin_key = "admin-secret";
  no_admin.parse(req, 0, &out);
  expect_reply(Code::forbidden);

  parser.parse(req, 0, &out);
  REQUIRE(out.kind == ParsedRequest::Kind::command);
  const CreateConcert& c = std::get<CreateConcert>(out.command.body);
  CHECK(c.title == "Night \"Live\"");
  REQUIRE(c.dates.size() == 2);
  CHECK(c.dates[0].day == *parse_day("2026-12-25"));
  CHECK(c.dates[0].seats == 50);
  CHECK(c.dates[0].price == 1000);
  CHECK(c.dates[1].price == 0);

  for (const std::string_view bad :
       {R"({"dates": []})", R"({"title": "t"})", R"({"title": 5, "dates": []})",
        R"({"title": "t", "dates": {}})", R"({"title": "t", "dates": [5]})",
        R"({"title": "t", "dates": [{"date": "2026-12-24", "seats": 5}]})",
        R"({"title": "t", "dates": [{"date": "2026-12-24", "price": 5}]})",
        R"({"title": "t", "dates": [{"seats": 1, "price": 5}]})",
        R"({"title": "t", "dates": [{"date": "2026-12-32", "seats": 1, "price": 5}]})",
        R"({"title": "t", "dates": [{"date": "2026-12-24", "seats": 1.5, "price": 5}]})",
        R"({"title": "t", "dates": [{"date": "2026-12-24", "seats": 1, "price": 5, "x": [}]})"}) {
    CAPTURE(bad);
    req.body = bad;
    parser.parse(req, 0, &out);
    expect_reply(Code::invalid_request);
  }
  std::string many = R"({"title": "t", "dates": [)";
  for (int i = 0; i < 1001; i++) many += R"({"date": "2026-12-24", "seats": 1, "price": 5},)";
  many.back() = ']';
  many += "}";
  req.body = many;
  parser.parse(req, 0, &out);
  expect_reply(Code::invalid_request);
}

TEST_CASE_FIXTURE(Fixture, "a body over 64 KiB is 413 before anything else") {
  const std::string big(body_bytes_max + 1, ' ');
  run(Method::post, "/v1/reservations", big, false);
  expect_reply(Code::payload_too_large);
  const std::string fits = "{\"userId\": \"bob\"}" + std::string(body_bytes_max - 17, ' ');
  run(Method::post, "/v1/queue/tokens", fits, false);
  CHECK(out.kind == ParsedRequest::Kind::command);
}

TEST_CASE("bearer_token") {
  CHECK(bearer_token("Bearer abc") == "abc");
  CHECK(bearer_token("BEARER   abc  ") == "abc");
  CHECK_FALSE(bearer_token("Bearer    ").has_value());
  CHECK_FALSE(bearer_token("Bearerabc").has_value());
}

}  // namespace
}  // namespace boxoffice::net
