// state_digest: equal for equal durable states, different when any durable
// field differs, blind to soft state and to the engine's clock (digest.cpp).
#include "engine/digest.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

constexpr Day d1 = day("2027-02-01");

uint64_t digest_of(const std::function<void(EngineFixture&)>& script) {
  EngineFixture f;
  script(f);
  return state_digest(f.engine.state());
}

TEST_CASE("Equal states have equal digests, unlike the empty state") {
  const State a;
  const State b;
  CHECK(state_digest(a) == state_digest(b));
  const auto script = [](EngineFixture& f) {
    const ConcertId c = f.create_concert({{d1, 3, 100}});
    const TokenId t = f.join_active("alice");
    f.charge(t, 100);
    f.pay(t, f.hold(t, c, d1, 2));
  };
  CHECK(digest_of(script) == digest_of(script));
  CHECK(digest_of(script) != state_digest(a));
}

TEST_CASE("Any durable difference changes the digest") {
  const auto base = [](EngineFixture& f, int64_t amount, int64_t seat, const char* user) {
    const ConcertId c = f.create_concert({{d1, 3, 100}});
    const TokenId t = f.join_active(user);
    f.charge(t, amount);
    f.hold(t, c, d1, seat);
  };
  const uint64_t reference = digest_of([&](EngineFixture& f) { base(f, 100, 1, "alice"); });
  // The same number of events each time, one field different.
  CHECK(digest_of([&](EngineFixture& f) { base(f, 101, 1, "alice"); }) != reference);
  CHECK(digest_of([&](EngineFixture& f) { base(f, 100, 2, "alice"); }) != reference);
  CHECK(digest_of([&](EngineFixture& f) { base(f, 100, 1, "alicf"); }) != reference);
  CHECK(digest_of([&](EngineFixture& f) {
          f.advance(1);
          base(f, 100, 1, "alice");
        }) != reference);
  CHECK(digest_of([&](EngineFixture& f) {
          base(f, 100, 1, "alice");
          f.charge(f.join_active("alice"), 1);
        }) != reference);
  CHECK(digest_of([&](EngineFixture& f) {
          f.run(CreateConcert{"Gale", {{d1, 3, 100}}});
          const TokenId t = f.join_active("alice");
          f.charge(t, 100);
          f.hold(t, ConcertId{1}, d1, 1);
        }) != reference);
}

TEST_CASE("The digest ignores soft state (last poll) and the engine's clock") {
  Config c;
  c.active_limit = 1;
  EngineFixture f(c);
  f.join_active("alice");
  const TokenId b = f.join_waiting("bob");
  const uint64_t before = state_digest(f.engine.state());
  f.advance(30 * sec);
  CHECK(f.poll(b).code == Code::ok);  // moves bob's idle deadline: soft state
  CHECK(f.engine.state().token(b)->seen_ms == t0 + 30 * sec);
  f.run(Tick{});
  CHECK(f.last_events().empty());
  CHECK(state_digest(f.engine.state()) == before);
}

}  // namespace
}  // namespace boxoffice::test
