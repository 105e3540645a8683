// Determinism and replay: the same commands give the same events, byte for
// byte; the events alone rebuild the state (same digest), and an engine
// recovered from them decides what the original would (engine.cpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/engine/engine_fixture.hpp"
#include "tests/support/splitmix.hpp"

namespace boxoffice::test {
namespace {

constexpr Day d1 = day("2027-02-01");
constexpr Day d_close = day("2027-01-02");  // closes during the scenario

Config small_config() {
  Config c;
  c.active_limit = 2;
  c.hold_ttl_ms = 30 * sec;
  c.token_ttl_ms = 60 * sec;
  c.queue_idle_ms = 20 * sec;
  c.holds_per_user_max = 2;
  c.queue_span_tokens = 16;
  return c;
}

// A scripted day in the life of the engine: every kind of command and event.
void scripted(EngineFixture& f) {
  const ConcertId gala = f.create_concert({{d1, 4, 1000}, {d_close, 2, 500}});
  const TokenId a = f.join_active("alice");
  const TokenId b = f.join_active("bob");
  const TokenId c = f.join_waiting("carol");
  f.join_waiting("dave");
  f.charge(a, 5000);
  f.try_charge(b, 3000, key("charge-1"));
  f.advance(1500);
  const ReservationId r1 = f.hold(a, gala, d1, 1);
  f.try_hold(b, gala, d1, 2, key("hold-1"));
  f.try_hold(b, gala, d1, 2, key("hold-1"));  // replay
  f.try_hold(b, gala, d1, 1);                 // unavailable
  f.advance(700);
  f.poll(c);
  f.try_pay(a, r1, key("pay-1"));  // carol is admitted
  f.advance(25 * sec);             // dave is dropped (idle) at 20 s
  f.run(Tick{});
  f.advance(10 * sec);                             // bob's hold expires at 31.5 s
  const TokenId a2 = f.join("alice").token.token;  // waiting: bob and carol are active
  f.cancel(a2, r1);
  f.refund(a2, r1, "sorry", key("refund-1"));
  f.run(LeaveQueue{b});
  f.advance(day_ms);  // past every window and the close of d_close; keys forgotten
  f.run(Tick{});
  const TokenId e = f.join_active("erin");
  f.try_hold(e, gala, d_close, 1);  // sales closed
  f.try_hold(e, gala, d1, 3);
}

TEST_CASE("Determinism: the same commands give byte-identical events and results") {
  EngineFixture first(small_config());
  EngineFixture second(small_config());
  scripted(first);
  scripted(second);
  CHECK(first.log.size() > 30);
  CHECK(first.log == second.log);
  CHECK(state_digest(first.engine.state()) == state_digest(second.engine.state()));
  // Every kind of event appeared.
  std::vector<bool> seen(13, false);
  for (const Event& ev : first.events) seen[static_cast<size_t>(event_type(ev.body))] = true;
  for (size_t type = 1; type <= 12; type++) {
    CAPTURE(type);
    CHECK(seen[type]);
  }
}

// Random commands against a small world, with irregular time. Users mostly
// present their own token and reservations, so that sales happen.
class RandomDriver {
 public:
  RandomDriver(EngineFixture& f, uint64_t seed)
      : f_(f), rng_(seed), tokens_(users, TokenId::none) {}

  void run(int commands) {
    f_.create_concert({{d1, 6, 1000}, {d1 + 1, 3, 0}, {d_close, 3, 700}});
    for (int i = 0; i < commands; i++) {
      step_time();
      const uint32_t u = static_cast<uint32_t>(rng_.below(users));
      const CommandBody body = client_command(u);
      const Result r = f_.run(body);
      if (std::holds_alternative<JoinQueue>(body) && r.code == Code::ok) tokens_[u] = r.token.token;
    }
  }

 private:
  static constexpr uint32_t users = 6;

  void step_time() {
    const uint64_t roll = rng_.below(100);
    if (roll < 70) {
      f_.advance(rng_.range(0, 200));
    } else if (roll < 98) {
      f_.advance(rng_.range(200, 2000));
    } else {
      f_.advance(rng_.range(5000, 60000));  // a late tick: many deadlines at once
    }
  }

  static std::string user_name(uint32_t u) { return "user" + std::to_string(u); }

  TokenId token(uint32_t u) {
    if (rng_.chance(90)) return tokens_[u];
    return TokenId{rng_.below(f_.state().token_count() + 2)};
  }

