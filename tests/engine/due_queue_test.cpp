// DueQueue: entries come out in due-time order, in-order and out-of-order
// pushes alike (due_queue.hpp).
#include "engine/due_queue.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <iterator>
#include <set>
#include <utility>
#include <vector>

#include "tests/support/splitmix.hpp"

namespace boxoffice {
namespace {

using Queue = DueQueue<ReservationId>;

std::vector<std::pair<TimeMs, uint32_t>> drain(Queue& q) {
  std::vector<std::pair<TimeMs, uint32_t>> out;
  while (!q.empty()) {
    out.emplace_back(q.front().due_ms, raw(q.front().id));
    q.pop();
  }
  return out;
}

TEST_CASE("DueQueue: in-order pushes come out first in, first out") {
  Queue q(1);
  CHECK(q.empty());
  for (uint32_t i = 1; i <= 100; i++) q.push(1000 + i / 3, ReservationId{i});  // with ties
  CHECK(q.size() == 100);
  const auto out = drain(q);
  REQUIRE(out.size() == 100);
  for (uint32_t i = 1; i <= 100; i++) {
    CHECK(out[i - 1].first == 1000 + i / 3);
    CHECK(out[i - 1].second == i);
  }
  CHECK(q.empty());
  CHECK(q.size() == 0);
}

TEST_CASE("DueQueue: reserve makes room once and keeps a wrapped ring in order") {
  Queue q(16);
  REQUIRE(q.capacity() == 16);
  for (uint32_t i = 1; i <= 12; i++) q.push(i, ReservationId{i});
  for (int i = 0; i < 10; i++) q.pop();                             // the head is now at slot 10
  for (uint32_t i = 13; i <= 24; i++) q.push(i, ReservationId{i});  // wraps around
  REQUIRE(q.capacity() == 16);
  q.reserve(1000);
  CHECK(q.capacity() == 1024);
  q.reserve(10);  // never shrinks
  CHECK(q.capacity() == 1024);
  for (uint32_t i = 25; i <= 1034; i++) q.push(i, ReservationId{i});  // 1024 in all: fits
  CHECK(q.capacity() == 1024);
  q.push(1035, ReservationId{1035});
  CHECK(q.capacity() == 2048);
  const auto out = drain(q);
  REQUIRE(out.size() == 1025);
  for (uint32_t i = 0; i < out.size(); i++) CHECK(out[i].second == i + 11);
}

TEST_CASE("DueQueue: an earlier deadline pushed late comes out in its place") {
  Queue q;
  q.push(5, ReservationId{1});
  q.push(10, ReservationId{2});
  q.push(15, ReservationId{3});
  q.push(7, ReservationId{4});
  q.push(3, ReservationId{5});
  q.push(15, ReservationId{6});
  q.push(12, ReservationId{7});
  CHECK(q.front().due_ms == 3);
  CHECK(q.size() == 7);
  const auto out = drain(q);
  const std::vector<TimeMs> dues = {3, 5, 7, 10, 12, 15, 15};
  const std::vector<uint32_t> ids = {5, 1, 4, 2, 7, 3, 6};
  REQUIRE(out.size() == dues.size());
  for (size_t i = 0; i < out.size(); i++) {
    CHECK(out[i].first == dues[i]);
    CHECK(out[i].second == ids[i]);
  }
}

TEST_CASE("DueQueue agrees with a sorted model under random pushes and pops") {
  for (uint64_t seed = 1; seed <= 5; seed++) {
    CAPTURE(seed);
    test::SplitMix rng(seed);
    Queue q(4);  // grows
    std::multiset<std::pair<TimeMs, uint32_t>> model;
    TimeMs clock = 0;
    uint32_t next_id = 1;
    for (int op = 0; op < 50000; op++) {
      const uint64_t roll = rng.next() % 100;
      if (roll < 55) {
        clock += static_cast<TimeMs>(rng.next() % 5);
        // Mostly clock + a fixed TTL; sometimes earlier than the newest.
        TimeMs due = clock + 300;
        if (roll < 10) due = clock + static_cast<TimeMs>(rng.next() % 300);
        q.push(due, ReservationId{next_id});
        model.emplace(due, next_id);
        next_id++;
      } else if (!model.empty()) {
        const TimeMs want = model.begin()->first;
        CHECK(q.front().due_ms == want);
        const auto found = model.find({q.front().due_ms, raw(q.front().id)});
        REQUIRE(found != model.end());  // a real entry, with the earliest due time
        model.erase(found);
        q.pop();
      }
      CHECK(q.size() == model.size());
      CHECK(q.empty() == model.empty());
    }
    TimeMs last = INT64_MIN;
    for (const auto& [due, id] : drain(q)) {
      CHECK(due >= last);
      last = due;
      const auto found = model.find({due, id});
      REQUIRE(found != model.end());
      model.erase(found);
    }
    CHECK(model.empty());
  }
}

}  // namespace
}  // namespace boxoffice
