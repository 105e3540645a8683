// The scenario agents driven without a network: a scripted server answers,
// and the tests compare the request sequences the agents produce.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "bench/load/ledger.hpp"
#include "bench/load/scenarios.hpp"

namespace boxoffice::load {
namespace {

// Answers like a small, predictable server: odd seat numbers are free, even
// ones taken; every user is active at once; payments succeed.
class ScriptedServer {
 public:
  Response answer(const RequestSpec& spec) {
    body_.clear();
    switch (spec.kind) {
      case Kind::join:
      case Kind::poll:
        body_ = R"({"token":"tok","userId":"u","status":"active","position":0,)"
                R"("estimatedWaitSeconds":0,"expiresAt":"2090-01-01T00:10:00.000Z"})";
        return {spec.kind == Kind::join ? 201u : 200u, ErrorCode::none, body_};
      case Kind::hold: {
        const auto seat = spec.body.substr(spec.body.find("seatNumber") + 12);
        if (std::stoul(seat) % 2 == 0) return conflict();
        body_ = fmt::format(
            R"({{"reservationId":{},"status":"held","expiresAt":"2090-01-01T00:05:00.000Z"}})",
            next_id_++);
        return {201, ErrorCode::none, body_};
      }
      case Kind::dates:
        body_ =
            R"({"concertId":1,"dates":[{"date":"2090-01-01","availableSeats":0},)"
            R"({"date":"2090-01-02","availableSeats":2},{"date":"2090-01-03","availableSeats":0}]})";
        return {200, ErrorCode::none, body_};
      case Kind::seats:
        body_ =
            R"({"seats":[{"seatNumber":1,"status":"sold"},{"seatNumber":3,"status":"available"},)"
            R"({"seatNumber":5,"status":"available"}]})";
        return {200, ErrorCode::none, body_};
      case Kind::pay:
        return {201, ErrorCode::none, "{}"};
      default:
        return {200, ErrorCode::none, "{}"};
    }
  }

