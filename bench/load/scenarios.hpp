// The virtual users of each scenario, and of the set-up and check phases.
// See agent.hpp for the contract every one of them keeps.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "bench/load/agent.hpp"

namespace boxoffice::load {

// Set-up: creates the run's concert with the admin key.
class CreateConcertAgent : public Agent {
 public:
  CreateConcertAgent(ThreadContext& context, std::string title);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;
  std::optional<uint64_t> concert_id;
  std::string error;  // why it failed, when it did

 private:
  ThreadContext& context_;
  std::string title_;
  bool finished_ = false;
};

// Set-up: joins the queue, waits until active (when `wait_active`), then
// charges `charge_amount` won (0: no charge).
class JoinAgent : public Agent {
 public:
  JoinAgent(ThreadContext& context, UserSession& session, bool wait_active, int64_t charge_amount);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;

 private:
  ThreadContext& context_;
  UserSession& session_;
  SessionFlow flow_;
  bool wait_active_;
  int64_t charge_amount_;
  bool charged_ = false;
};

// Clean-up: gives the session's token back (DELETE), once.
class LeaveAgent : public Agent {
 public:
  explicit LeaveAgent(UserSession& session) : session_(session) {}
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;

 private:
  UserSession& session_;
  bool sent_ = false;
};

// Check: reads the seat map of every date with an active token.
class SeatMapAgent : public Agent {
 public:
  SeatMapAgent(ThreadContext& context, UserSession& session);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;
  std::vector<std::vector<uint8_t>> statuses;  // [date index][seat - 1], SeatStatus values
  std::string error;

 private:
  ThreadContext& context_;
  UserSession& session_;
  SessionFlow flow_;
  uint32_t date_index_ = 0;
  uint32_t failures_ = 0;
};

// ping: GET /healthz over and over (the do-nothing ceiling).
class PingAgent : public Agent {
 public:
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind, const Response&, int64_t) override {}
};

// Holds seats from the picker; with the per-user limit reached, cancels its
// oldest hold instead. Part of hold-storm and mixed.
class HoldCycle {
 public:
  explicit HoldCycle(uint32_t holds_max) : holds_max_(holds_max) {}
  void next(const Plan& plan, SplitMix& rng, const UserSession& session, RequestSpec& out);
  // REQUIRES: kind is hold or cancel.
  void on_response(ThreadContext& context, Kind kind, const Response& response, int64_t now_ns);
  // The server refuses every hold of this user (429 with none live).
  bool stuck() const { return holds_max_ == 0; }

 private:
  std::deque<uint64_t> live_;  // reservation ids, oldest first; at most holds_max_
  uint32_t holds_max_;
  SeatChoice pending_{};
};

class HoldStormAgent : public Agent {
 public:
  HoldStormAgent(ThreadContext& context, UserSession& session, uint64_t seed);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;

 private:
  ThreadContext& context_;
  UserSession& session_;
  SessionFlow flow_;
  SplitMix rng_;
  HoldCycle holds_;
};

// queue-poll: polls its token's place in line as fast as the loop allows.
class QueuePollAgent : public Agent {
 public:
  QueuePollAgent(ThreadContext& context, UserSession& session);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;

 private:
  ThreadContext& context_;
  UserSession& session_;
  SessionFlow flow_;
};

// mixed: each step is one operation drawn by the --mix weights.
class MixedAgent : public Agent {
 public:
  MixedAgent(ThreadContext& context, UserSession& session, uint64_t seed);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;

 private:
  ThreadContext& context_;
  UserSession& session_;
  SessionFlow flow_;
  SplitMix rng_;
  HoldCycle holds_;
};

// purchase and sale-open: queue -> hold -> charge -> pay, like a buyer. A miss
// (seat taken) tries another seat; after a few misses in a row it reads the
// dates and a seat map and picks among the free seats (and reads them again
// after a few more); when no date has a free seat it leaves the queue and is
// done. purchase starts over after each payment (the
// payment used the token up, so it queues again); sale-open buys once.
class PurchaseAgent : public Agent {
 public:
  PurchaseAgent(ThreadContext& context, UserSession& session, uint64_t seed, bool one_shot,
                int64_t arrival_ns);
  Step next(int64_t now_ns, RequestSpec& out) override;
  void on_response(Kind kind, const Response& response, int64_t now_ns) override;

  uint64_t purchases() const { return purchases_; }
  uint64_t failed_holds() const { return failed_holds_; }
  bool sold_out_seen() const { return sold_out_; }
  int64_t first_paid_ns() const { return first_paid_ns_; }

 private:
  enum class Stage : uint8_t { arrive, hold, look_dates, look_seats, charge, pay, leave, done };
  static constexpr uint32_t blind_misses_max = 3;  // misses in a row before reading the map
  void fill_hold(RequestSpec& out);
  void on_hold(const Response& response, int64_t now_ns);
  void on_look(Kind kind, const Response& response);
  void on_pay(const Response& response, int64_t now_ns);

  ThreadContext& context_;
  UserSession& session_;
  SessionFlow flow_;
  SplitMix rng_;
  bool one_shot_;
  int64_t arrival_ns_;
  Stage stage_ = Stage::arrive;
  SeatChoice pending_{};
  uint64_t reservation_id_ = 0;
  uint32_t misses_ = 0;
  uint32_t free_date_ = 0;
  std::vector<uint32_t> free_seats_;  // from the last seat map read
  std::vector<uint8_t> statuses_;
  uint64_t purchases_ = 0;
  uint64_t failed_holds_ = 0;
  bool sold_out_ = false;
  int64_t first_paid_ns_ = 0;
};

}  // namespace boxoffice::load
