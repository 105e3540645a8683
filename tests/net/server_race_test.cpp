// Many clients at once, a crash with writes in flight, and shutdown, against
// the real server.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/net/api_helpers.hpp"

namespace boxoffice::test {
namespace {

TEST_CASE("200 clients hold the same seat at once: exactly one 201") {
  ServerProcess server;
  constexpr int clients = 200;
  std::vector<std::unique_ptr<Api>> apis;
  std::vector<std::string> tokens;
  for (int i = 0; i < clients; i++) {
    apis.push_back(std::make_unique<Api>(server.port()));
    tokens.push_back(apis.back()->join("racer" + std::to_string(i)));
  }
  const std::string date = apis[0]->first_date(tokens[0]);
  std::barrier start(clients);
  std::vector<int> status(clients);
  std::vector<std::string> codes(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; i++) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      const Response r =
          apis[static_cast<size_t>(i)]->hold(tokens[static_cast<size_t>(i)], 1, date, 25);
      status[static_cast<size_t>(i)] = r.status;
      if (r.status != 201) codes[static_cast<size_t>(i)] = r.code();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(status.begin(), status.end(), 201) == 1);
  CHECK(std::count(status.begin(), status.end(), 409) == clients - 1);
  CHECK(std::count(codes.begin(), codes.end(), "SEAT_UNAVAILABLE") == clients - 1);
}

TEST_CASE("50 users race for 50 seats in random order: no seat is held twice") {
  ServerProcess server;
  constexpr int users = 50;
  std::vector<std::unique_ptr<Api>> apis;
  std::vector<std::string> tokens;
  for (int i = 0; i < users; i++) {
    apis.push_back(std::make_unique<Api>(server.port()));
    tokens.push_back(apis.back()->join("seeker" + std::to_string(i)));
  }
  const std::string date = apis[0]->first_date(tokens[0]);
  std::barrier start(users);
  std::mutex mutex;
  std::vector<int64_t> won_seats;
  std::vector<std::thread> threads;
  for (int i = 0; i < users; i++) {
    threads.emplace_back([&, i] {
      std::vector<int> seats(50);
      for (int s = 0; s < 50; s++) seats[static_cast<size_t>(s)] = s + 1;
      std::mt19937 rng(static_cast<uint32_t>(i));
      std::shuffle(seats.begin(), seats.end(), rng);
      start.arrive_and_wait();
      for (const int seat : seats) {
        const Response r =
            apis[static_cast<size_t>(i)]->hold(tokens[static_cast<size_t>(i)], 1, date, seat);
        if (r.status == 201) {
          std::lock_guard lock(mutex);
          won_seats.push_back(r.integer("seatNumber"));
        } else if (r.status == 429) {
          break;  // this user holds the maximum
        } else {
          CHECK(r.code() == "SEAT_UNAVAILABLE");
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::set<int64_t> distinct(won_seats.begin(), won_seats.end());
  CHECK(distinct.size() == won_seats.size());
  CHECK(won_seats.size() == 50);  // 50 users x 4 holds max: every seat goes
  const Response map = apis[0]->get("/v1/concerts/1/dates/" + date + "/seats", tokens[0]);
  int held = 0;
  for (int s = 0; s < 50; s++) held += map.text("seats/" + std::to_string(s) + "/status") == "held";
  CHECK(held == 50);
  // Every user's reservations, together, name each seat once.
  std::set<int64_t> listed;
  size_t count = 0;
  for (int i = 0; i < users; i++) {
    const Response r =
        apis[static_cast<size_t>(i)]->get("/v1/reservations", tokens[static_cast<size_t>(i)]);
    for (auto res : r.json("reservations").get_array()) {
      listed.insert(int64_t(res["seatNumber"]));
      count++;
    }
  }
  CHECK(count == 50);
  CHECK(listed.size() == 50);
}

TEST_CASE("kill -9 with writes in flight: every answered write survives, tokens too") {
  ServerProcess server;  // --fsync on
  constexpr int writers = 8;
  std::vector<std::string> tokens;
  {
    Api api(server.port());
    for (int i = 0; i < writers; i++) tokens.push_back(api.join("crash" + std::to_string(i)));
  }
  const std::string date = Api(server.port()).first_date(tokens[0]);
  std::atomic<bool> go{true};
  std::vector<std::atomic<int64_t>> last_balance(writers);  // from answered charges
  std::vector<std::vector<int64_t>> held(writers);          // answered holds
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; i++) {
    threads.emplace_back([&, i] {
      try {
        Api api(server.port());
        int seat = 1 + i * 6;
        while (go.load()) {
          const Response c = api.charge(tokens[static_cast<size_t>(i)], 7);
          if (c.status != 200) break;
          last_balance[static_cast<size_t>(i)].store(c.integer("balance"));
          if (seat <= i * 6 + 4) {  // up to 4 holds each
            const Response h = api.hold(tokens[static_cast<size_t>(i)], 1, date, seat++);
            if (h.status == 201) held[static_cast<size_t>(i)].push_back(h.integer("reservationId"));
            if (h.status < 0) break;
          }
        }
      } catch (const std::exception&) {
        // the server died under us
      }
    });
  }
  poll_until([&] {
    return std::all_of(last_balance.begin(), last_balance.end(),
                       [](const std::atomic<int64_t>& b) { return b.load() >= 7 * 20; });
  });
  server.kill9();
  go.store(false);
  for (auto& t : threads) t.join();

  server.restart();
  Api api(server.port());
  for (int i = 0; i < writers; i++) {
    CAPTURE(i);
    const Response b =
        api.get("/v1/balance", tokens[static_cast<size_t>(i)]);  // the token outlived the crash
    REQUIRE(b.status == 200);
    CHECK(b.integer("balance") >= last_balance[static_cast<size_t>(i)].load());
    for (const int64_t id : held[static_cast<size_t>(i)]) {
      const Response r =
          api.get("/v1/reservations/" + std::to_string(id), tokens[static_cast<size_t>(i)]);
      CHECK(r.status == 200);
      CHECK(r.text("userId") == "crash" + std::to_string(i));
    }
  }
  CHECK(api.get("/healthz").integer("lastSeq") > 0);
}

TEST_CASE("SIGTERM: in-flight requests are answered, then a clean exit within 10 s") {
  ServerProcess server;
  std::atomic<bool> go{true};
  std::atomic<int> answered{0};
  std::atomic<int> broken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&, i] {
      try {
        Api api(server.port());
        const std::string token = api.join("term" + std::to_string(i));
        while (go.load()) {
          const Response r = api.charge(token, 1);
          if (r.status == 200) {
            answered++;
          } else {
            // After the stop a connection may end; nothing else is allowed.
            if (r.status != -1) broken++;
            break;
          }
        }
      } catch (const std::exception&) {
      }
    });
  }
  poll_until([&] { return answered.load() > 50; });
  const auto start = Clock::now();
  const int code = server.stop();
  go.store(false);
  for (auto& t : threads) t.join();
  CHECK(code == 0);
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  CHECK(broken.load() == 0);
}

TEST_CASE("a full ingress queue answers 503 OVERLOADED with Retry-After, and changes nothing") {
  ServerProcess server({"--ingress-queue-max", "16"});
  constexpr int connections = 64;
  std::vector<std::string> tokens;
  {
    Api api(server.port());
    for (int i = 0; i < connections; i++) tokens.push_back(api.join("busy" + std::to_string(i)));
  }
  int overloaded = 0;
  int64_t charged = 0;
  for (int round = 0; round < 20 && overloaded == 0; round++) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < connections; i++) {
      clients.push_back(std::make_unique<Client>(server.port()));
      std::string burst;
      const std::string body = R"({"amount":1})";
      for (int k = 0; k < 8; k++) {
        burst += "POST /v1/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                 tokens[static_cast<size_t>(i)] +
                 "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      }
      clients.back()->write_raw(burst);
    }
    for (auto& c : clients) {
      for (int k = 0; k < 8; k++) {
        const Response r = c->receive();
        if (r.status == 503) {
          overloaded++;
          CHECK(r.code() == "OVERLOADED");
          CHECK(r.headers.at("retry-after") == "1");
        } else {
          CHECK(r.status == 200);
          charged++;
        }
      }
    }
  }
  CHECK(overloaded > 0);
  // Only the answered charges happened.
  Api api(server.port());
  int64_t total = 0;
  for (const std::string& t : tokens) total += api.get("/v1/balance", t).integer("balance");
  CHECK(total == charged);
}

TEST_CASE("a restart loads the newest snapshot and replays the events after it") {
  ServerProcess server({"--snapshot-every-events", "1000", "--log-level", "info"});
  Api api(server.port());
  std::vector<std::string> tokens;
  for (int i = 0; i < 400; i++) tokens.push_back(api.join("snap" + std::to_string(i)));
  // The snapshotter's line: "snapshot at seq N (B bytes) in T ms".
  CHECK(poll_until([&] { return server.log().find(" bytes) in ") != std::string::npos; }));
  for (int i = 0; i < 10; i++) api.charge(tokens[static_cast<size_t>(i)], 100 + i);
  server.kill9();
  server.restart();
  // "recovered to seq N: snapshot at seq S, then K events replayed", S > 0.
  const std::string log = server.log();
  const size_t recovered = log.rfind("recovered to seq ");
  REQUIRE(recovered != std::string::npos);
  const std::string line = log.substr(recovered, log.find('\n', recovered) - recovered);
  CHECK(line.find(": snapshot at seq ") != std::string::npos);
  CHECK(line.find(": snapshot at seq 0,") == std::string::npos);
  CHECK(log.find("snapshot refused") == std::string::npos);
  Api again(server.port());
  for (int i = 0; i < 10; i++) {
    const Response r = again.get("/v1/balance", tokens[static_cast<size_t>(i)]);
    CHECK(r.status == 200);
    CHECK(r.integer("balance") == 100 + i);
  }
  CHECK(again.get("/v1/queue/tokens/current", tokens.back()).text("userId") == "snap399");
}

}  // namespace
}  // namespace boxoffice::test
