#include "tools/replay/event_format.hpp"

#include <doctest/doctest.h>

#include "engine/civil_date.hpp"
#include "engine/engine.hpp"

namespace boxoffice::replay {
namespace {

constexpr TimeMs t0 = 1798761600000;  // 2027-01-01T00:00:00.000Z

TEST_CASE("format_instant writes RFC 3339 UTC with milliseconds") {
  CHECK(format_instant(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_instant(t0) == "2027-01-01T00:00:00.000Z");
  CHECK(format_instant(t0 + 19 * 3600000 + 5 * 60000 + 7 * 1000 + 42) ==
        "2027-01-01T19:05:07.042Z");
}

TEST_CASE("parse_instant reads RFC 3339 and refuses anything else") {
  CHECK(parse_instant("2027-01-01T00:00:00Z") == t0);
  CHECK(parse_instant("2027-01-01T00:00:00.5Z") == t0 + 500);
  CHECK(parse_instant("2027-01-01T19:05:07.042Z") == t0 + 19 * 3600000 + 5 * 60000 + 7042);
  CHECK(parse_instant("2027-01-01T19:05:07.0429Z") == t0 + 19 * 3600000 + 5 * 60000 + 7042);
  CHECK(parse_instant("2027-01-01T09:00:00+09:00") == t0);
  CHECK(parse_instant("2026-12-31T23:00:00-01:00") == t0);
  CHECK(parse_instant(format_instant(t0 + 123456789)) == t0 + 123456789);
  for (const char* bad : {"", "2027-01-01", "2027-01-01T00:00:00", "2027-02-30T00:00:00Z",
                          "2027-01-01T24:00:00Z", "2027-01-01T00:00:00.Z", "2027-01-01 00:00:00Z",
                          "2027-01-01T00:00:00Zjunk", "2027-01-01T00:00:00+0900"}) {
    CHECK_MESSAGE(!parse_instant(bad).has_value(), bad);
  }
}

struct Fixture {
  Engine engine{Config{}};
  std::vector<Event> events;
  Result run(CommandBody body) { return engine.execute(Command{t0, std::move(body)}, events); }
};

TEST_CASE("subject names the user and seat of every kind of event") {
  Fixture f;
  const Day day = parse_day("2027-02-01").value();
  f.run(CreateConcert{"Quote \" and \\ backslash", {{day, 5, 1000}}});
  const Result alice = f.run(JoinQueue{UserName::from("alice")});
  const Result hold = f.run(HoldSeat{alice.token.token, ConcertId{1}, day, 3, {}});
  f.run(CancelReservation{alice.token.token, hold.reservation});
  const State& s = f.engine.state();
  const UserId user = s.find_user("alice").value();
  bool saw_seat = false;
  for (const Event& e : f.events) {
    const Subject who = subject(s, e);
    if (std::holds_alternative<ConcertCreated>(e.body)) {
      CHECK(who.user == UserId::none);
      continue;
    }
    CHECK(who.user == user);
    if (std::holds_alternative<SeatHeld>(e.body) ||
        std::holds_alternative<ReservationCancelled>(e.body)) {
      CHECK(who.has_seat);
      CHECK(who.seat == 3);
      saw_seat = true;
    }
  }
  CHECK(saw_seat);
}

TEST_CASE("event_json is one JSON object with escaped strings") {
  Fixture f;
  const Day day = parse_day("2027-02-01").value();
  f.run(CreateConcert{"Quote \" and \\ backslash\n", {{day, 5, 1000}}});
  const std::string json = event_json(1, f.events[0]);
  CHECK(json ==
        "{\"seq\":1,\"time\":\"2027-01-01T00:00:00.000Z\",\"type\":\"concert_created\","
        "\"concert\":1,\"title\":\"Quote \\\" and \\\\ backslash\\n\",\"dates\":1}");
}

TEST_CASE("event_line shows the time, sequence, type, user and seat") {
  Fixture f;
  const Day day = parse_day("2027-02-01").value();
  f.run(CreateConcert{"Gala", {{day, 5, 1000}}});
  const Result alice = f.run(JoinQueue{UserName::from("alice")});
  f.run(HoldSeat{alice.token.token, ConcertId{1}, day, 2, {}});
  const Event& held = f.events.back();
  const std::string line = event_line(f.engine.state().last_seq(), held, f.engine.state());
  CHECK(line.find("2027-01-01T00:00:00.000Z  #5  seat_held") == 0);
  CHECK(line.find("user=alice") != std::string::npos);
  CHECK(line.find("seat=1/2027-02-01/2") != std::string::npos);
}

}  // namespace
}  // namespace boxoffice::replay
