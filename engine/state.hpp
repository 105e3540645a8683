// State: everything the engine knows, rebuilt from the log by apply().
//
// `apply(event)` is the only code that changes durable state; recovery, the
// replay tool and the live engine all call it. Tables are dense arrays
// indexed by id (id 1 is element 0). A concert date's seats are one flat
// array of 8-byte entries.
//
// Soft state, which a restart may reset and which the digest leaves out: the
// instant each token was last seen (it drives the waiting room's idle drop,
// and every drop is an event, so nothing durable depends on it).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/event.hpp"
#include "engine/flat_index.hpp"
#include "engine/idempotency_table.hpp"
#include "engine/keyed_hash.hpp"
#include "engine/ring_fenwick.hpp"
#include "engine/types.hpp"

namespace boxoffice {

struct Seat {
  ReservationId reservation = ReservationId::none;  // the live reservation, if any
  SeatStatus status = SeatStatus::available;
};
static_assert(sizeof(Seat) == 8);

struct DateEntry {
  ConcertId concert = ConcertId::none;
  Day day = 0;
  uint32_t available = 0;
  uint32_t seat_offset = 0;  // into the concert's seat array
  int64_t price = 0;
  std::span<const Seat> seats;  // seat n is seats[n - 1]

  uint32_t total() const { return static_cast<uint32_t>(seats.size()); }
  TimeMs sales_close_ms() const { return day * limits::ms_per_day; }
};

struct Concert {
  std::string title;
  // The seats of all the concert's dates, in date order: one array, so that
  // a big concert's seat map is one allocation (and can sit on huge pages).
  std::vector<Seat> seats;
  uint32_t first_date = 0;  // index into the date table; dates ascend by day
  uint32_t date_count = 0;
  // A direct day -> date table over [first day, first day + day_span), when
  // the dates are dense enough (day_span 0: none; find by binary search).
  Day first_day = 0;
  uint32_t day_span = 0;
  uint32_t day_table_offset = 0;
};

// A concert moves without copying its seat array (dates point into it).
static_assert(std::is_nothrow_move_constructible_v<Concert>);

struct User {
  int64_t balance = 0;
  int64_t charged_total = 0;
  int64_t paid_total = 0;
  int64_t refunded_total = 0;
  TokenId live_token = TokenId::none;
  uint32_t held_count = 0;
  uint32_t reservation_count = 0;
  uint32_t payment_count = 0;
  ReservationId last_reservation = ReservationId::none;  // newest; list via prev_of_user
  PaymentId last_payment = PaymentId::none;
  UserName name;  // last: the fields above are the hot ones
};

struct Token {
  UserId user = UserId::none;
  TokenStatus status = TokenStatus::waiting;
  TokenEnd end = TokenEnd::window;  // meaningful once expired
  TimeMs issued_ms = 0;
  TimeMs activated_ms = 0;
  TimeMs expires_ms = 0;  // end of the active window
  TimeMs ended_ms = 0;
  TimeMs seen_ms = 0;  // soft: last activity while waiting
};

struct Reservation {
  UserId user = UserId::none;
  DateRef date{};
  uint32_t seat = 0;
  ReservationStatus status = ReservationStatus::held;
  int64_t price = 0;
  TimeMs created_ms = 0;
  TimeMs expires_ms = 0;
  TimeMs paid_ms = 0;  // 0: never paid
  TimeMs cancelled_ms = 0;
  TimeMs refunded_ms = 0;
  ReservationId prev_of_user = ReservationId::none;
  PaymentId payment = PaymentId::none;
  RefundId refund = RefundId::none;
};

struct Payment {
  ReservationId reservation = ReservationId::none;
  UserId user = UserId::none;
  int64_t amount = 0;
  int64_t balance_after = 0;
  TimeMs paid_ms = 0;
  PaymentId prev_of_user = PaymentId::none;
};

struct RefundRecord {
  ReservationId reservation = ReservationId::none;
  int64_t amount = 0;
  int64_t balance_after = 0;
  TimeMs created_ms = 0;
};

class State {
 public:
  // `hash_key` keys the indexes of user names and idempotency keys
  // (keyed_hash.hpp); it changes no outcome.
  explicit State(uint64_t queue_span_tokens = limits::queue_span_tokens_default,
                 const HashKey& hash_key = HashKey{});
  // Dates hold spans into their concert's seat array: a copy would alias
  // the original's seats, so a State is moved, never copied.
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  State(State&&) = default;
  State& operator=(State&&) = default;

  // The only mutator of durable state. REQUIRES: the event is valid for the
  // current state (the engine decided it, or it was decided against the same
  // state before); a violation is an assertion failure.
  void apply(const Event& event);