  ReservationId reservation(uint32_t u) {
    const std::optional<UserId> id = f_.state().find_user(user_name(u));
    if (id.has_value() && rng_.chance(80)) {
      ReservationId r = f_.state().user(*id).last_reservation;
      if (r != ReservationId::none && rng_.chance(30)) {
        const ReservationId prev = f_.state().reservation(r)->prev_of_user;
        if (prev != ReservationId::none) r = prev;
      }
      return r;
    }
    return ReservationId{static_cast<uint32_t>(rng_.below(f_.state().reservation_count() + 2))};
  }

  // The user's newest held reservation, if any.
  ReservationId held_by(uint32_t u) {
    ReservationId held = ReservationId::none;
    const std::optional<UserId> id = f_.state().find_user(user_name(u));
    if (!id.has_value()) return held;
    f_.state().for_each_reservation(*id, [&](ReservationId r, const Reservation& res) {
      if (held == ReservationId::none && res.status == ReservationStatus::held) held = r;
    });
    return held;
  }

  IdempotencyKey maybe_key() {
    if (!rng_.chance(30)) return {};
    return key("k" + std::to_string(rng_.below(4)));
  }

  // Clients mostly behave: rejoin once their token is gone, poll while waiting.
  CommandBody client_command(uint32_t u) {
    const Token* t = f_.state().token(tokens_[u]);
    if ((t == nullptr || t->status == TokenStatus::expired) && rng_.chance(80)) {
      return JoinQueue{name(user_name(u))};
    }
    if (t != nullptr && t->status == TokenStatus::waiting && rng_.chance(50)) {
      return PollToken{tokens_[u]};
    }
    return random_command(u);
  }

  CommandBody random_command(uint32_t u) {
    const Day days[] = {d1, d1 + 1, d_close, d1 + 7};
    switch (rng_.below(14)) {
      case 0:
      case 1:
        return JoinQueue{name(user_name(u))};
      case 2:
        return PollToken{token(u)};
      case 3:
        return LeaveQueue{token(u)};
      case 4:
      case 5:
        return HoldSeat{.token = token(u),
                        .concert = ConcertId{rng_.chance(95) ? 1U : 2U},
                        .day = days[rng_.chance(90) ? rng_.below(3) : 3],
                        .seat = rng_.chance(90) ? rng_.range(1, 3) : rng_.range(0, 7),
                        .key = maybe_key()};
      case 6:
        return CancelReservation{.token = token(u), .reservation = reservation(u)};
      case 7:
        return ChargeBalance{.token = token(u), .amount = rng_.range(0, 3000), .key = maybe_key()};
      case 8:
      case 9:
      case 10:
        return Pay{.token = token(u),
                   .reservation = rng_.chance(70) ? held_by(u) : reservation(u),
                   .key = maybe_key()};
      case 11:
        return Refund{.token = token(u),
                      .reservation = reservation(u),
                      .reason = rng_.chance(50) ? "" : "why",
                      .key = maybe_key()};
      case 12:
        return GetBalance{token(u)};
      default:
        return Tick{};
    }
  }

