// The workload of the recovery tests: seeded random commands against a small
// catalog, as the server's core decides them, and the engine settings they
// run with. Shared by recovery_test.cpp and its writer process
// (recovery_writer.cpp), so both sides mean the same thing by a seed.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "engine/engine.hpp"
#include "tests/support/splitmix.hpp"

namespace boxoffice::test {

inline constexpr TimeMs workload_start_ms = 1798761600000;  // 2027-01-01T00:00:00.000Z
inline constexpr uint32_t workload_users_max = 60;
inline constexpr int64_t workload_seats_per_date = 100;
inline constexpr uint32_t workload_batch_commands_max = 48;

inline Config workload_config() {
  Config c;
  c.active_limit = 20;  // fewer than the users: the line matters
  c.hold_ttl_ms = 5 * 1000;
  c.token_ttl_ms = 60 * 1000;
  c.queue_idle_ms = 20 * 1000;
  return c;
}

// The catalog every workload sells from: concert 1, two dates of 100 seats,
// 30 and 31 days after the start.
inline Command workload_catalog() {
  CreateConcert c;
  c.title = "recovery test";
  const auto first = static_cast<Day>(workload_start_ms / limits::ms_per_day + 30);
  c.dates = {NewDate{first, workload_seats_per_date, 50000},
             NewDate{first + 1, workload_seats_per_date, 90000}};
  return Command{workload_start_ms, std::move(c)};
}

// Seeded random commands against what the engine has decided so far: users
// join and poll, charge, hold random seats, pay, cancel and refund random
// reservations, leave; time moves on irregularly; ticks now and then. The
// first command on an empty state creates the catalog.
class Workload {
 public:
  Workload(uint64_t seed, TimeMs now_ms) : rng_(seed), now_ms_(now_ms) {}

  Command next(const Engine& engine) {
    if (engine.state().last_seq() == 0) return workload_catalog();
    now_ms_ += rng_.chance(10) ? rng_.range(1000, 8000) : rng_.range(0, 300);
    Command c;
    c.time_ms = now_ms_;
    c.body = body(engine);
    return c;
  }

  // Remembers what a JoinQueue gave its user.
  void learn(const Command& c, const Result& r) {
    if (const auto* join = std::get_if<JoinQueue>(&c.body); join != nullptr && r.ok()) {
      tokens_[std::string(join->user.view())] = r.token.token;
    }
  }

 private:
  CommandBody body(const Engine& engine) {
    const std::string user = "u" + std::to_string(rng_.below(workload_users_max));
    const auto it = tokens_.find(user);
    const uint64_t dice = rng_.below(100);
    if (it == tokens_.end() || dice < 8) return JoinQueue{UserName::from(user)};
    const TokenId token = it->second;
    if (dice < 20) return PollToken{token};
    if (dice < 30) return ChargeBalance{token, rng_.range(1000, 400000), {}};
    if (dice < 60) return hold(token);
    if (dice < 75) return Pay{token, reservation(engine), false, 0, {}};
    if (dice < 82) return CancelReservation{token, reservation(engine)};
    if (dice < 88) return Refund{token, reservation(engine), "", {}};
    if (dice < 90) return LeaveQueue{token};
    return Tick{};
  }

  HoldSeat hold(TokenId token) {
    HoldSeat h;
    h.token = token;
    h.concert = ConcertId{1};
    h.day = static_cast<Day>(workload_start_ms / limits::ms_per_day + 30 + rng_.range(0, 1));
    h.seat = rng_.range(1, workload_seats_per_date);
    return h;
  }

  ReservationId reservation(const Engine& engine) {
    const uint32_t n = engine.state().reservation_count();
    return ReservationId{static_cast<uint32_t>(rng_.below(uint64_t{n} + 1))};
  }

  SplitMix rng_;
  TimeMs now_ms_;
  std::map<std::string, TokenId> tokens_;
};

}  // namespace boxoffice::test