  // A hint with no effect: starts loading the memory apply(event) touches
  // first (a seat, a reservation, a user, a token, the slot of an
  // idempotency key or a user name in its index), for callers applying a
  // stream.
  void prefetch(const Event& event) const;
  void prefetch_user(UserId id) const;
  void prefetch_token(TokenId id) const;
  void prefetch_reservation(ReservationId id) const;
  void prefetch_idempotent(UserId user, const IdempotencyTag& tag) const;

  // Soft state: a waiting token showed activity at `now_ms`.
  void touch_token(TokenId token, TimeMs now_ms);

  uint64_t queue_span_tokens() const { return fenwick_.span(); }
  const HashKey& hash_key() const { return hash_key_; }

  // Sequence number of the last applied event (0: none) and its instant.
  uint64_t last_seq() const { return last_seq_; }
  TimeMs last_event_ms() const { return last_event_ms_; }

  // Catalog.
  size_t concert_count() const { return concerts_.size(); }
  const Concert* concert(ConcertId id) const {
    if (raw(id) == 0 || raw(id) > concerts_.size()) return nullptr;
    return &concerts_[raw(id) - 1];
  }
  const DateEntry& date(DateRef ref) const { return dates_[raw(ref)]; }
  std::optional<DateRef> find_date(ConcertId id, Day day) const {
    const Concert* c = concert(id);
    if (c == nullptr) return std::nullopt;
    if (c->day_span == 0) return search_date(*c, day);
    const auto offset = static_cast<uint64_t>(static_cast<int64_t>(day) - c->first_day);
    if (offset >= c->day_span) return std::nullopt;  // also: day before the first
    const uint32_t entry = day_table_[c->day_table_offset + offset];
    if (entry == 0) return std::nullopt;
    return DateRef{entry - 1};
  }
  uint64_t seats_total() const { return seats_total_; }

  // Users.
  size_t user_count() const { return users_.size(); }
  const User& user(UserId id) const {
    BOXOFFICE_ASSERT(raw(id) >= 1 && raw(id) <= users_.size());
    return users_[raw(id) - 1];
  }
  std::optional<UserId> find_user(std::string_view name) const;

  // Tokens and the waiting room.
  uint64_t token_count() const { return tokens_.size(); }
  const Token* token(TokenId id) const {
    if (raw(id) == 0 || raw(id) > tokens_.size()) return nullptr;
    return &tokens_[raw(id) - 1];
  }
  uint64_t waiting_count() const { return fenwick_.marked(); }
  uint32_t active_count() const { return active_count_; }
  // Place in line of a waiting token: 1 for the head.
  uint64_t waiting_position(TokenId id) const;
  // The head of the line, or none.
  TokenId next_waiting() const;
  // The id the next issued token will get, and whether the line has room
  // for it (the ids of waiting tokens must fit in one ring span).
  TokenId next_token_id() const { return TokenId{tokens_.size() + 1}; }
  bool line_has_room() const;
  // Promotions from the line (not admissions at join) per 1 s bucket.
  uint64_t promotions_within(TimeMs now_ms, uint32_t window_s, uint32_t* span_s_out) const;

  // Reservations, payments, refunds.
  uint32_t reservation_count() const { return static_cast<uint32_t>(reservations_.size()); }
  const Reservation* reservation(ReservationId id) const {
    if (raw(id) == 0 || raw(id) > reservations_.size()) return nullptr;
    return &reservations_[raw(id) - 1];
  }
  uint32_t payment_count() const { return static_cast<uint32_t>(payments_.size()); }
  const Payment& payment(PaymentId id) const;
  uint32_t refund_count() const { return static_cast<uint32_t>(refunds_.size()); }
  const RefundRecord& refund(RefundId id) const;
  uint64_t live_reservations() const { return live_reservations_; }

  // A user's reservations, newest first: visit(ReservationId, const Reservation&).
  template <typename Visit>
  void for_each_reservation(UserId id, Visit&& visit) const {
    for (ReservationId r = user(id).last_reservation; r != ReservationId::none;) {
      const Reservation& res = reservations_[raw(r) - 1];
      visit(r, res);
      r = res.prev_of_user;
    }
  }
  // One page of a user's payments, newest first: visit(PaymentId, const
  // Payment&). REQUIRES: page >= 1, 1 <= limit <= payments_page_limit_max.
  // A page past the end visits nothing (no overflow for any page).
  template <typename Visit>
  void for_each_payment_on_page(UserId id, int64_t page, int64_t limit, Visit&& visit) const {
    BOXOFFICE_ASSERT(page >= 1 && limit >= 1 && limit <= limits::payments_page_limit_max);
    const User& u = user(id);
    if (page - 1 >= (int64_t{u.payment_count} + limit - 1) / limit) return;
    int64_t skip = (page - 1) * limit;
    int64_t left = limit;
    for (PaymentId p = u.last_payment; p != PaymentId::none && left > 0;) {
      const Payment& pay = payments_[raw(p) - 1];
      if (skip > 0) {
        skip--;
      } else {
        visit(p, pay);
        left--;
      }
      p = pay.prev_of_user;
    }
  }

