#include "tests/sim/simulator.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <string>
#include <utility>
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
      // A torn batch is lost whole: remember the state it started from.
      const uint64_t before = fault == Fault::torn ? state_digest(engine_->state()) : 0;
      batch_joins_.clear();
      const uint64_t batch = rng_.range(1, 32);
      for (uint64_t k = 0; k < batch && i < options_.commands && !report_.failure; k++) step(i++);
      commit(fault, before);
    }
    if (!report_.failure) rebuild_and_compare();
    report_.digest = state_digest(engine_->state());
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
  // (a torn write: the process dies before the batch is durable); or
  // durable but the process dies before acknowledging it.
  enum class Fault : uint8_t { none, torn, crash_after_write };

  Fault roll_fault() {
    if (options_.crash_per_mille == 0) return Fault::none;
    if (rng_.below(1000) >= options_.crash_per_mille) return Fault::none;
    return rng_.chance(50) ? Fault::torn : Fault::crash_after_write;
  }

  void commit(Fault fault, uint64_t digest_before) {
    if (fault == Fault::torn) {
      // The batch never reached the log; its replies were never sent, so
      // the clients never learnt the tokens it issued.
      ends_.resize(durable_events_);
      log_.resize(durable_events_ == 0 ? 0 : ends_.back());
      for (auto it = batch_joins_.rbegin(); it != batch_joins_.rend(); ++it) {
        tokens_[it->first] = it->second;
      }
      return restart(digest_before);
    }
    durable_events_ = ends_.size();
    if (fault == Fault::crash_after_write) return restart(state_digest(engine_->state()));
    if (ends_.size() - snapshot_events_ >= options_.snapshot_every_events) take_snapshot();
  }

  // The process died: a new engine recovers from the newest snapshot and the
  // durable log after it, and must reach the state of the last durable point.
  void restart(uint64_t expected_digest) {
    report_.crashes++;
    if (rng_.chance(30)) change_flags();
    auto fresh = std::make_unique<Engine>(config_);
    size_t from = 0;
    if (!snapshot_.empty()) {
      const std::string error = fresh->restore(snapshot_);
      if (!error.empty()) return fail("snapshot: " + error);
      from = snapshot_events_;
    }
    if (!replay_into(*fresh, from)) return;
    fresh->begin_serving(now_);
    if (state_digest(fresh->state()) != expected_digest) {
      return fail("recovered state differs from the last durable state");
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
    const uint64_t roll = rng_.below(100);
    if (roll < 70) {
      now_ += rng_.range(0, 50);
    } else if (roll < 94) {
      now_ += rng_.range(50, 500);
    } else if (roll < 98) {
      now_ += rng_.range(500, 5000);
    } else if (roll < 99) {
      now_ += rng_.range(5000, 60000);  // a late tick: many deadlines at once
    } else {
      stamp_back_ = rng_.range(1, 5000);  // a command stamped in the past
      return;
    }
    stamp_back_ = 0;
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
    const bool is_join = std::holds_alternative<JoinQueue>(body);
    const bool is_hold = std::holds_alternative<HoldSeat>(body);
    const bool is_pay = std::holds_alternative<Pay>(body);
    const bool is_refund = std::holds_alternative<Refund>(body);
    const bool is_list = std::holds_alternative<ListPayments>(body);
    UserName joined;
    if (is_join) joined = std::get<JoinQueue>(body).user;
    events_.clear();
    const Result r = engine_->execute(Command{now_ - stamp_back_, std::move(body)}, events_);
    report_.commands++;
    report_.codes[static_cast<size_t>(r.code)]++;
    record_events();
    if (r.code == Code::token_expired || r.code == Code::unauthorized) needs_join_[actor_] = true;
    if (!r.ok()) return;
    if (is_join) {
      batch_joins_.emplace_back(user_index(joined), tokens_[user_index(joined)]);
      tokens_[user_index(joined)] = r.token.token;
      needs_join_[user_index(joined)] = false;
    }
    if (is_hold && !r.replayed) {
      report_.holds_ok++;
      expect_seat(r.reservation, SeatStatus::held);
    }
    if (is_pay && !r.replayed) {
      report_.payments_ok++;
      expect_seat(r.reservation, SeatStatus::sold);
    }
    if (is_refund && !r.replayed) report_.refunds_ok++;
    if (is_list) check_payment_page(r);
  }

  uint32_t user_index(const UserName& name) const {
    return static_cast<uint32_t>(std::stoul(std::string(name.view().substr(4))));
  }

  void record_events() {
    for (const Event& e : events_) {
      const size_t start = log_.size();
      encode_event(e, log_);
      ends_.push_back(log_.size());
      (void)start;
      check_exact_deadline(e);
      report_.events++;
      if (e.time_ms > engine_->now_ms()) fail("event stamped after the engine's clock");
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

  // Deadlines are exact: an expiry is stamped with its own deadline.
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
  uint64_t index_ = 0;
  std::vector<Event> events_;
  std::vector<uint8_t> log_;
  std::vector<size_t> ends_;
  std::vector<uint8_t> snapshot_;
  size_t snapshot_events_ = 0;
  SimReport report_;
};

}  // namespace

SimReport run_simulation(const SimOptions& options) { return Simulation(options).run(); }

}  // namespace boxoffice::sim
