// EventFeed: every event of a real log, in order, decoded on the reader's
// thread; the first problem stops it after the events before it; idle work
// runs while the ring is full; a feed dropped early stops its reader
// (net/event_feed.hpp).
#include "net/event_feed.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/event_codec.hpp"
#include "tests/storage/storage_test_support.hpp"

namespace boxoffice::net {
namespace {

using storage::test::RawDb;
using storage::test::TempDir;

std::string name_of(uint64_t seq) { return "user-" + std::to_string(seq); }

// Appends `count` UserCreated events, their seq in the name, in batches.
void append_users(storage::EventLog& log, uint64_t count) {
  storage::EventBatch batch;
  for (uint64_t done = 0; done < count;) {
    batch.reset(log.last_seq() + 1);
    for (uint64_t k = 0; k < 1000 && done < count; k++, done++) {
      const uint64_t seq = log.last_seq() + 1 + k;
      Event e;
      e.time_ms = static_cast<TimeMs>(seq);
      e.body = UserCreated{UserId{static_cast<uint32_t>(seq)}, UserName::from(name_of(seq))};
      encode_event(e, batch.bytes());
      batch.seal_event();
    }
    REQUIRE(log.append(batch).is_ok());
  }
}

// Takes every event; checks each is the one with its seq. Returns how many.
uint64_t drain(EventFeed& feed, uint64_t from_seq) {
  uint64_t n = 0;
  while (const EventFeed::Item* item = feed.next()) {
    REQUIRE(item->seq == from_seq + n);
    const auto* created = std::get_if<UserCreated>(&item->event.body);
    REQUIRE(created != nullptr);
    REQUIRE(created->name.view() == name_of(item->seq));
    if (const EventFeed::Item* ahead = feed.peek(3)) REQUIRE(ahead->seq == item->seq + 3);
    n++;
  }
  return n;
}

constexpr uint64_t events_many = 3 * EventFeed::ring_events + 17;  // several laps of the ring

TEST_CASE("every event after from_seq, in order, and an empty error at the end") {
  TempDir dir;
  auto log = storage::test::open_log(dir.path());
  append_users(*log, events_many);
  {
    EventFeed feed(*log, 1);
    CHECK(drain(feed, 1) == events_many);
    CHECK(feed.error().empty());
    CHECK(feed.next() == nullptr);  // and it stays at the end
  }
  {
    EventFeed feed(*log, events_many - 99);
    CHECK(drain(feed, events_many - 99) == 100);
    CHECK(feed.error().empty());
  }
  EventFeed past_the_end(*log, events_many + 1);
  CHECK(past_the_end.next() == nullptr);
  CHECK(past_the_end.error().empty());
}

TEST_CASE("an event that does not decode ends the feed after the events before it") {
  TempDir dir;
  {
    auto log = storage::test::open_log(dir.path());
    append_users(*log, 5000);
    REQUIRE(log->close().is_ok());
  }
  {
    RawDb db(dir.path());
    storage::SeqKey key;
    db.put(storage::family_events, RawDb::seq_key(4321, key), std::string("\xff\xff", 2));
  }
  auto log = storage::test::open_log(dir.path());
  EventFeed feed(*log, 1);
  CHECK(drain(feed, 1) == 4320);
  CHECK(feed.error().find("event 4321 does not decode") == 0);
}

TEST_CASE("a gap in the log ends the feed, naming the missing seq") {
  TempDir dir;
  {
    auto log = storage::test::open_log(dir.path());
    append_users(*log, 3000);
    REQUIRE(log->close().is_ok());
  }
  {
    RawDb db(dir.path());
    storage::SeqKey key;
    db.del(storage::family_events, RawDb::seq_key(2500, key));
  }
  auto log = storage::test::open_log(dir.path());
  EventFeed feed(*log, 1);
  CHECK(drain(feed, 1) == 2499);
  CHECK(feed.error().find("seq 2500 is missing") != std::string::npos);
}

TEST_CASE("idle work runs on the reader while the ring is full, until it has none") {
  TempDir dir;
  auto log = storage::test::open_log(dir.path());
  append_users(*log, events_many);
  std::atomic<int> calls{0};
  EventFeed feed(*log, 1, [&] { return calls.fetch_add(1) < 5; });
  // Nothing is taken until the ring is full and the idle work is done.
  while (calls.load() < 6) std::this_thread::yield();
  CHECK(drain(feed, 1) == events_many);
  CHECK(calls.load() >= 6);
}

TEST_CASE("a feed dropped before the end stops its reader") {
  TempDir dir;
  auto log = storage::test::open_log(dir.path());
  append_users(*log, events_many);
  for (uint64_t taken : {uint64_t{0}, uint64_t{1}, uint64_t{EventFeed::ring_events + 5}}) {
    CAPTURE(taken);
    EventFeed feed(*log, 1);
    for (uint64_t i = 0; i < taken; i++) REQUIRE(feed.next() != nullptr);
  }  // each destructor returns: the reader saw the stop (or the end) and was joined
}

}  // namespace
}  // namespace boxoffice::net
