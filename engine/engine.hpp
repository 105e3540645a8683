// Engine: decides commands against the state, in order, deterministically.
//
// execute(command) first applies every deadline at or before the command's
// instant (expired holds, ended active windows, idle waiting tokens, freed
// slots handed to the next in line at the instant they were freed), then
// decides the command. Every decision is an event: the engine appends it to
// `events_out` and applies it to the state at once, so the next command sees
// it. The engine does no I/O, reads no clock and never throws.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/command.hpp"
#include "engine/config.hpp"
#include "engine/due_queue.hpp"
#include "engine/event.hpp"
#include "engine/result.hpp"
#include "engine/state.hpp"

namespace boxoffice {

class Engine {
 public:
  explicit Engine(const Config& config);

  // Decides one command. Events are appended to `events_out` (never cleared
  // here) and already applied when this returns.
  Result execute(const Command& command, std::vector<Event>& events_out);

  // Applies an event from the log (recovery). Same effect on the state as
  // when the event was decided, plus the engine's deadline indexes.
  void recover(const Event& event);
  // After recovery: a restart resets soft state, so waiting tokens get a
  // fresh idle window from `now_ms`.
  void begin_serving(TimeMs now_ms);

  const State& state() const { return state_; }
  const Config& config() const { return config_; }
  TimeMs now_ms() const { return now_ms_; }

  // The wait estimate for a waiting token at `position`, in whole seconds.
  uint64_t estimated_wait_s(uint64_t position) const;
  // The token as a client sees it now.
  TokenView token_view(TokenId id) const;

 private:
  struct Out;  // the events sink of the command being decided

  void emit(Out& out, TimeMs t, EventBody body);
  void index(const Event& event);
  void run_due(Out& out, TimeMs t);
  bool run_one_due(Out& out, TimeMs t);
  void expire_hold_at(Out& out, ReservationId id, TimeMs due_ms);
  void end_window_at(Out& out, TokenId id, TimeMs due_ms);
  void drop_idle_at(Out& out, TokenId id, TimeMs due_ms);
  void admit(Out& out, TimeMs t);
  void forget_idempotent(Out& out, TimeMs t);

  Code check_token(TokenId id, TokenNeed need, TimeMs t, Result& result);
  Code check_replay(TokenId id, const IdempotencyKey& key, uint64_t fingerprint,
                    IdempotentKind kind, Result& result) const;

  Result on(Out& out, const JoinQueue& c);
  Result on(Out& out, const PollToken& c);
  Result on(Out& out, const LeaveQueue& c);
  Result on(Out& out, const ListConcerts& c);
  Result on(Out& out, const GetDates& c);
  Result on(Out& out, const GetSeats& c);
  Result on(Out& out, const HoldSeat& c);
  Result on(Out& out, const ListReservations& c);
  Result on(Out& out, const GetReservation& c);
  Result on(Out& out, const CancelReservation& c);
  Result on(Out& out, const GetBalance& c);
  Result on(Out& out, const ChargeBalance& c);
  Result on(Out& out, const Pay& c);
  Result on(Out& out, const ListPayments& c);
  Result on(Out& out, const Refund& c);
  Result on(Out& out, const CreateConcert& c);
  Result on(Out& out, const Tick& c);
  Result on(Out& out, const RejectAfterAuth& c);

  Config config_;
  State state_;
  TimeMs now_ms_ = 0;
  DueQueue<ReservationId> hold_due_;
  DueQueue<TokenId> window_due_;
  DueQueue<TokenId> idle_due_;
};

// The fingerprint of a write's request body, for Idempotency-Key reuse checks.
uint64_t fingerprint(const HoldSeat& c);
uint64_t fingerprint(const ChargeBalance& c);
uint64_t fingerprint(const Pay& c);
uint64_t fingerprint(const Refund& c);

}  // namespace boxoffice