  // Idempotency keys.
  const IdempotentEntry* idempotent(UserId user, const IdempotencyKey& key) const;
  size_t idempotent_count() const { return idempotent_.size(); }
  // Instant the oldest remembered key was first used, or nullopt.
  std::optional<TimeMs> oldest_idempotent_ms() const;

  // Iteration for the digest, the invariant checker and snapshots.
  std::span<const Concert> concerts() const { return concerts_; }
  std::span<const DateEntry> dates() const { return dates_; }
  std::span<const User> users() const { return users_; }
  std::span<const Token> tokens() const { return tokens_; }
  std::span<const Reservation> reservations() const { return reservations_; }
  std::span<const Payment> payments() const { return payments_; }
  std::span<const RefundRecord> refunds() const { return refunds_; }
  template <typename Visit>
  void for_each_idempotent(Visit&& visit) const {
    idempotent_.for_each(visit);
  }
  struct PromotionBucket {
    int64_t second = -1;
    uint32_t count = 0;
  };
  std::span<const PromotionBucket> promotion_buckets() const { return promotions_; }
  int64_t first_promotion_s() const { return first_promotion_s_; }

  // Reserves (and touches) table capacity so that the hot path neither
  // reallocates nor takes first-touch page faults.
  void reserve(uint32_t users, uint64_t tokens, uint32_t reservations, uint32_t payments);
  // Reserves address space, without touching it, for `events` more events
  // in the tables that gain at most one entry per event (users, tokens,
  // reservations, payments, refunds, idempotency keys), each capped at
  // table_reserve_bytes_max: a recovery then appends in place, and the
  // tables' pages can be faulted in ahead of it (table_regions()).
  void reserve_for_events(uint64_t events);

  // Where those tables' entries live: the bytes in use and the bytes
  // reserved from `data` on. Valid until the next apply.
  struct TableRegion {
    const void* data = nullptr;
    size_t used_bytes = 0;
    size_t capacity_bytes = 0;
  };
  static constexpr size_t table_region_count = 6;
  std::array<TableRegion, table_region_count> table_regions() const;

 private:
  friend class SnapshotCodec;

  void on(TimeMs t, const UserCreated& e);
  void on(TimeMs t, const TokenIssued& e);
  void on(TimeMs t, const TokenActivated& e);
  void on(TimeMs t, const TokenExpired& e);
  void on(TimeMs t, const ConcertCreated& e);
  void on(TimeMs t, const SeatHeld& e);
  void on(TimeMs t, const HoldExpired& e);
  void on(TimeMs t, const ReservationCancelled& e);
  void on(TimeMs t, const BalanceCharged& e);
  void on(TimeMs t, const PaymentCompleted& e);
  void on(TimeMs t, const RefundIssued& e);
  void on(TimeMs t, const IdempotencyForgotten& e);

  std::optional<DateRef> search_date(const Concert& c, Day day) const;
  Token& token_mut(TokenId id);
  User& user_mut(UserId id);
  Reservation& reservation_mut(ReservationId id);
  Seat& seat_mut(const Reservation& r);
  void end_hold(Reservation& r);
  void remember(UserId user, const IdempotencyTag& tag, IdempotentKind kind, uint64_t id,
                int64_t balance_after, TimeMs t);
  uint64_t name_hash(std::string_view name) const { return keyed_hash(hash_key_, name); }
  void count_promotion(TimeMs t);

  HashKey hash_key_;
  uint64_t last_seq_ = 0;
  TimeMs last_event_ms_ = 0;

  std::vector<Concert> concerts_;
  std::vector<DateEntry> dates_;
  std::vector<Day> date_days_;       // dates_[i].day, packed for the binary search
  std::vector<uint32_t> day_table_;  // concerts' day tables: date index + 1, or 0
  uint64_t seats_total_ = 0;

  std::vector<User> users_;
  FlatIndex user_by_name_;  // hash of the name -> user id

  std::vector<Token> tokens_;
  RingFenwick fenwick_;     // marks waiting token ids
  uint64_t line_head_ = 1;  // no waiting token has an id below this
  uint32_t active_count_ = 0;
  std::array<PromotionBucket, limits::admission_window_s> promotions_{};
  int64_t first_promotion_s_ = -1;

  std::vector<Reservation> reservations_;
  uint64_t live_reservations_ = 0;  // held or confirmed
  std::vector<Payment> payments_;
  std::vector<RefundRecord> refunds_;

  IdempotencyTable idempotent_;
};

}  // namespace boxoffice