  EngineFixture& f_;
  SplitMix rng_;
  std::vector<TokenId> tokens_;
};

TEST_CASE("Determinism and replay under random commands, over several seeds") {
  Config c = small_config();
  c.active_limit = 3;
  c.hold_ttl_ms = 60 * sec;
  c.token_ttl_ms = 120 * sec;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    CAPTURE(seed);
    EngineFixture first(c);
    EngineFixture second(c);
    first.digest_every = 25;
    second.digest_every = 1000000;
    RandomDriver(first, seed).run(5000);  // the fixture checks replay as it goes
    RandomDriver(second, seed).run(5000);
    CHECK(first.log == second.log);
    CHECK(state_digest(first.rebuilt) == state_digest(first.engine.state()));
    CHECK(first.state().payment_count() > 10);
    CHECK(first.state().refund_count() > 0);
  }
}

TEST_CASE("The hash key changes no outcome: events, digests and snapshots are the same") {
  Config keyed = small_config();
  keyed.hash_key.k0 = 0x243f6a8885a308d3ULL;
  keyed.hash_key.k1 = 0x13198a2e03707344ULL;
  Config reference = keyed;
  reference.hash_key = HashKey{};
  for (uint64_t seed = 1; seed <= 3; seed++) {
    CAPTURE(seed);
    EngineFixture first(reference);
    EngineFixture second(keyed);
    scripted(first);
    scripted(second);
    RandomDriver(first, seed).run(3000);
    RandomDriver(second, seed).run(3000);
    CHECK(first.log == second.log);
    CHECK(state_digest(first.engine.state()) == state_digest(second.engine.state()));
    std::vector<uint8_t> a;
    std::vector<uint8_t> b;
    SnapshotCodec::encode(first.engine.state(), a);
    SnapshotCodec::encode(second.engine.state(), b);
    CHECK(a == b);
    // A snapshot decodes under any key, and lookups by name work after it.
    State decoded(keyed.queue_span_tokens, keyed.hash_key);
    REQUIRE(SnapshotCodec::decode(a, &decoded) == "");
    CHECK(state_digest(decoded) == state_digest(first.engine.state()));
    REQUIRE(first.state().find_user("alice").has_value());
    CHECK(decoded.find_user("alice") == first.state().find_user("alice"));
  }
}

TEST_CASE("An engine recovered from the events has the digest and decides the same") {
  EngineFixture live(small_config());
  scripted(live);
  // Pending deadlines at the cut: a hold, an active window, a waiting token.
  const ConcertId gala = ConcertId{1};
  const TokenId f1 = live.join_active("frank");
  live.join_waiting("gina");
  const TokenId h = live.join_waiting("hank");
  live.hold(f1, gala, d1, 4);

  Engine recovered(small_config());
  for (const std::vector<uint8_t>& bytes : live.log) {
    Event e;
    REQUIRE(decode_event(bytes, &e) == DecodeError::none);
    recovered.recover(e);
  }
  CHECK(state_digest(recovered.state()) == state_digest(live.engine.state()));
  CHECK(recovered.now_ms() == live.state().last_event_ms());

  // Both decide the same commands alike, deadlines included.
  const std::vector<Command> next = {
      Command{live.now + 5 * sec, PollToken{h}},
      Command{live.now + 45 * sec, Tick{}},
      Command{live.now + 50 * sec, JoinQueue{name("ivy")}},
      Command{live.now + 200 * sec, Tick{}},
  };
  for (const Command& command : next) {
    std::vector<Event> theirs;
    const Result mine = live.run_at(command.time_ms, command.body);
    const Result other = recovered.execute(command, theirs);
    CHECK(mine.code == other.code);
    REQUIRE(theirs.size() == live.last_events().size());
    for (size_t i = 0; i < theirs.size(); i++) {
      CHECK(encoded(theirs[i]) == encoded(live.last_events()[i]));
    }
  }
  CHECK(state_digest(recovered.state()) == state_digest(live.engine.state()));
}

TEST_CASE(
    "Restart: waiting tokens get a fresh idle window; a larger limit admits after deadlines") {
  Config before = small_config();
  before.active_limit = 1;
  EngineFixture live(before);  // holds 30 s, windows 60 s, idle 20 s
  const ConcertId gala = live.create_concert({{d1, 4, 1000}});
  const TokenId a = live.join_active("a");
  const TokenId b = live.join_waiting("b");  // idle at 20 s
  live.advance(1 * sec);
  const TokenId c = live.join_waiting("c");           // idle at 21 s
  const ReservationId r = live.hold(a, gala, d1, 1);  // until 31 s

  // Down until t0 + 40 s; back with room for three.
  Config after = before;
  after.active_limit = 3;
  Engine restarted(after);
  for (const std::vector<uint8_t>& bytes : live.log) {
    Event e;
    REQUIRE(decode_event(bytes, &e) == DecodeError::none);
    restarted.recover(e);
  }
  restarted.begin_serving(t0 + 40 * sec);
  CHECK(restarted.token_view(b).expires_ms == t0 + 60 * sec);

  std::vector<Event> events;
  const Result tick = restarted.execute(Command{t0 + 40 * sec, Tick{}}, events);
  CHECK(tick.code == Code::ok);
  // The hold's deadline first, stamped with itself; then the free slots go
  // to b and c (not dropped: their idle windows restarted at 40 s).
  REQUIRE(events.size() == 3);
  CHECK(std::get<HoldExpired>(events[0].body).reservation == r);
  CHECK(events[0].time_ms == t0 + 31 * sec);
  CHECK(std::get<TokenActivated>(events[1].body).token == b);
  CHECK(std::get<TokenActivated>(events[2].body).token == c);
  for (size_t i = 1; i < 3; i++) {
    CHECK(events[i].time_ms == t0 + 40 * sec);
    CHECK(std::get<TokenActivated>(events[i].body).expires_ms == t0 + 100 * sec);
  }
  InvariantOptions options;
  options.now_ms = restarted.now_ms();
  options.active_limit = after.active_limit;
  CHECK_FALSE(check_invariants(restarted.state(), options).has_value());
}

TEST_CASE("Restart: a smaller limit sends no one back; it admits once fewer are active") {
  Config before = small_config();
  before.active_limit = 3;
  EngineFixture live(before);
  const TokenId a = live.join_active("a");
  const TokenId b = live.join_active("b");
  const TokenId c = live.join_active("c");

  Config after = before;
  after.active_limit = 1;
  Engine restarted(after);
  for (const std::vector<uint8_t>& bytes : live.log) {
    Event e;
    REQUIRE(decode_event(bytes, &e) == DecodeError::none);
    restarted.recover(e);
  }
  const TimeMs t = live.now + 1 * sec;
  restarted.begin_serving(t);
  for (const TokenId kept : {a, b, c}) {
    CHECK(restarted.token_view(kept).status == TokenStatus::active);
    // Their windows too: the deadline they were given, not a new one.
    CHECK(restarted.token_view(kept).expires_ms == live.engine.token_view(kept).expires_ms);
  }
  std::vector<Event> events;
  const Result d = restarted.execute(Command{t, JoinQueue{name("d")}}, events);
  REQUIRE(d.code == Code::ok);
  CHECK(d.created);
  CHECK(d.token.status == TokenStatus::waiting);
  // Two leave: one is still active, which the new limit allows; d waits.
  CHECK(restarted.execute(Command{t, LeaveQueue{a}}, events).code == Code::ok);
  CHECK(restarted.execute(Command{t, LeaveQueue{b}}, events).code == Code::ok);
  CHECK(restarted.token_view(d.token.token).status == TokenStatus::waiting);
  // The last of them leaves: d's turn, at that instant.
  events.clear();
  CHECK(restarted.execute(Command{t + 1, LeaveQueue{c}}, events).code == Code::ok);
  CHECK(restarted.token_view(d.token.token).status == TokenStatus::active);
  InvariantOptions options;
  options.now_ms = restarted.now_ms();
  options.active_limit = after.active_limit;
  CHECK_FALSE(check_invariants(restarted.state(), options).has_value());
}

TEST_CASE("A recovery's tables reserved for its events stay in place while it replays them") {
  EngineFixture live(small_config());
  scripted(live);
  Engine recovered(small_config());
  recovered.reserve_for_events(live.log.size());
  const auto before = recovered.state().table_regions();
  for (const State::TableRegion& r : before) {
    CHECK(r.used_bytes == 0);
    CHECK(r.capacity_bytes > 0);  // room for every event's entry, at least one each
  }
  for (const std::vector<uint8_t>& bytes : live.log) {
    Event e;
    REQUIRE(decode_event(bytes, &e) == DecodeError::none);
    recovered.recover(e);
  }
  const auto after = recovered.state().table_regions();
  for (size_t i = 0; i < after.size(); i++) {
    CAPTURE(i);
    CHECK(after[i].data == before[i].data);  // appended in place, never moved
    CHECK(after[i].capacity_bytes == before[i].capacity_bytes);
    CHECK(after[i].used_bytes <= after[i].capacity_bytes);
  }
  // users, tokens, reservations, payments, refunds, idempotency keys
  const State& s = recovered.state();
  CHECK(after[0].used_bytes == s.user_count() * sizeof(User));
  CHECK(after[1].used_bytes == s.tokens().size() * sizeof(Token));
  CHECK(after[2].used_bytes == s.reservations().size() * sizeof(Reservation));
  CHECK(after[3].used_bytes > 0);
  CHECK(after[4].used_bytes > 0);  // (the keys, [5], were all forgotten by the end)
  CHECK(state_digest(s) == state_digest(live.engine.state()));
}

TEST_CASE("Replay: a different history gives a different digest") {
  EngineFixture one;
  EngineFixture other;
  one.charge(one.join_active("alice"), 100);
  other.charge(other.join_active("alice"), 101);
  CHECK(one.log.size() == other.log.size());
  CHECK(state_digest(one.engine.state()) != state_digest(other.engine.state()));
}

}  // namespace
}  // namespace boxoffice::test
