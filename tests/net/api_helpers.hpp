// Test support: the API's calls as one-liners over a Client.
#pragma once

#include "tests/net/server_fixture.hpp"

namespace boxoffice::test {

class Api {
 public:
  explicit Api(uint16_t port) : client_(port) {}

  Client& client() { return client_; }

  Response get(const std::string& target, const std::string& token = "") {
    return client_.request(http::verb::get, target, "", auth(token));
  }
  Response del(const std::string& target, const std::string& token = "") {
    return client_.request(http::verb::delete_, target, "", auth(token));
  }
  Response post(const std::string& target, const std::string& body, const std::string& token = "",
                const std::string& key = "") {
    Client::Headers h = auth(token);
    if (!key.empty()) h.emplace_back("Idempotency-Key", key);
    return client_.request(http::verb::post, target, body, h);
  }

  // A token for `user` (asserting 200 or 201).
  std::string join(const std::string& user) {
    const Response r = post("/v1/queue/tokens", R"({"userId":")" + user + R"("})");
    REQUIRE_MESSAGE((r.status == 201 || r.status == 200), r.body);
    return r.text("token");
  }
  Response hold(const std::string& token, int64_t concert, const std::string& date, int64_t seat,
                const std::string& key = "") {
    return post("/v1/reservations",
                R"({"concertId":)" + std::to_string(concert) + R"(,"date":")" + date +
                    R"(","seatNumber":)" + std::to_string(seat) + "}",
                token, key);
  }
  Response charge(const std::string& token, int64_t amount, const std::string& key = "") {
    return post("/v1/balance/charge", R"({"amount":)" + std::to_string(amount) + "}", token, key);
  }
  Response pay(const std::string& token, int64_t reservation, const std::string& key = "") {
    return post("/v1/payments", R"({"reservationId":)" + std::to_string(reservation) + "}", token,
                key);
  }
  Response refund(const std::string& token, int64_t reservation, const std::string& key = "") {
    return post("/v1/refunds", R"({"reservationId":)" + std::to_string(reservation) + "}", token,
                key);
  }
  // The demo concert's first date.
  std::string first_date(const std::string& token, int64_t concert = 1) {
    const Response r = get("/v1/concerts/" + std::to_string(concert) + "/dates", token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.text("dates/0/date");
  }

 private:
  static Client::Headers auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }
  Client client_;
};

}  // namespace boxoffice::test
