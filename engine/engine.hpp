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
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "engine/command.hpp"
#include "engine/config.hpp"
#include "engine/due_queue.hpp"
#include "engine/event.hpp"
#include "engine/result.hpp"
#include "engine/snapshot.hpp"
#include "engine/state.hpp"

namespace boxoffice {

class Engine {
 public:
  explicit Engine(const Config& config);

  // Decides one command. Events are appended to `events_out` (never cleared
  // here) and already applied when this returns.
  Result execute(const Command& command, std::vector<Event>& events_out);

  // A hint, with no effect on the outcome: starts loading the memory that
  // deciding `command` will touch, so that a caller holding a batch can
  // overlap those cache misses with the decisions before it. Stage `early`
  // loads the token and the seat; stage `late` (a few commands later, once
  // the token is cached) loads the token's user.
  enum class PrefetchStage : uint8_t { early, late };
  void prefetch(const Command& command, PrefetchStage stage) const;

  // Applies an event from the log (recovery). Same effect on the state as
  // when the event was decided, plus the engine's deadline indexes.
  void recover(const Event& event);
  // Starts from a snapshot (snapshot.hpp) instead of an empty state. REQUIRES:
  // nothing was applied yet. Returns "" or what is wrong with the snapshot.
  // DigestCheck::by_caller: see SnapshotCodec::decode.
  std::string restore(std::span<const uint8_t> snapshot, DigestCheck check = DigestCheck::here);
  // After recovery: a restart resets soft state, so waiting tokens get a
  // fresh idle window from `now_ms`.
  void begin_serving(TimeMs now_ms);

  // Reserves table capacity up front, so that the hot path does not grow
  // them: the state's tables, and the hold deadlines for `reservations`.
  void reserve(uint32_t users, uint64_t tokens, uint32_t reservations, uint32_t payments) {
    state_.reserve(users, tokens, reservations, payments);
    hold_due_.reserve(reservations);
  }

  const State& state() const { return state_; }
  // Before recovering `events` events: see State::reserve_for_events.
  void reserve_for_events(uint64_t events) { state_.reserve_for_events(events); }
  const Config& config() const { return config_; }
  TimeMs now_ms() const { return now_ms_; }

  // The wait estimate for a waiting token at `position`, in whole seconds.
  uint64_t estimated_wait_s(uint64_t position) const;
  // The token as a client sees it now.
  TokenView token_view(TokenId id) const;

 private:
  // The events sink of the command being decided.
  struct Out {
    std::vector<Event>& events;
  };

  template <typename E>
  void emit(Out& out, TimeMs t, E&& body);
  // For the hot path: the event is filled in place, then emit_end() applies it.
  template <typename E>
  E& emit_begin(Out& out, TimeMs t) {
    Event& event = out.events.emplace_back();
    event.time_ms = t;
    return event.body.template emplace<E>();
  }
  void emit_end(Out& out) { applied(out.events.back()); }
  void applied(const Event& event);
  void index(const Event& event);
  void run_due(Out& out, TimeMs t);
  TimeMs earliest_deadline() const;
  bool run_one_due(Out& out, TimeMs t);
  void expire_hold_at(Out& out, ReservationId id, TimeMs due_ms);
  void end_window_at(Out& out, TokenId id, TimeMs due_ms);
  void drop_idle_at(Out& out, TokenId id, TimeMs due_ms);
  void admit(Out& out, TimeMs t);
  void forget_idempotent(Out& out, TimeMs t);

  // The token's state against what the request needs: ok, unauthorized,
  // token_expired, or token_not_active (with the position in `result`).
  Code check_token(TokenId id, TokenNeed need, TimeMs t, Result& result) {
    const Token* tok = state_.token(id);
    if (tok == nullptr) return Code::unauthorized;
    if (tok->status == TokenStatus::active) return Code::ok;
    if (tok->status == TokenStatus::expired) return Code::token_expired;
    return check_waiting_token(id, need, t, result);
  }
  Code check_waiting_token(TokenId id, TokenNeed need, TimeMs t, Result& result);
  // An idempotent replay: ok (with `result` filled), idempotency_key_reused,
  // or not_found for a new key or none.
  Code check_replay(TokenId id, const IdempotencyKey& key, uint64_t fingerprint,
                    IdempotentKind kind, Result& result) const {
    if (key.empty()) return Code::not_found;
    return check_replay_slow(id, key, fingerprint, kind, result);
  }
  Code check_replay_slow(TokenId id, const IdempotencyKey& key, uint64_t fingerprint,
                         IdempotentKind kind, Result& result) const;

  void on(Out& out, const JoinQueue& c, Result& r);
  void on(Out& out, const PollToken& c, Result& r);
  void on(Out& out, const LeaveQueue& c, Result& r);
  void on(Out& out, const ListConcerts& c, Result& r);
  void on(Out& out, const GetDates& c, Result& r);
  void on(Out& out, const GetSeats& c, Result& r);
  void on(Out& out, const HoldSeat& c, Result& r);
  void on(Out& out, const ListReservations& c, Result& r);
  void on(Out& out, const GetReservation& c, Result& r);
  void on(Out& out, const CancelReservation& c, Result& r);
  void on(Out& out, const GetBalance& c, Result& r);
  void on(Out& out, const ChargeBalance& c, Result& r);
  void on(Out& out, const Pay& c, Result& r);
  void on(Out& out, const ListPayments& c, Result& r);
  void on(Out& out, const Refund& c, Result& r);
  void on(Out& out, const CreateConcert& c, Result& r);
  void on(Out& out, const Tick& c, Result& r);
  void on(Out& out, const RejectAfterAuth& c, Result& r);

  Config config_;
  State state_;
  TimeMs now_ms_ = 0;
  DueQueue<ReservationId> hold_due_;
  DueQueue<TokenId> window_due_;
  DueQueue<TokenId> idle_due_;
  // No deadline (hold, window, idle drop, idempotency key) is before this
  // instant, so a command stamped earlier has no due work to do.
  TimeMs due_floor_ = INT64_MAX;
};

// Builds the event in place at the end of the batch (one copy), applies it.
template <typename E>
void Engine::emit(Out& out, TimeMs t, E&& body) {
  Event& event = out.events.emplace_back();
  event.time_ms = t;
  event.body.template emplace<std::decay_t<E>>(std::forward<E>(body));
  applied(event);
}

// Sets the result's code; handlers `return fail(r, code);`.
inline void fail(Result& r, Code code) { r.code = code; }

// The fingerprint of a write's request body, for Idempotency-Key reuse checks.
uint64_t fingerprint(const HoldSeat& c);
uint64_t fingerprint(const ChargeBalance& c);
uint64_t fingerprint(const Pay& c);
uint64_t fingerprint(const Refund& c);

}  // namespace boxoffice