 private:
  Response conflict() {
    body_ = R"({"error":{"code":"SEAT_UNAVAILABLE","message":"taken"}})";
    return {409, ErrorCode::seat_unavailable, body_};
  }
  std::string body_;
  uint64_t next_id_ = 1;
};

struct Fixture {
  explicit Fixture(Options o) {
    plan.options = o;
    for (uint32_t i = 0; i < o.dates; ++i) plan.dates.push_back(concert_date(i));
    plan.picker = SeatPicker(o.dates, o.seats, o.zipf_exponent);
    context.plan = &plan;
    context.ledger = &ledger;
    session.user_id = "c1-u0";
  }
  Plan plan;
  Ledger ledger;
  ThreadContext context;
  UserSession session;
};

Options small_options() {
  Options o;
  o.dates = 3;
  o.seats = 100;
  o.holds_per_user = 4;
  return o;
}

// The first `steps` requests an agent sends, one line each.
std::vector<std::string> drive(Agent& agent, int steps) {
  ScriptedServer server;
  RequestSpec spec;
  std::vector<std::string> sent;
  int64_t now = 0;
  for (int i = 0; i < steps * 10 && static_cast<int>(sent.size()) < steps; ++i) {
    now += 1'000'000;
    const Step step = agent.next(now, spec);
    if (step.type == Step::done) break;
    if (step.type == Step::wait) {
      now = step.until_ns;
      continue;
    }
    sent.push_back(fmt::format("{} {} {} {}", kind_name(spec.kind), spec.target, spec.body,
                               spec.idempotency_key));
    agent.on_response(spec.kind, server.answer(spec), now);
  }
  return sent;
}

template <typename MakeAgent>
void check_seeded(MakeAgent make, int steps) {
  Fixture a(small_options());
  Fixture b(small_options());
  Fixture c(small_options());
  auto agent_a = make(a, 42);
  auto agent_b = make(b, 42);
  auto agent_c = make(c, 43);
  const auto sent_a = drive(*agent_a, steps);
  CHECK(sent_a.size() == static_cast<size_t>(steps));
  CHECK(sent_a == drive(*agent_b, steps));
  CHECK(sent_a != drive(*agent_c, steps));
}

}  // namespace

TEST_CASE("hold-storm: same seed, same requests; another seed, others") {
  check_seeded(
      [](Fixture& f, uint64_t seed) {
        return std::make_unique<HoldStormAgent>(f.context, f.session, stream_seed(seed, 0));
      },
      200);
}

TEST_CASE("mixed: same seed, same requests; another seed, others") {
  check_seeded(
      [](Fixture& f, uint64_t seed) {
        return std::make_unique<MixedAgent>(f.context, f.session, stream_seed(seed, 0));
      },
      200);
}

TEST_CASE("purchase: same seed, same requests; another seed, others") {
  check_seeded(
      [](Fixture& f, uint64_t seed) {
        return std::make_unique<PurchaseAgent>(f.context, f.session, stream_seed(seed, 0), false,
                                               0);
      },
      200);
}

TEST_CASE("hold-storm joins first, holds up to the limit, then cancels the oldest") {
  Fixture f(small_options());
  HoldStormAgent agent(f.context, f.session, 1);
  const auto sent = drive(agent, 60);
  REQUIRE(sent.size() == 60);
  CHECK(sent[0].starts_with("join /v1/queue/tokens {\"userId\":\"c1-u0\"}"));
  // After the first four granted holds, each grant is followed by a cancel of the oldest.
  size_t granted = f.ledger.records().size();
  size_t cancelled = 0;
  for (const auto& r : f.ledger.records()) cancelled += r.state == HoldState::cancelled ? 1 : 0;
  CHECK(granted >= 8);
  CHECK(cancelled >= 4);
  CHECK(granted - cancelled >= 3);  // 4 live, or 3 between a cancel and the next grant
  CHECK(granted - cancelled <= 4);
  for (const auto& r : f.ledger.records()) CHECK(r.seat % 2 == 1);  // only odd seats are granted
}

TEST_CASE("purchase: a miss streak reads the dates and a seat map, then buys a free seat") {
  Options o = small_options();
  Fixture f(o);
  PurchaseAgent agent(f.context, f.session, 5, true, 0);
  const auto sent = drive(agent, 40);
  // one-shot: join, holds until one is granted, charge, pay with an idempotency key, done.
  REQUIRE(!sent.empty());
  CHECK(agent.purchases() == 1);
  CHECK(sent.back().starts_with("pay /v1/payments {\"reservationId\":1} pay-1"));
  CHECK(f.ledger.records().size() == 1);
  CHECK(f.ledger.records()[0].state == HoldState::paid);
  CHECK(f.session.token.empty());  // the payment used the token up
}

TEST_CASE("a 401 makes an agent join again; a 429 lowers its hold limit") {
  Fixture f(small_options());
  HoldStormAgent agent(f.context, f.session, 1);
  RequestSpec spec;
  ScriptedServer server;
  REQUIRE(agent.next(0, spec).type == Step::send);
  agent.on_response(spec.kind, server.answer(spec), 0);  // joined, active
  REQUIRE(agent.next(1, spec).type == Step::send);
  CHECK(spec.kind == Kind::hold);
  agent.on_response(Kind::hold, {401, ErrorCode::token_expired, ""}, 1);
  REQUIRE(agent.next(2, spec).type == Step::send);
  CHECK(spec.kind == Kind::join);
  agent.on_response(spec.kind, server.answer(spec), 2);
  REQUIRE(agent.next(3, spec).type == Step::send);
  CHECK(spec.kind == Kind::hold);
  agent.on_response(Kind::hold, {429, ErrorCode::hold_limit_reached, ""}, 3);
  CHECK(agent.next(4, spec).type == Step::done);  // no hold of its own to cancel: it stops
}

TEST_CASE("a waiting user polls at the poll interval until active") {
  Fixture f(small_options());
  f.plan.poll_interval_ns = 250'000'000;
  JoinAgent agent(f.context, f.session, true, 0);
  RequestSpec spec;
  REQUIRE(agent.next(0, spec).type == Step::send);
  CHECK(spec.kind == Kind::join);
  const std::string waiting =
      R"({"token":"abc","userId":"c1-u0","status":"waiting","position":3,"estimatedWaitSeconds":9,"expiresAt":"2090-01-01T00:00:00.000Z"})";
  agent.on_response(Kind::join, {201, ErrorCode::none, waiting}, 0);
  CHECK(f.session.token == "abc");
  CHECK(f.session.position == 3);
  const Step wait = agent.next(1, spec);
  REQUIRE(wait.type == Step::wait);
  CHECK(wait.until_ns == 250'000'000);
  REQUIRE(agent.next(250'000'000, spec).type == Step::send);
  CHECK(spec.kind == Kind::poll);
  CHECK(spec.bearer == "abc");
  const std::string active =
      R"({"token":"abc","userId":"c1-u0","status":"active","position":0,"estimatedWaitSeconds":0,"expiresAt":"2090-01-01T00:00:00.000Z"})";
  agent.on_response(Kind::poll, {200, ErrorCode::none, active}, 250'000'000);
  CHECK(f.session.active);
  CHECK(agent.next(250'000'001, spec).type == Step::done);
}

TEST_CASE("seat picker: uniform covers the range; Zipf favours the front rows") {
  SplitMix rng(9);
  SeatPicker uniform(2, 50, 0);
  std::map<uint32_t, int> dates;
  for (int i = 0; i < 10000; ++i) {
    const SeatChoice c = uniform.pick(rng);
    REQUIRE(c.date_index < 2);
    REQUIRE(c.seat >= 1);
    REQUIRE(c.seat <= 50);
    ++dates[c.date_index];
  }
  CHECK(dates[0] > 4500);
  CHECK(dates[1] > 4500);
  SeatPicker zipf(1, 1000, 1.2);
  std::vector<int> counts(1001);
  for (int i = 0; i < 100000; ++i) {
    const SeatChoice c = zipf.pick(rng);
    REQUIRE(c.seat >= 1);
    REQUIRE(c.seat <= 1000);
    ++counts[c.seat];
  }
  CHECK(counts[1] > counts[2]);
  CHECK(counts[2] > counts[10]);
  CHECK(counts[1] > 100000 / 5);  // P(1) = 1 / H(1000, 1.2), about 0.26
}

TEST_CASE("stream seeds differ by index and are fixed by the seed") {
  CHECK(stream_seed(1, 0) == stream_seed(1, 0));
  CHECK(stream_seed(1, 0) != stream_seed(1, 1));
  CHECK(stream_seed(1, 0) != stream_seed(2, 0));
}

TEST_CASE("concert dates and instants") {
  CHECK(concert_date(0) == "2090-01-01");
  CHECK(concert_date(31) == "2090-02-01");
  CHECK(concert_date(365) == "2091-01-01");
  CHECK(parse_instant_ms("1970-01-01T00:00:01.500Z") == 1500);
  CHECK(parse_instant_ms("2026-12-24T19:00:00.000Z") == 1798138800000);
  CHECK(parse_instant_ms("2026-12-24T19:00:00Z") == 1798138800000);
  CHECK(!parse_instant_ms("2026-12-24 19:00:00Z"));
  CHECK(!parse_instant_ms("2026-02-30T00:00:00.000Z"));
}

}  // namespace boxoffice::load
