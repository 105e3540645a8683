// Snapshots: the durable state round-trips, an engine restored from one
// decides as the original, and damaged snapshots are refused (snapshot.cpp).
#include "engine/snapshot.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/digest.hpp"

#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

constexpr Day d1 = day("2027-02-01");

Config small_config() {
  Config c;
  c.active_limit = 1;
  c.hold_ttl_ms = 30 * sec;
  c.token_ttl_ms = 60 * sec;
  c.queue_idle_ms = 20 * sec;
  c.queue_span_tokens = 64;
  return c;
}

// A state with a bit of everything, and deadlines pending.
void populate(EngineFixture& f) {
  const ConcertId c = f.create_concert({{d1, 5, 1000}, {d1 + 3, 2, 0}}, "Snap");
  const TokenId a = f.join_active("alice");
  f.try_charge(a, 5000, key("c1"));
  const ReservationId paid = f.hold(a, c, d1, 1);
  f.try_pay(a, paid, key("p1"));  // frees the only slot
  const TokenId b = f.join("bob").token.token;
  f.join_waiting("carol");
  f.advance(2 * sec);
  const TokenId a2 = f.join("alice").token.token;  // waiting
  f.refund(a2, paid, "no");
  f.hold(b, c, d1, 2);  // pending hold
}

std::vector<uint8_t> snapshot_of(const State& s) {
  std::vector<uint8_t> bytes;
  SnapshotCodec::encode(s, bytes);
  return bytes;
}

TEST_CASE("A snapshot decodes to a state with the same digest and the same snapshot") {
  EngineFixture f(small_config());
  populate(f);
  const std::vector<uint8_t> bytes = snapshot_of(f.engine.state());
  State copy(small_config().queue_span_tokens);
  REQUIRE(SnapshotCodec::decode(bytes, &copy) == "");
  CHECK(state_digest(copy) == state_digest(f.engine.state()));
  CHECK(snapshot_of(copy) == bytes);
  CHECK(copy.last_seq() == f.engine.state().last_seq());
  CHECK(copy.waiting_count() == f.engine.state().waiting_count());
  CHECK(copy.find_user("carol") == f.engine.state().find_user("carol"));
}

TEST_CASE("An engine restored from a snapshot decides the next commands as the original") {
  EngineFixture live(small_config());
  populate(live);
  Engine restored(small_config());
  REQUIRE(restored.restore(snapshot_of(live.engine.state())) == "");
  CHECK(restored.now_ms() == live.state().last_event_ms());
  CHECK(state_digest(restored.state()) == state_digest(live.engine.state()));
  // Deadlines pending in the snapshot (hold, window, idle drops) and keys
  // to forget all come due.
  const std::vector<Command> next = {
      Command{live.now + 1 * sec, PollToken{TokenId{3}}},
      Command{live.now + 15 * sec, Tick{}},
      Command{live.now + 100 * sec, Tick{}},
      Command{live.now + 100 * sec, JoinQueue{name("dave")}},
      Command{live.now + day_ms, Tick{}},
  };
  size_t total = 0;
  for (const Command& command : next) {
    std::vector<Event> theirs;
    const Result mine = live.run_at(command.time_ms, command.body);
    const Result other = restored.execute(command, theirs);
    CHECK(mine.code == other.code);
    REQUIRE(theirs.size() == live.last_events().size());
    for (size_t i = 0; i < theirs.size(); i++) {
      CHECK(encoded(theirs[i]) == encoded(live.last_events()[i]));
    }
    total += theirs.size();
  }
  CHECK(total >= 5);
  CHECK(state_digest(restored.state()) == state_digest(live.engine.state()));
}

TEST_CASE("A damaged snapshot is refused, never a crash") {
  EngineFixture f(small_config());
  populate(f);
  const std::vector<uint8_t> bytes = snapshot_of(f.engine.state());
  const uint64_t span = small_config().queue_span_tokens;
  for (size_t n = 0; n < bytes.size(); n++) {
    CAPTURE(n);
    State s(span);
    const std::vector<uint8_t> prefix(bytes.begin(),
                                      bytes.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(SnapshotCodec::decode(prefix, &s) != "");
  }
  {
    // A byte more: the digest covers the whole body...
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    State s(span);
    CHECK(SnapshotCodec::decode(longer, &s) == "digest mismatch");
    // ...and with the digest fixed up, the body is still refused.
    const uint64_t d = digest_bytes(std::span<const uint8_t>(longer).subspan(10));
    for (size_t i = 0; i < 8; i++) longer[2 + i] = static_cast<uint8_t>(d >> (8 * i));
    State t(span);
    CHECK(SnapshotCodec::decode(longer, &t) == "trailing bytes");
  }
  {
    std::vector<uint8_t> other = bytes;
    other[0] = 2;
    State s(span);
    CHECK(SnapshotCodec::decode(other, &s) == "unknown snapshot version");
  }
  {
    std::vector<uint8_t> other = bytes;
    other[2] ^= 1;  // the stored digest
    State s(span);
    CHECK(SnapshotCodec::decode(other, &s) == "digest mismatch");
  }
  // Flipped bytes anywhere: refused (the digest covers every field).
  uint64_t rng = 7;
  for (int i = 0; i < 3000; i++) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    std::vector<uint8_t> other = bytes;
    const size_t at = static_cast<size_t>(rng >> 33) % other.size();
    other[at] = static_cast<uint8_t>(other[at] ^ (1 + (rng >> 20) % 255));
    State s(span);
    CAPTURE(at);
    CHECK(SnapshotCodec::decode(other, &s) != "");
  }
}

// Recovery decodes while another thread checks the digest: the decoder alone
// must be safe on any body, and the two halves must agree with the whole.
TEST_CASE("Decoding with the digest checked by the caller gives the same state, and no crash") {
  EngineFixture f(small_config());
  populate(f);
  const std::vector<uint8_t> bytes = snapshot_of(f.engine.state());
  const uint64_t span = small_config().queue_span_tokens;
  CHECK(SnapshotCodec::check_digest(bytes) == "");
  {
    State s(span);
    REQUIRE(SnapshotCodec::decode(bytes, &s, DigestCheck::by_caller) == "");
    CHECK(snapshot_of(s) == bytes);
  }
  {
    std::vector<uint8_t> other = bytes;
    other[2] ^= 1;  // the stored digest: the body still decodes, the check refuses it
    State s(span);
    CHECK(SnapshotCodec::decode(other, &s, DigestCheck::by_caller) == "");
    CHECK(SnapshotCodec::check_digest(other) == "digest mismatch");
  }
  CHECK(SnapshotCodec::check_digest(std::span<const uint8_t>(bytes).first(9)) == "truncated");
  uint64_t rng = 11;
  for (int i = 0; i < 3000; i++) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    std::vector<uint8_t> other = bytes;
    const size_t at = snapshot_prefix_bytes +
                      static_cast<size_t>(rng >> 33) % (other.size() - snapshot_prefix_bytes);
    other[at] = static_cast<uint8_t>(other[at] ^ (1 + (rng >> 20) % 255));
    CAPTURE(at);
    CHECK(SnapshotCodec::check_digest(other) == "digest mismatch");
    State s(span);
    // Refused, or decoded to a state that encodes to the damaged body.
    if (SnapshotCodec::decode(other, &s, DigestCheck::by_caller).empty()) {
      const std::vector<uint8_t> again = snapshot_of(s);
      CHECK(std::equal(again.begin() + snapshot_prefix_bytes, again.end(),
                       other.begin() + snapshot_prefix_bytes, other.end()));
    }
  }
}

}  // namespace
}  // namespace boxoffice::test
