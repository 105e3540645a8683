#include "tests/sim/simulator.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/civil_date.hpp"
#include "engine/digest.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/invariants.hpp"
#include "engine/snapshot.hpp"
#include "tests/support/splitmix.hpp"

namespace boxoffice::sim {

namespace {

using Rng = test::SplitMix;

constexpr TimeMs start_ms = 1798761600000;  // 2027-01-01T00:00:00Z
constexpr Day start_day = static_cast<Day>(start_ms / limits::ms_per_day);

// Commands per batch (group commit): 1 to this many.
constexpr uint64_t batch_commands_max = 32;
// The ledger keeps the facts of the newest acknowledged replies, and the
// per-user totals of all of them. A fact is checked at every recovery while
// it is kept (recoveries come every few thousand commands).
constexpr size_t ledger_facts_max = 16384;
// A clock stall: this many commands at one instant, then a jump.
constexpr int64_t stall_commands_min = 10;
constexpr int64_t stall_commands_max = 1000;
constexpr int64_t stall_jump_ms_max = 120000;
// Commands stamped in the past: at most this much before the clock.
constexpr int64_t stamp_back_ms_max = 5000;

uint64_t digest_of(std::string_view s) {
  return digest_bytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// ---- the acknowledgement ledger ----
//
// Each fact is what an acknowledged reply told a client, put so that it
// stays true however the state moves on: a reservation may expire or be
// paid, but it stays user U's, for that seat, price and deadline.

struct TokenFact {  // the token was issued to the user
  TokenId token = TokenId::none;
  UserId user = UserId::none;
};
struct HoldFact {  // the reservation was held (checked live when acknowledged)
  ReservationId reservation = ReservationId::none;
  UserId user = UserId::none;
  ConcertId concert = ConcertId::none;
  Day day = 0;
  uint32_t seat = 0;
  int64_t price = 0;
  TimeMs expires_ms = 0;
};
struct CancelFact {  // the reservation is cancelled (or refunded since)
  ReservationId reservation = ReservationId::none;
};
struct ChargeFact {  // adds to the user's acknowledged charged total
  UserId user = UserId::none;
  int64_t amount = 0;
};
struct PaymentFact {  // the payment paid the reservation; the reservation stays paid
  PaymentId payment = PaymentId::none;
  ReservationId reservation = ReservationId::none;
  UserId user = UserId::none;
  int64_t amount = 0;
};
struct RefundFact {  // the refund refunded the reservation, which stays refunded
  RefundId refund = RefundId::none;
  ReservationId reservation = ReservationId::none;
  UserId user = UserId::none;
  int64_t amount = 0;
};
struct ConcertFact {  // the concert exists as created
  ConcertId concert = ConcertId::none;
  uint64_t title_digest = 0;
  uint32_t dates = 0;
  uint64_t seats = 0;
};
using FactBody =
    std::variant<TokenFact, HoldFact, CancelFact, ChargeFact, PaymentFact, RefundFact, ConcertFact>;

struct Fact {
  uint64_t command = 0;  // the acknowledged command's index
  bool first = false;    // a first answer, not an idempotent replay: its amount counts
  FactBody body;
};

// Each returns nullptr when the fact holds in `s`, else what is wrong.
const char* violation(const State& s, const TokenFact& f) {
  const Token* t = s.token(f.token);
  if (t == nullptr) return "the token is missing";
  if (t->user != f.user) return "the token belongs to another user";
  return nullptr;
}

const char* violation(const State& s, const HoldFact& f) {
  const Reservation* r = s.reservation(f.reservation);
  if (r == nullptr) return "the reservation is missing";
  if (r->user != f.user) return "the reservation belongs to another user";
  const DateEntry& d = s.date(r->date);
  if (d.concert != f.concert || d.day != f.day || r->seat != f.seat) {
    return "the reservation is for another seat";
  }
  if (r->price != f.price) return "the reservation has another price";
  if (r->expires_ms != f.expires_ms) return "the reservation has another deadline";
  return nullptr;
}

const char* violation(const State& s, const CancelFact& f) {
  const Reservation* r = s.reservation(f.reservation);
  if (r == nullptr) return "the reservation is missing";
  if (r->cancelled_ms == 0 ||
      (r->status != ReservationStatus::cancelled && r->status != ReservationStatus::refunded)) {
    return "the reservation is not cancelled";
  }
  return nullptr;
}

const char* violation(const State&, const ChargeFact&) { return nullptr; }  // in the totals

const char* violation(const State& s, const PaymentFact& f) {
  if (raw(f.payment) == 0 || raw(f.payment) > s.payment_count()) return "the payment is missing";
  const Payment& p = s.payment(f.payment);
  if (p.reservation != f.reservation || p.user != f.user || p.amount != f.amount) {
    return "the payment has another reservation, user or amount";
  }
  const Reservation* r = s.reservation(f.reservation);
  if (r == nullptr || r->payment != f.payment || r->paid_ms == 0) {
    return "the reservation does not show the payment";
  }
  if (r->status == ReservationStatus::held || r->status == ReservationStatus::expired) {
    return "the reservation is no longer paid";
  }
  return nullptr;
}

const char* violation(const State& s, const RefundFact& f) {
  if (raw(f.refund) == 0 || raw(f.refund) > s.refund_count()) return "the refund is missing";
  const RefundRecord& refund = s.refund(f.refund);
  if (refund.reservation != f.reservation || refund.amount != f.amount) {
    return "the refund has another reservation or amount";
  }
  const Reservation* r = s.reservation(f.reservation);
  if (r == nullptr || r->refund != f.refund || r->status != ReservationStatus::refunded) {
    return "the reservation does not show the refund";
  }
  return nullptr;
}

const char* violation(const State& s, const ConcertFact& f) {
  const Concert* c = s.concert(f.concert);
  if (c == nullptr) return "the concert is missing";
  if (digest_of(c->title) != f.title_digest) return "the concert has another title";
  if (c->date_count != f.dates || c->seats.size() != f.seats) {
    return "the concert has other dates or seats";
  }
  return nullptr;
}

std::string describe(const Fact& fact) {
  struct Describe {
    std::string operator()(const TokenFact& f) const {
      return "token " + std::to_string(raw(f.token));
    }
    std::string operator()(const HoldFact& f) const {
      return "hold of reservation " + std::to_string(raw(f.reservation));
    }
    std::string operator()(const CancelFact& f) const {
      return "cancel of reservation " + std::to_string(raw(f.reservation));
    }
    std::string operator()(const ChargeFact& f) const {
      return "charge to user " + std::to_string(raw(f.user));
    }
    std::string operator()(const PaymentFact& f) const {
      return "payment " + std::to_string(raw(f.payment));
    }
    std::string operator()(const RefundFact& f) const {
      return "refund " + std::to_string(raw(f.refund));
    }
    std::string operator()(const ConcertFact& f) const {
      return "concert " + std::to_string(raw(f.concert));
    }
  };
  return std::visit(Describe{}, fact.body) + " (command " + std::to_string(fact.command) + ")";
}

// What the acknowledged replies of one user add up to, at least: charges,
// payments and refunds only ever add to a user's running totals.
struct AckedTotals {
  int64_t charged = 0;
  int64_t paid = 0;
  int64_t refunded = 0;
};

class AckLedger {
 public:
  AckLedger() {
    facts_.reserve(ledger_facts_max);
    pending_.reserve(batch_commands_max);
  }

  // A reply of the batch being decided; it counts once the batch is acknowledged.
  void stage(uint64_t command, bool first, FactBody body) {
    BOXOFFICE_ASSERT(pending_.size() < batch_commands_max);
    pending_.push_back(Fact{command, first, body});
  }
  // The batch is durable and its replies were sent.
  void acknowledge() {
    for (const Fact& fact : pending_) keep(fact);
    pending_.clear();
  }
  // The batch's replies were never sent.
  void discard() { pending_.clear(); }

  // Checks every kept fact and every user's totals against `s`: "" when all
  // hold, else "acknowledged X lost: why".
  std::string check(const State& s, uint64_t* checked) const {
    for (const Fact& fact : facts_) {
      const char* why = std::visit([&](const auto& f) { return violation(s, f); }, fact.body);
      if (why != nullptr) return "acknowledged " + describe(fact) + " lost: " + why;
    }
    *checked += facts_.size();
    return check_totals(s);
  }

  uint64_t acknowledged() const { return acknowledged_; }

 private:
  void keep(const Fact& fact) {
    acknowledged_++;
    count(fact);
    if (std::holds_alternative<ChargeFact>(fact.body)) return;  // a total only
    if (facts_.size() < ledger_facts_max) {
      facts_.push_back(fact);
    } else {
      facts_[next_] = fact;  // the oldest
    }
    next_ = (next_ + 1) % ledger_facts_max;
  }

  void count(const Fact& fact) {
    if (!fact.first) return;
    if (const auto* c = std::get_if<ChargeFact>(&fact.body)) {
      totals(c->user).charged += c->amount;
    } else if (const auto* p = std::get_if<PaymentFact>(&fact.body)) {
      totals(p->user).paid += p->amount;
    } else if (const auto* r = std::get_if<RefundFact>(&fact.body)) {
      totals(r->user).refunded += r->amount;
    }
  }

  AckedTotals& totals(UserId user) {
    BOXOFFICE_ASSERT(raw(user) >= 1 && raw(user) <= limits::users_max);
    if (totals_.size() < raw(user)) totals_.resize(raw(user));
    return totals_[raw(user) - 1];
  }

  std::string check_totals(const State& s) const {
    for (size_t i = 0; i < totals_.size(); i++) {
      const AckedTotals& t = totals_[i];
      if (t.charged == 0 && t.paid == 0 && t.refunded == 0) continue;
      const std::string who = "user " + std::to_string(i + 1);
      if (i >= s.user_count()) return "acknowledged " + who + " lost: the user is missing";
      const User& u = s.user(UserId{static_cast<uint32_t>(i + 1)});
      if (u.charged_total < t.charged) return "acknowledged charges to " + who + " lost";
      if (u.paid_total < t.paid) return "acknowledged payments of " + who + " lost";
      if (u.refunded_total < t.refunded) return "acknowledged refunds to " + who + " lost";
    }
    return "";
  }

  std::vector<Fact> facts_;  // a ring of the newest ledger_facts_max
  size_t next_ = 0;          // where the next fact goes
  uint64_t acknowledged_ = 0;
  std::vector<Fact> pending_;        // the batch being decided
  std::vector<AckedTotals> totals_;  // by user id - 1
};

// Where a deadline event ranks among those due at one instant (holds, then
// active windows, then idle waiting tokens); -1 for other events.
int due_rank(const Event& e) {
  if (std::holds_alternative<HoldExpired>(e.body)) return 0;
  if (const auto* ended = std::get_if<TokenExpired>(&e.body)) {
    if (ended->reason == TokenEnd::window) return 1;
    if (ended->reason == TokenEnd::idle) return 2;
  }
  return -1;
}

class Simulation {
 public:
  explicit Simulation(const SimOptions& options)
      : options_(options),
        rng_(options.seed),
        config_(random_config(rng_)),
        engine_(std::make_unique<Engine>(config_)) {
    users_ = static_cast<uint32_t>(rng_.range(4, 30));
    tokens_.assign(users_, TokenId::none);
    needs_join_.assign(users_, true);
    log_.reserve(1 << 20);
  }

  SimReport run() {
    create_catalog();
    commit(Fault::none, 0);
    uint64_t i = 0;
    while (i < options_.commands && !report_.failure) {
      const Fault fault = roll_fault();
      // A batch that may be lost: remember the state it started from.
      const bool may_lose = fault == Fault::torn || fault == Fault::write_failed;
      const uint64_t before = may_lose ? state_digest(engine_->state()) : 0;
      batch_joins_.clear();
      const auto batch = static_cast<uint64_t>(rng_.range(1, batch_commands_max));
      for (uint64_t k = 0; k < batch && i < options_.commands && !report_.failure; k++) step(i++);
      commit(fault, before);
    }
    if (!report_.failure) rebuild_and_compare();
    report_.digest = state_digest(engine_->state());
    report_.facts_acknowledged = ledger_.acknowledged();
    return report_;
  }

 private:
  static Config random_config(Rng& rng) {
    Config c;
    c.active_limit = static_cast<uint32_t>(rng.range(1, 12));
    c.hold_ttl_ms = rng.range(1, 30) * 1000;
    c.token_ttl_ms = rng.range(3, 120) * 1000;
    c.queue_idle_ms = rng.range(1, 30) * 1000;
    c.holds_per_user_max = static_cast<uint32_t>(rng.range(1, 4));
    c.queue_span_tokens = 64;
    return c;
  }

  void create_catalog() {
    const int64_t concerts = rng_.range(1, 3);
    for (int64_t c = 0; c < concerts; c++) execute(CreateConcert{random_concert()});
  }

  CreateConcert random_concert() {
    CreateConcert c;
    c.title = "Concert ";
    c.title += std::to_string(rng_.below(1000));
    const int64_t dates = rng_.range(1, 3);
    for (int64_t d = 0; d < dates; d++) {
      // Some dates close during the run (start_day + 0/1), most do not.
      const Day day =
          start_day + static_cast<Day>(rng_.chance(30) ? rng_.range(0, 1) : rng_.range(2, 400));
      c.dates.push_back(NewDate{day, rng_.range(1, 30), rng_.range(0, 5) * 10000});
    }
    return c;
  }

  void step(uint64_t i) {
    advance_time();
    index_ = i;
    execute(random_command());
    check(options_.full_check_every != 0 && i % options_.full_check_every == 0);
  }

  // How a batch's group commit ends: durable and acknowledged; lost whole
  // (a torn write: the process dies before the batch is durable); durable
  // but the process dies before acknowledging it; or the log reports the
  // write failed (nothing acknowledged, the process restarts).
  enum class Fault : uint8_t { none, torn, crash_after_write, write_failed };

  Fault roll_fault() {
    const uint64_t roll = rng_.below(1000);
    if (roll < options_.crash_per_mille) {
      return rng_.chance(50) ? Fault::torn : Fault::crash_after_write;
    }
    if (roll < uint64_t{options_.crash_per_mille} + options_.write_failed_per_mille) {
      return Fault::write_failed;
    }
    return Fault::none;
  }

  void commit(Fault fault, uint64_t digest_before) {
    switch (fault) {
      case Fault::none:
        durable_events_ = ends_.size();
        ledger_.acknowledge();
        if (ends_.size() - snapshot_events_ >= options_.snapshot_every_events) take_snapshot();
        return;
      case Fault::torn:
        report_.torn++;
        lose_batch();
        return restart("after a torn batch", digest_before, digest_before, nullptr);
      case Fault::crash_after_write: {
        report_.unacknowledged++;
        durable_events_ = ends_.size();
        ledger_.discard();
        const uint64_t after = state_digest(engine_->state());
        return restart("after a crash before acknowledging", after, after, nullptr);
      }
      case Fault::write_failed:
        return fail_write(digest_before);
    }
  }

  // The batch never reached the log; its replies were never sent, so the
  // clients never learnt the tokens it issued.
  void lose_batch() {
    ends_.resize(durable_events_);
    log_.resize(durable_events_ == 0 ? 0 : ends_.back());
    forget_batch_tokens();
    ledger_.discard();
  }

  void forget_batch_tokens() {
    for (auto it = batch_joins_.rbegin(); it != batch_joins_.rend(); ++it) {
      tokens_[it->first] = it->second;
    }
  }

  // The log reported the batch's write failed. As in the server, nothing of
  // the batch is acknowledged and the process restarts; the failed write's
  // events may or may not have reached the log.
  void fail_write(uint64_t digest_before) {
    report_.write_failed++;
    const uint64_t after = state_digest(engine_->state());
    if (rng_.chance(50)) {
      report_.write_failed_kept++;
      durable_events_ = ends_.size();
      forget_batch_tokens();
      ledger_.discard();
      return restart("after a failed write whose events reached the log", after, digest_before,
                     "the state before the batch");
    }
    lose_batch();
    restart("after a failed write whose events did not reach the log", digest_before, after,
            "the state after the batch");
  }

  // The process died: a new engine recovers from the newest snapshot and the
  // durable log after it. Every acknowledged fact must hold in the recovered
  // state, and its digest must be `expected`. When `other_is` is set, `other`
  // is the digest of the state the log does not hold, and recovering to it
  // is reported as such.
  void restart(const char* when, uint64_t expected, uint64_t other, const char* other_is) {
    if (rng_.chance(30)) change_flags();
    auto fresh = std::make_unique<Engine>(config_);
    size_t from = 0;
    if (!snapshot_.empty()) {
      const std::string error = fresh->restore(snapshot_);
      if (!error.empty()) return fail(std::string(when) + ": snapshot: " + error);
      from = snapshot_events_;
    }
    if (!replay_into(*fresh, from)) return;
    fresh->begin_serving(now_);
    const std::string lost = ledger_.check(fresh->state(), &report_.facts_checked);
    if (!lost.empty()) return fail(std::string(when) + ": " + lost);
    const uint64_t got = state_digest(fresh->state());
    if (got != expected) {
      if (other_is != nullptr && got == other) {
        return fail(std::string(when) + ": recovery reached " + other_is);
      }
      return fail(std::string(when) + ": recovered state differs from the last durable state");
    }
    // Deadlines that passed while it was down apply at its first command;
    // until then the state is as of its last event.
    check_at(fresh->state().last_event_ms(), true);
    engine_ = std::move(fresh);
  }

  bool replay_into(Engine& engine, size_t from) {
    for (size_t i = from; i < ends_.size(); i++) {
      const size_t start = i == 0 ? 0 : ends_[i - 1];
      Event e;
      if (decode_event(std::span<const uint8_t>(log_.data() + start, ends_[i] - start), &e) !=
          DecodeError::none) {
        fail("decode during recovery");
        return false;
      }
      engine.recover(e);
    }
    return true;
  }

  // An operator restarts with other flags. Events carry their deadlines, so
  // recovery is unaffected; deadlines may now arrive out of order, and a
  // larger active limit admits the next in line at the first command. (A
  // smaller limit would leave more active tokens than it allows until they
  // leave, so the simulator only raises it.)
  void change_flags() {
    config_.active_limit += static_cast<uint32_t>(rng_.range(0, 3));
    config_.hold_ttl_ms = rng_.range(1, 30) * 1000;
    config_.token_ttl_ms = rng_.range(3, 120) * 1000;
    config_.queue_idle_ms = rng_.range(1, 30) * 1000;
  }

  // A snapshot of the durable state, as the snapshot thread writes them.
  void take_snapshot() {
    snapshot_.clear();
    SnapshotCodec::encode(engine_->state(), snapshot_);
    snapshot_events_ = ends_.size();
  }

  void advance_time() {
    if (stall_commands_left_ > 0) return stall_step();
    if (rng_.below(1000000) < options_.stalls_per_million_cmds) return start_stall();
    const uint64_t roll = rng_.below(100);
    if (roll < 70) {
      now_ += rng_.range(0, 50);  // bunched
    } else if (roll < 94) {
      now_ += rng_.range(50, 500);
    } else if (roll < 98) {
      now_ += rng_.range(500, 5000);
    } else if (roll < 99) {
      now_ += rng_.range(5000, 60000);  // a late tick: many deadlines at once
    } else {
      stamp_back_ = rng_.range(1, stamp_back_ms_max);  // a command stamped in the past
      return;
    }
    stamp_back_ = 0;
  }

  // The clock stalls: a stretch of commands all stamped at one instant (a
  // few still arrive stamped in the past), then it jumps ahead. Holds taken
  // in the stretch share one deadline and expire together.
  void start_stall() {
    report_.stalls++;
    stall_commands_left_ =
        static_cast<uint64_t>(rng_.range(stall_commands_min, stall_commands_max));
    stamp_back_ = 0;
  }

  void stall_step() {
    stall_commands_left_--;
    if (stall_commands_left_ == 0) {
      now_ += rng_.range(1, stall_jump_ms_max);
      stamp_back_ = 0;
      return;
    }
    report_.stalled_commands++;
    stamp_back_ = rng_.chance(1) ? rng_.range(1, stamp_back_ms_max) : 0;
  }

  uint32_t random_user() { return static_cast<uint32_t>(rng_.below(users_)); }

  TokenId token_of(uint32_t u) {
    if (rng_.chance(2)) return TokenId{rng_.below(engine_->state().token_count() + 3)};
    return tokens_[u];
  }

  IdempotencyKey random_key() {
    if (rng_.chance(70)) return {};
    std::string key = "k";
    key += std::to_string(rng_.below(8));
    return IdempotencyKey::from(key);
  }

  ConcertId random_concert_id() {
    return ConcertId{static_cast<uint32_t>(rng_.below(engine_->state().concert_count() + 1) + 1)};
  }

  Day random_day(ConcertId concert) {
    const Concert* c = engine_->state().concert(concert);
    if (c == nullptr || rng_.chance(3)) return start_day + static_cast<Day>(rng_.below(10));
    return engine_->state().dates()[c->first_date + rng_.below(c->date_count)].day;
  }

  ReservationId random_reservation(uint32_t u) {
    const State& s = engine_->state();
    const std::optional<UserId> user = s.find_user(user_name(u).view());
    if (user.has_value() && s.user(*user).last_reservation != ReservationId::none &&
        rng_.chance(85)) {
      // Walk back a few of the user's reservations.
      ReservationId id = s.user(*user).last_reservation;
      for (uint64_t k = rng_.below(4); k > 0; k--) {
        const ReservationId prev = s.reservation(id)->prev_of_user;
        if (prev == ReservationId::none) break;
        id = prev;
      }
      return id;
    }
    return ReservationId{static_cast<uint32_t>(rng_.below(s.reservation_count() + 2))};
  }

  UserName user_name(uint32_t u) const {
    std::string name = "user";
    name += std::to_string(u);
    return UserName::from(name);
  }

  CommandBody random_command() {
    const uint32_t u = random_user();
    actor_ = u;
    const TokenId token = token_of(u);
    const uint64_t roll = rng_.below(1000);
    if (roll < 60 || (needs_join_[u] && rng_.chance(80))) return JoinQueue{user_name(u)};
    if (roll < 220) return PollToken{token};
    if (roll < 240) return LeaveQueue{token};
    if (roll < 520) {
      const ConcertId concert = random_concert_id();
      const int64_t seat = rng_.chance(3) ? rng_.range(-1, 40) : rng_.range(1, 30);
      return HoldSeat{token, concert, random_day(concert), seat, random_key()};
    }
    if (roll < 580) return CancelReservation{token, random_reservation(u)};
    if (roll < 650) {
      const int64_t amount = rng_.chance(3) ? rng_.range(-5, 2) : rng_.range(1, 6) * 20000;
      return ChargeBalance{token, amount, random_key()};
    }
    if (roll < 780) {
      Pay pay{token, random_reservation(u), rng_.chance(10), 0, random_key()};
      if (pay.amount_present) pay.amount = rng_.range(0, 5) * 10000;
      return pay;
    }
    if (roll < 820) return Refund{token, random_reservation(u), "changed plans", random_key()};
    if (roll < 850) return GetReservation{token, random_reservation(u)};
    if (roll < 870) return ListReservations{token};
    if (roll < 890) return GetBalance{token};
    if (roll < 905) {
      const int64_t page = rng_.chance(5) ? INT64_MAX : rng_.range(0, 3);
      return ListPayments{token, page, rng_.chance(50) ? rng_.range(1, 3) : rng_.range(0, 101)};
    }
    if (roll < 925) {
      const ConcertId concert = random_concert_id();
      return GetSeats{token, concert, random_day(concert), static_cast<uint32_t>(rng_.below(32)),
                      rng_.chance(50)};
    }
    if (roll < 935) return GetDates{token, random_concert_id()};
    if (roll < 945) return RejectAfterAuth{token, TokenNeed::active, Code::invalid_request};
    if (roll < 947 && engine_->state().concert_count() < 6) return CreateConcert{random_concert()};
    return Tick{};
  }

  void execute(CommandBody body) {
    const Command command{now_ - stamp_back_, std::move(body)};
    const TimeMs clock_before = engine_->now_ms();
    const TimeMs last_event_before = engine_->state().last_event_ms();
    events_.clear();
    const Result r = engine_->execute(command, events_);
    report_.commands++;
    report_.codes[static_cast<size_t>(r.code)]++;
    if (engine_->now_ms() != std::max(clock_before, command.time_ms)) {
      fail("the engine's clock is not the later of its clock and the command's instant");
    }
    record_events(last_event_before);
    if (r.code == Code::token_expired || r.code == Code::unauthorized) needs_join_[actor_] = true;
    if (!r.ok()) return;
    std::visit([&](const auto& c) { on_ok(c, r); }, command.body);
  }

  // A successful reply: what it tells the client is staged in the ledger,
  // and counts once the batch is acknowledged.
  void on_ok(const JoinQueue& c, const Result& r) {
    const uint32_t u = user_index(c.user);
    batch_joins_.emplace_back(u, tokens_[u]);
    tokens_[u] = r.token.token;
    needs_join_[u] = false;
    ledger_.stage(index_, r.created, TokenFact{r.token.token, r.user});
  }

  void on_ok(const HoldSeat& c, const Result& r) {
    const Reservation* res = engine_->state().reservation(r.reservation);
    if (res == nullptr) return fail("result names a missing reservation");
    if (!r.replayed) {
      report_.holds_ok++;
      if (res->status != ReservationStatus::held) fail("a new hold is not held");
      expect_seat(r.reservation, SeatStatus::held);
    }
    ledger_.stage(index_, !r.replayed,
                  HoldFact{r.reservation, r.user, c.concert, c.day, static_cast<uint32_t>(c.seat),
                           res->price, res->expires_ms});
  }

  void on_ok(const CancelReservation&, const Result& r) {
    ledger_.stage(index_, true, CancelFact{r.reservation});
  }

  void on_ok(const ChargeBalance& c, const Result& r) {
    ledger_.stage(index_, !r.replayed, ChargeFact{r.user, c.amount});
  }

  void on_ok(const Pay&, const Result& r) {
    const Payment& p = engine_->state().payment(r.payment);
    if (!r.replayed) {
      report_.payments_ok++;
      if (engine_->state().reservation(p.reservation)->status != ReservationStatus::confirmed) {
        fail("a paid reservation is not confirmed");
      }
      expect_seat(r.reservation, SeatStatus::sold);
    }
    ledger_.stage(index_, !r.replayed, PaymentFact{r.payment, r.reservation, r.user, p.amount});
  }

  void on_ok(const Refund&, const Result& r) {
    if (!r.replayed) report_.refunds_ok++;
    const RefundRecord& f = engine_->state().refund(r.refund);
    ledger_.stage(index_, !r.replayed, RefundFact{r.refund, r.reservation, r.user, f.amount});
  }

  void on_ok(const CreateConcert& c, const Result& r) {
    uint64_t seats = 0;
    for (const NewDate& d : c.dates) seats += static_cast<uint64_t>(d.seats);
    ledger_.stage(
        index_, true,
        ConcertFact{r.concert, digest_of(c.title), static_cast<uint32_t>(c.dates.size()), seats});
  }

  void on_ok(const ListPayments&, const Result& r) { check_payment_page(r); }

  template <typename Other>
  void on_ok(const Other&, const Result&) {}  // reads: nothing to remember

  uint32_t user_index(const UserName& name) const {
    return static_cast<uint32_t>(std::stoul(std::string(name.view().substr(4))));
  }

  // The command's events go to the log. They are in time order, from the
  // last event before them on; deadlines due at one instant come holds
  // first, then active windows, then idle waiting tokens.
  void record_events(TimeMs last_event_ms) {
    TimeMs previous = last_event_ms;
    int previous_rank = -1;
    uint64_t expired_here = 0;
    for (const Event& e : events_) {
      encode_event(e, log_);
      ends_.push_back(log_.size());
      check_exact_deadline(e);
      report_.events++;
      if (e.time_ms > engine_->now_ms()) fail("event stamped after the engine's clock");
      if (e.time_ms < previous) fail("events out of time order");
      const int rank = due_rank(e);
      if (e.time_ms != previous) previous_rank = -1, expired_here = 0;
      if (rank >= 0 && rank < previous_rank) fail("deadlines due at one instant out of order");
      if (rank >= 0) previous_rank = rank;
      if (rank == 0) {
        expired_here++;
        report_.expiries_at_one_instant_max =
            std::max(report_.expiries_at_one_instant_max, expired_here);
      }
      previous = e.time_ms;
    }
  }

  // A page holds min(limit, what is left) payments, newest first.
  void check_payment_page(const Result& r) {
    const State& s = engine_->state();
    const int64_t count = s.user(r.user).payment_count;
    const int64_t left =
        r.page - 1 > count / r.limit ? 0 : std::max<int64_t>(0, count - (r.page - 1) * r.limit);
    int64_t seen = 0;
    PaymentId previous = PaymentId::none;
    s.for_each_payment_on_page(r.user, r.page, r.limit, [&](PaymentId id, const Payment& p) {
      if (p.user != r.user) fail("a payment page shows another user's payment");
      if (previous != PaymentId::none && raw(id) >= raw(previous))
        fail("payments not newest first");
      previous = id;
      seen++;
    });
    if (seen != std::min(left, r.limit)) fail("a payment page has the wrong number of payments");
  }

  // Deadlines are exact: an expiry is stamped with its own deadline, and a
  // hold's deadline is its instant plus the hold TTL.
  void check_exact_deadline(const Event& e) {
    if (const auto* expired = std::get_if<HoldExpired>(&e.body)) {
      report_.expiries++;
      if (e.time_ms != engine_->state().reservation(expired->reservation)->expires_ms) {
        fail("a hold expired at another instant than its deadline");
      }
    } else if (const auto* ended = std::get_if<TokenExpired>(&e.body)) {
      const Token* t = engine_->state().token(ended->token);
      if (ended->reason == TokenEnd::window && e.time_ms != t->expires_ms) {
        fail("an active window ended at another instant than its deadline");
      }
    } else if (const auto* held = std::get_if<SeatHeld>(&e.body)) {
      if (held->expires_ms != e.time_ms + engine_->config().hold_ttl_ms) {
        fail("a hold's deadline is not its instant plus the hold TTL");
      }
    }
  }

  void expect_seat(ReservationId id, SeatStatus want) {
    const Reservation* r = engine_->state().reservation(id);
    if (r == nullptr) return fail("result names a missing reservation");
    const Seat& seat = engine_->state().date(r->date).seats[r->seat - 1];
    if (seat.status != want || seat.reservation != id) fail("seat does not show the result");
  }

  void check(bool full) { check_at(engine_->now_ms(), full); }

  void check_at(TimeMs now_ms, bool full) {
    InvariantOptions o;
    o.now_ms = now_ms;
    o.active_limit = engine_->config().active_limit;
    o.full = full;
    if (const auto v = check_invariants(engine_->state(), o)) fail(*v);
    const State& s = engine_->state();
    if (s.waiting_count() > 0 && s.active_count() < engine_->config().active_limit) {
      fail("a free active slot while tokens wait");
    }
  }

  void rebuild_and_compare() {
    State rebuilt(engine_->config().queue_span_tokens);
    size_t start = 0;
    for (size_t i = 0; i < ends_.size(); i++) {
      Event e;
      const std::span<const uint8_t> bytes(log_.data() + start, ends_[i] - start);
      const DecodeError err = decode_event(bytes, &e);
      if (err != DecodeError::none) return fail(std::string("decode: ") + decode_error_name(err));
      std::vector<uint8_t> again;
      encode_event(e, again);
      if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) {
        return fail("event does not re-encode to the same bytes");
      }
      rebuilt.apply(e);
      start = ends_[i];
    }
    const std::string lost = ledger_.check(rebuilt, &report_.facts_checked);
    if (!lost.empty()) return fail("rebuilt from the log: " + lost);
    if (state_digest(rebuilt) != state_digest(engine_->state())) {
      fail("state rebuilt from the log has another digest");
    }
    if (!snapshot_.empty()) compare_snapshot_and_tail();
    InvariantOptions o;
    o.now_ms = engine_->state().last_event_ms();
    if (const auto v = check_invariants(rebuilt, o)) fail("rebuilt: " + *v);
  }

  void compare_snapshot_and_tail() {
    Engine restored(engine_->config());
    const std::string error = restored.restore(snapshot_);
    if (!error.empty()) return fail("snapshot: " + error);
    if (!replay_into(restored, snapshot_events_)) return;
    if (state_digest(restored.state()) != state_digest(engine_->state())) {
      fail("snapshot + tail has another digest than the live state");
    }
  }

  void fail(const std::string& what) {
    if (!report_.failure) {
      std::string failure = "command ";
      failure += std::to_string(index_);
      failure += ": ";
      failure += what;
      report_.failure = failure;
    }
  }

  SimOptions options_;
  Rng rng_;
  Config config_;
  std::unique_ptr<Engine> engine_;
  size_t durable_events_ = 0;
  std::vector<std::pair<uint32_t, TokenId>> batch_joins_;  // (user, token before) this batch
  uint32_t users_ = 0;
  std::vector<TokenId> tokens_;
  std::vector<bool> needs_join_;  // the user's last request said its token is gone
  uint32_t actor_ = 0;
  TimeMs now_ = start_ms - 3 * limits::ms_per_day;
  TimeMs stamp_back_ = 0;
  uint64_t stall_commands_left_ = 0;  // > 0: the clock is stalled
  uint64_t index_ = 0;
  std::vector<Event> events_;
  std::vector<uint8_t> log_;
  std::vector<size_t> ends_;
  std::vector<uint8_t> snapshot_;
  size_t snapshot_events_ = 0;
  AckLedger ledger_;
  SimReport report_;
};

}  // namespace

SimReport run_simulation(const SimOptions& options) { return Simulation(options).run(); }

}  // namespace boxoffice::sim
