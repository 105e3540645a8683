// CreateConcert: the admin catalog limits (engine_queue.cpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "tests/engine/engine_fixture.hpp"
#include "tests/support/splitmix.hpp"

namespace boxoffice::test {
namespace {

constexpr Day d1 = day("2027-02-01");
constexpr Day d2 = day("2027-02-15");
constexpr Day d3 = day("2027-03-01");

// `n` consecutive days from d1, one seat each.
std::vector<NewDate> consecutive_dates(size_t n) {
  std::vector<NewDate> dates;
  for (size_t i = 0; i < n; i++) dates.push_back(NewDate{d1 + static_cast<Day>(i), 1, 1000});
  return dates;
}

Result create(EngineFixture& f, std::string title, std::vector<NewDate> dates) {
  return f.run(CreateConcert{std::move(title), std::move(dates)});
}

TEST_CASE("CreateConcert: 201 with sequential ids; dates stored ascending whatever their order") {
  EngineFixture f;
  const Result r = create(f, "Gala", {{d3, 3, 0}, {d1, 5, 150000}, {d2, 1, 1000000000}});
  CHECK(r.code == Code::ok);
  CHECK(r.created);
  CHECK(r.concert == ConcertId{1});
  REQUIRE(f.last_types() == std::vector<EventType>{EventType::concert_created});
  const ConcertCreated& e = f.last<ConcertCreated>(0);
  CHECK(e.concert == ConcertId{1});
  CHECK(e.title == "Gala");
  REQUIRE(e.dates.size() == 3);
  CHECK(e.dates[0].day == d1);
  CHECK(e.dates[0].seats == 5);
  CHECK(e.dates[0].price == 150000);
  CHECK(e.dates[1].day == d2);
  CHECK(e.dates[1].seats == 1);
  CHECK(e.dates[1].price == 1000000000);
  CHECK(e.dates[2].day == d3);
  CHECK(e.dates[2].seats == 3);
  CHECK(e.dates[2].price == 0);

  const Concert* c = f.state().concert(ConcertId{1});
  REQUIRE(c != nullptr);
  CHECK(c->title == "Gala");
  CHECK(c->date_count == 3);
  for (uint32_t i = 0; i < 3; i++)
    CHECK(f.state().dates()[c->first_date + i].day == e.dates[i].day);
  CHECK(f.available(ConcertId{1}, d1) == 5);
  CHECK(f.available(ConcertId{1}, d2) == 1);
  CHECK(f.available(ConcertId{1}, d3) == 3);
  CHECK_FALSE(f.state().find_date(ConcertId{1}, d1 + 1).has_value());

  const Result second = create(f, "Encore", {{d1, 1, 0}});
  CHECK(second.concert == ConcertId{2});
  CHECK(f.state().concert_count() == 2);
}

TEST_CASE("CreateConcert: a title is 1 to 200 Unicode characters of valid UTF-8") {
  EngineFixture f;
  const std::string bad[] = {
      "",
      repeat("x", 201),
      repeat("\xea\xb0\x80", 201),  // 201 x U+AC00
      "\xff",
      "a\xc3",
      "\xf4\x90\x80\x80",  // beyond U+10FFFF
  };
  for (const std::string& title : bad) {
    CAPTURE(title.size());
    CHECK(create(f, title, {{d1, 1, 0}}).code == Code::invalid_request);
    CHECK(f.last_events().empty());
  }
  const std::string good[] = {
      "x", repeat("x", 200), repeat("\xea\xb0\x80", 200),  // 600 bytes
      repeat("\xf0\x9f\x8e\xb5", 200),                     // 800 bytes of U+1F3B5
  };
  for (const std::string& title : good) {
    CAPTURE(title.size());
    const Result r = create(f, title, {{d1, 1, 0}});
    CHECK(r.code == Code::ok);
    CHECK(f.state().concert(r.concert)->title == title);
  }
}

TEST_CASE("CreateConcert: 1 to 1000 distinct dates") {
  EngineFixture f;
  CHECK(create(f, "None", {}).code == Code::invalid_request);
  CHECK(create(f, "Too many", consecutive_dates(1001)).code == Code::invalid_request);
  CHECK(create(f, "Twice", {{d1, 1, 0}, {d1, 2, 0}}).code == Code::invalid_request);
  CHECK(create(f, "Twice apart", {{d1, 1, 0}, {d2, 1, 0}, {d1, 1, 0}}).code ==
        Code::invalid_request);
  CHECK(f.last_events().empty());
  CHECK(f.state().concert_count() == 0);
  const Result most = create(f, "Most", consecutive_dates(1000));
  CHECK(most.code == Code::ok);
  CHECK(f.state().concert(most.concert)->date_count == 1000);
  CHECK(f.state().find_date(most.concert, d1 + 999).has_value());
}

TEST_CASE("CreateConcert: 1 to 10,000 seats and a price of 0 to 1,000,000,000 per date") {
  EngineFixture f;
  constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();
  constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();
  for (const int64_t seats : {int64_t{0}, int64_t{-1}, int64_t{10001}, i64_max, i64_min}) {
    CAPTURE(seats);
    CHECK(create(f, "Seats", {{d1, seats, 0}}).code == Code::invalid_request);
  }
  for (const int64_t p : {int64_t{-1}, int64_t{1000000001}, i64_max, i64_min}) {
    CAPTURE(p);
    CHECK(create(f, "Price", {{d1, 1, p}}).code == Code::invalid_request);
  }
  // One bad date refuses the whole concert.
  CHECK(create(f, "Mixed", {{d1, 5, 0}, {d2, 0, 0}}).code == Code::invalid_request);
  CHECK(f.last_events().empty());
  CHECK(f.state().concert_count() == 0);

  const Result big = create(f, "Big", {{d1, 10000, 0}, {d2, 1, 1000000000}});
  CHECK(big.code == Code::ok);
  CHECK(f.available(big.concert, d1) == 10000);
  CHECK(f.state().date(f.state().find_date(big.concert, d2).value()).price == 1000000000);
}

TEST_CASE("CreateConcert: dates range over 1970-01-01 to 9999-12-31") {
  EngineFixture f;
  CHECK(create(f, "Before", {{-1, 1, 0}}).code == Code::invalid_request);
  CHECK(create(f, "After", {{limits::day_max + 1, 1, 0}}).code == Code::invalid_request);
  const Result edges = create(f, "Edges", {{limits::day_max, 1, 0}, {limits::day_min, 1, 0}});
  CHECK(edges.code == Code::ok);
  CHECK(f.state().find_date(edges.concert, limits::day_min).has_value());
  CHECK(f.state().find_date(edges.concert, limits::day_max).has_value());
  CHECK(day("9999-12-31") == limits::day_max);
}

TEST_CASE("A concert's dates are found, and only they, whether its days are dense or sparse") {
  // Dense dates get a day table, sparse ones a binary search (state.hpp).
  SplitMix rng(3);
  EngineFixture f;
  for (const int64_t gap_max : {int64_t{1}, int64_t{3}, int64_t{40}, int64_t{400}}) {
    for (const size_t count : {size_t{1}, size_t{2}, size_t{7}, size_t{300}}) {
      CAPTURE(gap_max);
      CAPTURE(count);
      std::set<Day> days;
      Day next = d1;
      while (days.size() < count) {
        days.insert(next);
        next += static_cast<Day>(rng.range(1, gap_max));
      }
      std::vector<NewDate> dates;
      for (const Day d : days) dates.push_back(NewDate{d, 1, 0});
      const Result r = create(f, "Dates", dates);
      REQUIRE(r.code == Code::ok);
      for (Day d = d1 - 5; d <= *days.rbegin() + 5; d++) {
        const std::optional<DateRef> found = f.state().find_date(r.concert, d);
        REQUIRE(found.has_value() == (days.count(d) == 1));
        if (found.has_value()) {
          CHECK(f.state().date(*found).day == d);
          CHECK(f.state().date(*found).concert == r.concert);
        }
      }
    }
  }
  CHECK_FALSE(f.state().find_date(ConcertId{99}, d1).has_value());
}

}  // namespace
}  // namespace boxoffice::test
