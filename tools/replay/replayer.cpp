#include "tools/replay/replayer.hpp"

#include <chrono>
#include <cstdio>

#include "engine/digest.hpp"
#include "engine/event_codec.hpp"
#include "engine/invariants.hpp"
#include "engine/snapshot.hpp"
#include "tools/replay/event_format.hpp"

namespace boxoffice::replay {

namespace {

bool progress_on = false;
uint64_t progress_total = 0;

// Prints events/s and an ETA about once a second.
class Progress {
 public:
  void tick(uint64_t done) {
    if (!progress_on || (done & 0xffff) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    const double rate = static_cast<double>(done) / s;
    const double eta =
        progress_total > done ? static_cast<double>(progress_total - done) / rate : 0;
    std::fprintf(stderr, "replay: %llu events, %.0f events/s, ETA %.0f s\n",
                 static_cast<unsigned long long>(done), rate, eta);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

std::string at(uint64_t seq, const std::string& what) {
  return "event " + std::to_string(seq) + ": " + what;
}

// The records one event touched, checked against DESIGN's invariants.
std::optional<std::string> check_touched(const State& s, const Event& e, uint32_t active_limit) {
  const Subject who = subject(s, e);
  if (who.user != UserId::none) {
    const User& u = s.user(who.user);
    if (u.balance < 0) return "negative balance";
    if (u.balance != u.charged_total - u.paid_total + u.refunded_total) {
      return "balance != charges - payments + refunds";
    }
  }
  if (who.has_seat) {
    const Seat& seat = s.date(who.date).seats[who.seat - 1];
    if (seat.status != SeatStatus::available) {
      const Reservation* r = s.reservation(seat.reservation);
      if (r == nullptr || r->date != who.date || r->seat != who.seat) {
        return "a taken seat's reservation is not for it";
      }
      const auto want =
          seat.status == SeatStatus::held ? ReservationStatus::held : ReservationStatus::confirmed;
      if (r->status != want) return "seat and reservation disagree";
    }
  }
  if (active_limit != 0 && s.active_count() > active_limit) return "active tokens over the limit";
  return std::nullopt;
}

bool past(const Until& until, uint64_t seq, const Event& e) {
  return seq > until.seq || e.time_ms > until.time_ms;
}

// Decodes and applies [1, until] to `state`, calling after(seq, event) on
// each; stops at the first failure, which it returns.
std::string replay(const EventSource& source, Until until, State& state,
                   const std::function<std::optional<std::string>(uint64_t, const Event&)>& after) {
  Progress progress;
  std::string failure;
  Event e;
  AssertContext context("applying event");
  const std::string read_error =
      source(state.last_seq() + 1, until.seq, [&](uint64_t seq, std::span<const uint8_t> bytes) {
        const DecodeError err = decode_event(bytes, &e);
        if (err != DecodeError::none) {
          failure = at(seq, std::string("cannot decode: ") + decode_error_name(err));
          return false;
        }
        if (past(until, seq, e)) return false;
        if (seq != state.last_seq() + 1) {
          failure = at(seq, "out of sequence after " + std::to_string(state.last_seq()));
          return false;
        }
        context.set(seq);
        state.apply(e);
        progress.tick(seq);
        if (auto problem = after(seq, e)) {
          failure = at(seq, *problem);
          return false;
        }
        return true;
      });
  return failure.empty() ? read_error : failure;
}

}  // namespace

void set_progress(bool on, uint64_t total_events) {
  progress_on = on;
  progress_total = total_events;
}

VerifyReport verify(const EventSource& source, Until until, std::optional<SnapshotRef> snapshot,
                    uint32_t active_limit, State& state) {
  VerifyReport report;
  uint64_t snapshot_digest = 0;
  if (snapshot.has_value()) {
    State decoded(state.queue_span_tokens(), state.hash_key());
    const std::string error = SnapshotCodec::decode(snapshot->bytes, &decoded);
    if (!error.empty()) {
      report.failure = "snapshot " + std::to_string(snapshot->seq) + ": " + error;
      return report;
    }
    snapshot_digest = state_digest(decoded);
  }
  const std::string failure =
      replay(source, until, state, [&](uint64_t seq, const Event& e) -> std::optional<std::string> {
        report.events++;
        if (auto problem = check_touched(state, e, active_limit)) return problem;
        if (snapshot.has_value() && seq == snapshot->seq) {
          report.snapshot_compared = true;
          if (state_digest(state) != snapshot_digest) return "differs from the snapshot taken here";
        }
        return std::nullopt;
      });
  if (!failure.empty()) {
    report.failure = failure;
    return report;
  }
  InvariantOptions o;
  o.now_ms = state.last_event_ms();
  // Cut at a sequence number, the replay may stop between two events of one
  // instant (two holds expiring at the same deadline): only the deadlines
  // before that instant have all been applied.
  if (state.last_seq() == until.seq) o.now_ms--;
  o.active_limit = active_limit;
  if (auto problem = check_invariants(state, o)) {
    report.failure = "after event " + std::to_string(state.last_seq()) + ": " + *problem;
  }
  report.last_seq = state.last_seq();
  report.digest = state_digest(state);
  return report;
}

std::string audit(const EventSource& source, Until until, const AuditFilter& filter,
                  const std::function<void(const std::string&)>& line) {
  State state;
  return replay(
      source, until, state, [&](uint64_t seq, const Event& e) -> std::optional<std::string> {
        const Subject who = subject(state, e);
        bool selected = false;
        if (!filter.user.empty() && who.user != UserId::none) {
          selected = state.user(who.user).name.view() == filter.user;
        }
        if (filter.seat != 0 && who.has_seat) {
          const DateEntry& d = state.date(who.date);
          selected =
              raw(d.concert) == filter.concert && d.day == filter.day && who.seat == filter.seat;
        }
        if (selected) line(event_line(seq, e, state));
        return std::nullopt;
      });
}

std::string dump(const EventSource& source, uint64_t from, Until until,
                 const std::function<void(const std::string&)>& line) {
  std::string failure;
  Event e;
  const std::string read_error =
      source(from, until.seq, [&](uint64_t seq, std::span<const uint8_t> bytes) {
        const DecodeError err = decode_event(bytes, &e);
        if (err != DecodeError::none) {
          failure = at(seq, std::string("cannot decode: ") + decode_error_name(err));
          return false;
        }
        if (past(until, seq, e)) return false;
        line(event_json(seq, e));
        return true;
      });
  return failure.empty() ? read_error : failure;
}

std::string stats(const EventSource& source, Stats* out) {
  std::string failure;
  Event e;
  const std::string read_error =
      source(1, UINT64_MAX, [&](uint64_t seq, std::span<const uint8_t> bytes) {
        const DecodeError err = decode_event(bytes, &e);
        if (err != DecodeError::none) {
          failure = at(seq, std::string("cannot decode: ") + decode_error_name(err));
          return false;
        }
        if (out->events == 0) {
          out->first_seq = seq;
          out->first_ms = e.time_ms;
        }
        out->events++;
        out->last_seq = seq;
        out->last_ms = e.time_ms;
        out->bytes += bytes.size();
        out->by_type[event_type_name(event_type(e.body))]++;
        return true;
      });
  return failure.empty() ? read_error : failure;
}

}  // namespace boxoffice::replay
