// The API end to end against the real server: every endpoint and the flows
// of docs/API.md.
#include <doctest/doctest.h>

#include "tests/net/api_helpers.hpp"

namespace boxoffice::test {
namespace {

const std::vector<std::string> admin = {"--admin-key", "sesame"};

TEST_CASE("operations endpoints, unknown routes and wrong methods") {
  ServerProcess server(admin);
  Api api(server.port());
  Response r = api.get("/healthz");
  CHECK(r.status == 200);
  CHECK(r.text("status") == "ok");
  CHECK(r.integer("lastSeq") >= 1);  // the demo concert
  CHECK(r.text("durability") == "fsync");
  CHECK(r.headers["content-type"] == "application/json");

  r = api.get("/v1/nothing");
  CHECK(r.status == 404);
  CHECK(r.code() == "NOT_FOUND");
  CHECK_FALSE(r.text("error/message").empty());
  const std::string token = api.join("ops");
  r = api.get("/v1/nothing", token);
  CHECK(r.status == 404);
  r = api.del("/v1/concerts", token);
  CHECK(r.status == 405);
  CHECK(r.code() == "METHOD_NOT_ALLOWED");
  CHECK(r.headers["allow"] == "GET");
  r = api.post("/v1/queue/tokens/current", "{}", token);
  CHECK(r.status == 405);
  CHECK(r.headers["allow"] == "GET, DELETE");

  api.get("/v1/concerts");
  r = api.get("/metrics");
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"].rfind("text/plain", 0) == 0);
  for (const char* family :
       {"boxoffice_http_requests_total{route=\"list_concerts\",status=\"200\"} 1",
        "boxoffice_http_request_duration_seconds_bucket", "boxoffice_ingress_queue_depth",
        "boxoffice_commit_batch_events_bucket", "boxoffice_commit_duration_seconds_bucket",
        "boxoffice_active_tokens 1", "boxoffice_queue_length 0", "boxoffice_holds_total",
        "boxoffice_seat_conflicts_total", "boxoffice_event_log_last_seq",
        "boxoffice_http_connections"}) {
    CAPTURE(family);
    CHECK(r.body.find(family) != std::string::npos);
  }
}

TEST_CASE("queue, hold, charge, pay: the token is used up and the next in line admitted") {
  ServerProcess server({"--active-limit", "1"});
  Api api(server.port());
  Response r = api.post("/v1/queue/tokens", R"({"userId":"alice"})");
  CHECK(r.status == 201);
  CHECK(r.text("userId") == "alice");
  CHECK(r.text("status") == "active");
  CHECK(r.integer("position") == 0);
  CHECK(r.integer("estimatedWaitSeconds") == 0);
  CHECK(r.text("expiresAt").size() == 24);
  const std::string alice = r.text("token");
  r = api.post("/v1/queue/tokens", R"({"userId":"alice"})");
  CHECK(r.status == 200);
  CHECK(r.text("token") == alice);

  r = api.post("/v1/queue/tokens", R"({"userId":"bob"})");
  CHECK(r.status == 201);
  CHECK(r.text("status") == "waiting");
  CHECK(r.integer("position") == 1);
  CHECK(r.integer("estimatedWaitSeconds") >= 0);
  const std::string bob = r.text("token");
  r = api.get("/v1/queue/tokens/current", bob);
  CHECK(r.status == 200);
  CHECK(r.integer("position") == 1);
  r = api.get("/v1/concerts/1/dates", bob);
  CHECK(r.status == 403);
  CHECK(r.code() == "TOKEN_NOT_ACTIVE");
  CHECK(r.integer("error/position") == 1);
  // A waiting token may still read its balance and reservations.
  CHECK(api.get("/v1/balance", bob).status == 200);

  r = api.get("/v1/concerts");
  CHECK(r.status == 200);
  CHECK(r.integer("concerts/0/concertId") == 1);
  CHECK(r.json("concerts/0/dates").get_array().size() == 3);
  const std::string date = api.first_date(alice);
  r = api.get("/v1/concerts/1/dates", alice);
  CHECK(r.json("dates/0/open").get_bool().value());
  CHECK(r.integer("dates/0/totalSeats") == 50);
  CHECK(r.integer("dates/0/availableSeats") == 50);
  r = api.get("/v1/concerts/1/dates/" + date + "/seats", alice);
  CHECK(r.status == 200);
  CHECK(r.json("seats").get_array().size() == 50);
  CHECK(r.text("seats/6/status") == "available");
  CHECK(r.integer("seats/6/seatNumber") == 7);

  r = api.hold(alice, 1, date, 7);
  REQUIRE(r.status == 201);
  const int64_t reservation = r.integer("reservationId");
  CHECK(r.text("status") == "held");
  CHECK(r.text("userId") == "alice");
  CHECK(r.integer("price") == 150000);
  CHECK(r.json("paidAt").is_null());
  r = api.get("/v1/concerts/1/dates/" + date + "/seats/7", alice);
  CHECK(r.text("status") == "held");

  r = api.pay(alice, reservation);
  CHECK(r.status == 402);
  CHECK(r.code() == "INSUFFICIENT_BALANCE");
  r = api.charge(alice, 200000);
  CHECK(r.status == 200);
  CHECK(r.integer("balance") == 200000);
  r = api.get("/v1/balance", alice);
  CHECK(r.integer("balance") == 200000);
  CHECK(r.text("userId") == "alice");

  r = api.pay(alice, reservation);
  REQUIRE(r.status == 201);
  CHECK(r.integer("amount") == 150000);
  CHECK(r.integer("balance") == 50000);
  CHECK(r.text("status") == "completed");
  CHECK(r.integer("reservationId") == reservation);
  r = api.get("/v1/concerts/1/dates/" + date + "/seats/7", bob);
  CHECK(r.status == 200);  // bob was admitted when alice's token was used up
  CHECK(r.text("status") == "sold");
  r = api.get("/v1/queue/tokens/current", bob);
  CHECK(r.text("status") == "active");
  r = api.get("/v1/balance", alice);
  CHECK(r.status == 401);
  CHECK(r.code() == "TOKEN_EXPIRED");
  CHECK(r.headers["www-authenticate"] == "Bearer");
  r = api.get("/v1/queue/tokens/current", alice);
  CHECK(r.status == 401);

  // Alice comes back: a new token at the back of the line.
  r = api.post("/v1/queue/tokens", R"({"userId":"alice"})");
  CHECK(r.status == 201);
  CHECK(r.text("token") != alice);
  CHECK(r.text("status") == "waiting");
  // Bob leaves: alice is admitted.
  r = api.del("/v1/queue/tokens/current", bob);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(api.get("/v1/queue/tokens/current", bob).status == 401);
  r = api.get("/v1/queue/tokens/current", api.join("alice"));
  CHECK(r.text("status") == "active");
}

TEST_CASE("a hold expires at its deadline and its seat is free again") {
  ServerProcess server({"--hold-ttl-seconds", "1"});
  Api api(server.port());
  const std::string token = api.join("carol");
  const std::string date = api.first_date(token);
  Response r = api.hold(token, 1, date, 3);
  REQUIRE(r.status == 201);
  const std::string id = std::to_string(r.integer("reservationId"));
  CHECK(poll_until(
      [&] { return api.get("/v1/reservations/" + id, token).text("status") == "expired"; },
      std::chrono::seconds(5)));
  r = api.get("/v1/concerts/1/dates/" + date + "/seats/3", token);
  CHECK(r.text("status") == "available");
  r = api.pay(token, std::stoll(id));
  CHECK(r.status == 409);
  CHECK(r.code() == "RESERVATION_NOT_PAYABLE");
  r = api.del("/v1/reservations/" + id, token);
  CHECK(r.status == 409);
  CHECK(r.code() == "NOT_CANCELLABLE");
}

TEST_CASE("cancel, refund, and the payment history") {
  ServerProcess server;
  Api api(server.port());
  std::string token = api.join("dave");
  const std::string date = api.first_date(token);
  api.charge(token, 1000000);

  Response r = api.hold(token, 1, date, 10);
  const int64_t held = r.integer("reservationId");
  r = api.del("/v1/reservations/" + std::to_string(held), token);
  CHECK(r.status == 200);
  CHECK(r.text("status") == "cancelled");
  CHECK_FALSE(r.json("cancelledAt").is_null());
  CHECK(api.get("/v1/concerts/1/dates/" + date + "/seats/10", token).text("status") == "available");
  r = api.refund(token, held);
  CHECK(r.status == 409);
  CHECK(r.code() == "NOT_REFUNDABLE");

  // Three payments (each uses its token up).
  std::vector<int64_t> paid;
  for (int seat = 20; seat < 23; seat++) {
    token = api.join("dave");
    r = api.hold(token, 1, date, seat);
    REQUIRE(r.status == 201);
    paid.push_back(r.integer("reservationId"));
    REQUIRE(api.pay(token, paid.back()).status == 201);
  }
  token = api.join("dave");
  r = api.get("/v1/payments", token);
  CHECK(r.status == 200);
  CHECK(r.integer("page") == 1);
  CHECK(r.integer("limit") == 20);
  CHECK(r.integer("total") == 3);
  CHECK(r.integer("payments/0/reservationId") == paid[2]);  // newest first
  r = api.get("/v1/payments?page=1&limit=2", token);
  CHECK(r.json("payments").get_array().size() == 2);
  r = api.get("/v1/payments?page=2&limit=2", token);
  CHECK(r.json("payments").get_array().size() == 1);
  CHECK(r.integer("payments/0/reservationId") == paid[0]);
  r = api.get("/v1/payments?page=9&limit=2", token);
  CHECK(r.status == 200);
  CHECK(r.json("payments").get_array().size() == 0);
  CHECK(r.integer("total") == 3);
  for (const char* bad : {"?page=0", "?limit=0", "?limit=101", "?page=x", "?limit=1.5"}) {
    CAPTURE(bad);
    r = api.get(std::string("/v1/payments") + bad, token);
    CHECK(r.status == 400);
    CHECK(r.code() == "INVALID_REQUEST");
  }

  // Refund one: the seat is released, the money comes back.
  const int64_t before = api.get("/v1/balance", token).integer("balance");
  r = api.refund(token, paid[1]);
  CHECK(r.status == 201);
  CHECK(r.integer("amount") == 150000);
  CHECK(r.integer("balance") == before + 150000);
  CHECK(r.integer("reservationId") == paid[1]);
  CHECK(api.get("/v1/concerts/1/dates/" + date + "/seats/21", token).text("status") == "available");
  CHECK(api.refund(token, paid[1]).status == 409);
  r = api.get("/v1/payments?limit=100", token);
  CHECK(r.text("payments/1/status") == "refunded");
  CHECK(r.text("payments/0/status") == "completed");
  r = api.get("/v1/reservations/" + std::to_string(paid[1]), token);
  CHECK(r.text("status") == "refunded");
  CHECK_FALSE(r.json("refundedAt").is_null());

  // A paid reservation may be cancelled (seat released), then refunded.
  r = api.del("/v1/reservations/" + std::to_string(paid[2]), token);
  CHECK(r.status == 200);
  CHECK(r.text("status") == "cancelled");
  CHECK(api.refund(token, paid[2]).status == 201);

  r = api.get("/v1/reservations", token);
  CHECK(r.json("reservations").get_array().size() == 4);
  CHECK(r.integer("reservations/0/reservationId") == paid[2]);
  // Another user's reservation is not found.
  const std::string eve = api.join("eve");
  CHECK(api.get("/v1/reservations/" + std::to_string(paid[0]), eve).status == 404);
  CHECK(api.del("/v1/reservations/" + std::to_string(paid[0]), eve).status == 404);
  CHECK(api.refund(eve, paid[0]).status == 404);
}

TEST_CASE("idempotent retries and key reuse") {
  ServerProcess server;
  Api api(server.port());
  const std::string token = api.join("frank");
  const std::string date = api.first_date(token);
  Response first = api.hold(token, 1, date, 5, "hold-key");
  CHECK(first.status == 201);
  Response again = api.hold(token, 1, date, 5, "hold-key");
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  Response other = api.hold(token, 1, date, 6, "hold-key");
  CHECK(other.status == 409);
  CHECK(other.code() == "IDEMPOTENCY_KEY_REUSED");
  CHECK(api.get("/v1/concerts/1/dates/" + date + "/seats/6", token).text("status") == "available");

  CHECK(api.charge(token, 300000, "charge-key").integer("balance") == 300000);
  CHECK(api.charge(token, 300000, "charge-key").integer("balance") == 300000);
  CHECK(api.get("/v1/balance", token).integer("balance") == 300000);
  CHECK(api.charge(token, 5, "charge-key").code() == "IDEMPOTENCY_KEY_REUSED");
  Response bad = api.charge(token, 5, std::string(65, 'k'));
  CHECK(bad.status == 400);
  CHECK(bad.code() == "INVALID_REQUEST");

  const int64_t id = first.integer("reservationId");
  Response paid = api.pay(token, id, "pay-key");
  CHECK(paid.status == 201);
  // The token is used up, but the retry gets the first answer.
  Response retry = api.pay(token, id, "pay-key");
  CHECK(retry.status == 201);
  CHECK(retry.body == paid.body);
}

TEST_CASE("admin: refused without a configured key, with a wrong or missing key") {
  {
    ServerProcess server;  // no --admin-key
    Api api(server.port());
    Response r = api.client().request(http::verb::post, "/v1/admin/concerts",
                                      R"({"title":"x","dates":[]})", {{"X-Admin-Key", ""}});
    CHECK(r.status == 403);
    CHECK(r.code() == "FORBIDDEN");
  }
  ServerProcess server(admin);
  Api api(server.port());
  const std::string body =
      R"({"title":"Winter Gala","dates":[{"date":"2031-01-02","seats":3,"price":1000},)"
      R"({"date":"2031-01-01","seats":2,"price":0},{"date":"2001-01-01","seats":1,"price":5}]})";
  Response r = api.post("/v1/admin/concerts", body);
  CHECK(r.status == 403);
  r = api.client().request(http::verb::post, "/v1/admin/concerts", body,
                           {{"X-Admin-Key", "wrong"}});
  CHECK(r.status == 403);
  r = api.client().request(http::verb::post, "/v1/admin/concerts", body,
                           {{"X-Admin-Key", "sesame"}});
  CHECK(r.status == 201);
  CHECK(r.integer("concertId") == 2);
  CHECK(r.text("title") == "Winter Gala");
  CHECK(r.text("dates/0") == "2001-01-01");
  CHECK(r.text("dates/2") == "2031-01-02");
  for (const char* invalid :
       {R"({"title":"","dates":[{"date":"2031-01-01","seats":1,"price":1}]})",
        R"({"title":"t","dates":[]})",
        R"({"title":"t","dates":[{"date":"2031-01-01","seats":0,"price":1}]})",
        R"({"title":"t","dates":[{"date":"2031-01-01","seats":1,"price":-1}]})",
        R"({"title":"t","dates":[{"date":"2031-01-01","seats":1,"price":1},)"
        R"({"date":"2031-01-01","seats":1,"price":1}]})",
        R"({"title":"t"})", "{"}) {
    CAPTURE(invalid);
    r = api.client().request(http::verb::post, "/v1/admin/concerts", invalid,
                             {{"X-Admin-Key", "sesame"}});
    CHECK(r.status == 400);
    CHECK(r.code() == "INVALID_REQUEST");
  }

  // The past date is listed closed and never on sale.
  const std::string token = api.join("gina");
  r = api.get("/v1/concerts/2/dates", token);
  CHECK_FALSE(r.json("dates/0/open").get_bool().value());
  CHECK(r.json("dates/1/open").get_bool().value());
  r = api.hold(token, 2, "2001-01-01", 1);
  CHECK(r.status == 409);
  CHECK(r.code() == "SALES_CLOSED");
}

TEST_CASE("authentication, shape and state errors, in the documented order") {
  ServerProcess server({"--holds-per-user-max", "2"});
  Api api(server.port());
  const std::string token = api.join("henry");
  const std::string date = api.first_date(token);

  Response r = api.get("/v1/balance");
  CHECK(r.status == 401);
  CHECK(r.code() == "UNAUTHORIZED");
  std::string forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  CHECK(api.get("/v1/balance", forged).code() == "UNAUTHORIZED");
  CHECK(api.get("/v1/balance", token.substr(0, token.size() - 1)).code() == "UNAUTHORIZED");
  // 401 before 400.
  CHECK(api.post("/v1/reservations", "{", forged).status == 401);
  // 400 for the shape, after auth.
  r = api.post("/v1/reservations", "{", token);
  CHECK(r.status == 400);
  CHECK(r.code() == "INVALID_REQUEST");
  r = api.post("/v1/reservations", R"({"concertId":1,"date":")" + date + R"(","seatNumber":"7"})",
               token);
  CHECK(r.status == 400);
  CHECK(api.post("/v1/queue/tokens", R"({"userId":"no spaces"})").status == 400);
  CHECK(api.post("/v1/queue/tokens", R"({"user":"x"})").status == 400);
  // Seat numbers: 400 in a body, 404 in a path.
  CHECK(api.hold(token, 1, date, 51).status == 400);
  CHECK(api.hold(token, 1, date, 0).status == 400);
  CHECK(api.get("/v1/concerts/1/dates/" + date + "/seats/51", token).status == 404);
  CHECK(api.get("/v1/concerts/1/dates/" + date + "/seats/abc", token).status == 404);
  CHECK(api.get("/v1/concerts/9/dates", token).status == 404);
  CHECK(api.get("/v1/concerts/1/dates/2099-01-01/seats", token).status == 404);
  CHECK(api.get("/v1/concerts/1/dates/not-a-date/seats", token).status == 404);
  CHECK(api.hold(token, 9, date, 1).status == 404);
  // A seat number below 1 is out of range for every date: 400 before the 404.
  CHECK(api.hold(token, 9, date, 0).status == 400);
  CHECK(api.hold(token, 1, "2099-01-01", -5).status == 400);
  CHECK(api.hold(token, 9, date, 51).status == 404);  // above: judged against the date
  CHECK(api.hold(token, 1, "2099-01-01", 1).status == 404);
  CHECK(api.hold(token, 1, "2099-02-30", 1).status == 400);
  CHECK(api.get("/v1/reservations/999", token).status == 404);
  CHECK(api.pay(token, 999).status == 404);

  // 409 and 429.
  CHECK(api.hold(token, 1, date, 1).status == 201);
  CHECK(api.hold(token, 1, date, 2).status == 201);
  r = api.hold(token, 1, date, 1);
  CHECK(r.status == 409);
  CHECK(r.code() == "SEAT_UNAVAILABLE");
  r = api.hold(token, 1, date, 3);
  CHECK(r.status == 429);
  CHECK(r.code() == "HOLD_LIMIT_REACHED");
  // 400 beats 409: malformed and conflicting.
  CHECK(api.post("/v1/reservations", R"({"concertId":1,"date":")" + date + R"(","seatNumber":1.0})",
                 token)
            .status == 400);

  // Charges: 1 to 10^9, a balance of at most 10^15.
  CHECK(api.charge(token, 0).status == 400);
  CHECK(api.charge(token, 1000000001).status == 400);
  CHECK(api.post("/v1/balance/charge", R"({"amount":99999999999999999999})", token).status == 400);
  CHECK(api.post("/v1/balance/charge", R"({"amount":1e3})", token).status == 400);
  CHECK(api.charge(token, 1000000000).status == 200);
  // A payment with the wrong amount.
  CHECK(api.post("/v1/payments", R"({"reservationId":1,"amount":1})", token).status == 400);
  // A body userId is ignored: the token names the user.
  r = api.post("/v1/balance/charge", R"({"amount":1,"userId":"someone-else"})", token);
  CHECK(r.text("userId") == "henry");
}

TEST_CASE("the demo catalog seeds an empty data directory only; --fsync off says so") {
  {
    ServerProcess server({"--demo-catalog", "off", "--fsync", "off"});
    Api api(server.port());
    const Response r = api.get("/v1/concerts");
    CHECK(r.json("concerts").get_array().size() == 0);
    const Response h = api.get("/healthz");
    CHECK(h.text("durability") == "none");
    CHECK(h.integer("lastSeq") == 0);
  }
  ServerProcess server;
  Api api(server.port());
  CHECK(api.get("/v1/concerts").json("concerts").get_array().size() == 1);
  CHECK(server.stop() == 0);
  server.restart();
  Api again(server.port());
  CHECK(again.get("/v1/concerts").json("concerts").get_array().size() == 1);
}

}  // namespace
}  // namespace boxoffice::test
