#include "tools/replay/replayer.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "engine/civil_date.hpp"
#include "engine/digest.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/snapshot.hpp"

namespace boxoffice::replay {
namespace {

constexpr TimeMs t0 = 1798761600000;  // 2027-01-01T00:00:00.000Z

// A log made by the real engine, with the digest after each event.
struct Log {
  std::vector<std::vector<uint8_t>> events;  // events[i] has sequence i + 1
  std::vector<uint64_t> digests;  // digests[i]: after event i + 1, when it ends a command
  std::vector<bool> ends_command;
  std::vector<TimeMs> times;
  std::vector<uint8_t> snapshot;
  uint64_t snapshot_seq = 0;

  EventSource source() const {
    return [this](uint64_t from, uint64_t to, const EventVisit& visit) -> std::string {
      for (uint64_t seq = from; seq <= to && seq <= events.size(); seq++) {
        if (!visit(seq, events[seq - 1])) break;
      }
      return "";
    };
  }
};

Log make_log() {
  Log log;
  Config config;
  config.active_limit = 1;
  Engine engine(config);
  std::vector<Event> out;
  TimeMs t = t0;
  const Day day = parse_day("2027-02-01").value();
  const auto run = [&](CommandBody body) {
    out.clear();
    const Result r = engine.execute(Command{t, std::move(body)}, out);
    for (const Event& e : out) {
      log.events.emplace_back();
      encode_event(e, log.events.back());
      log.times.push_back(e.time_ms);
    }
    log.digests.resize(log.events.size(), 0);
    log.ends_command.resize(log.events.size(), false);
    if (!log.events.empty()) {
      log.digests.back() = state_digest(engine.state());
      log.ends_command.back() = true;
    }
    return r;
  };
  run(CreateConcert{"Gala", {{day, 5, 1000}}});
  const Result alice = run(JoinQueue{UserName::from("alice")});
  const Result bob = run(JoinQueue{UserName::from("bob")});
  run(ChargeBalance{alice.token.token, 5000, {}});
  const Result hold = run(HoldSeat{alice.token.token, ConcertId{1}, day, 2, {}});
  log.snapshot_seq = engine.state().last_seq();
  SnapshotCodec::encode(engine.state(), log.snapshot);
  t += 1000;
  run(Pay{alice.token.token, hold.reservation, false, 0, {}});
  t += 1000;
  run(HoldSeat{bob.token.token, ConcertId{1}, day, 3, {}});
  t += 400 * 1000;
  run(Tick{});
  return log;
}

TEST_CASE("verify replays the whole log and compares with the snapshot") {
  const Log log = make_log();
  State state;
  const VerifyReport report =
      verify(log.source(), Until{}, SnapshotRef{log.snapshot_seq, log.snapshot}, 1, state);
  CHECK_FALSE(report.failure.has_value());
  CHECK(report.events == log.events.size());
  CHECK(report.last_seq == log.events.size());
  CHECK(report.digest == log.digests.back());
  CHECK(report.snapshot_compared);
}

TEST_CASE("verify --until SEQ and --until TIME give the state as it was then") {
  const Log log = make_log();
  for (uint64_t seq = 1; seq <= log.events.size(); seq++) {
    if (!log.ends_command[seq - 1]) continue;
    State state;
    Until until;
    until.seq = seq;
    const VerifyReport report = verify(log.source(), until, std::nullopt, 1, state);
    REQUIRE_FALSE(report.failure.has_value());
    CHECK(report.digest == log.digests[seq - 1]);
  }
  State state;
  Until until;
  until.time_ms = t0 + 1500;  // after the payment, before bob's hold
  const VerifyReport report = verify(log.source(), until, std::nullopt, 1, state);
  REQUIRE_FALSE(report.failure.has_value());
  CHECK(state.payment_count() == 1);
  CHECK(state.reservation_count() == 1);
}

TEST_CASE("verify names the first event it cannot decode") {
  Log log = make_log();
  log.events[4][0] = 0xee;  // an unknown type
  State state;
  const VerifyReport report = verify(log.source(), Until{}, std::nullopt, 1, state);
  REQUIRE(report.failure.has_value());
  CHECK(report.failure->find("event 5: cannot decode: unknown_type") == 0);
}

TEST_CASE("verify refuses a snapshot that does not match the log") {
  const Log log = make_log();
  State state;
  const VerifyReport report =
      verify(log.source(), Until{}, SnapshotRef{log.snapshot_seq - 1, log.snapshot}, 1, state);
  REQUIRE(report.failure.has_value());
  CHECK(report.failure->find("differs from the snapshot") != std::string::npos);
  std::vector<uint8_t> corrupt = log.snapshot;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  State other;
  const VerifyReport bad =
      verify(log.source(), Until{}, SnapshotRef{log.snapshot_seq, corrupt}, 1, other);
  REQUIRE(bad.failure.has_value());
  CHECK(bad.failure->find("snapshot " + std::to_string(log.snapshot_seq)) == 0);
}

TEST_CASE("audit shows one user's history, or one seat's") {
  const Log log = make_log();
  std::vector<std::string> lines;
  AuditFilter by_user;
  by_user.user = "bob";
  CHECK(audit(log.source(), Until{}, by_user, [&](const std::string& l) {
          lines.push_back(l);
        }).empty());
  // bob: created, token issued, activated (after alice paid), hold, hold expired
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].find("user_created") != std::string::npos);
  CHECK(lines[4].find("hold_expired") != std::string::npos);
  for (const auto& l : lines) CHECK(l.find("user=bob") != std::string::npos);

  lines.clear();
  AuditFilter by_seat;
  by_seat.concert = 1;
  by_seat.day = parse_day("2027-02-01").value();
  by_seat.seat = 2;
  CHECK(audit(log.source(), Until{}, by_seat, [&](const std::string& l) {
          lines.push_back(l);
        }).empty());
  REQUIRE(lines.size() == 2);  // alice's hold and payment
  CHECK(lines[0].find("seat_held") != std::string::npos);
  CHECK(lines[1].find("payment_completed") != std::string::npos);
}

TEST_CASE("dump prints one JSON line per event, from and until a sequence") {
  const Log log = make_log();
  std::vector<std::string> lines;
  Until until;
  until.seq = 6;
  CHECK(dump(log.source(), 3, until, [&](const std::string& l) { lines.push_back(l); }).empty());
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("{\"seq\":3,") == 0);
  CHECK(lines[3].find("{\"seq\":6,") == 0);
}

TEST_CASE("stats counts events by type and spans the log") {
  const Log log = make_log();
  Stats s;
  CHECK(stats(log.source(), &s).empty());
  CHECK(s.events == log.events.size());
  CHECK(s.first_seq == 1);
  CHECK(s.last_seq == log.events.size());
  CHECK(s.first_ms == log.times.front());
  CHECK(s.last_ms == log.times.back());
  CHECK(s.by_type["seat_held"] == 2);
  CHECK(s.by_type["hold_expired"] == 1);
}

}  // namespace
}  // namespace boxoffice::replay
