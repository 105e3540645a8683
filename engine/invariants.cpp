#include "engine/invariants.hpp"

#include <string>

namespace boxoffice {

namespace {

std::string where(const char* what, uint64_t id) {
  return std::string(what) + " " + std::to_string(id);
}

// Invariant 1 from the seats' side, and invariant 2 for every held seat.
std::optional<std::string> check_seats(const State& s, TimeMs now_ms) {
  uint64_t live = 0;
  for (size_t d = 0; d < s.dates().size(); d++) {
    const DateEntry& date = s.dates()[d];
    uint32_t available = 0;
    for (uint32_t n = 1; n <= date.total(); n++) {
      const Seat& seat = date.seats[n - 1];
      if (seat.status == SeatStatus::available) {
        if (seat.reservation != ReservationId::none)
          return where("available seat has a reservation, date", d);
        available++;
        continue;
      }
      live++;
      const Reservation* r = s.reservation(seat.reservation);
      if (r == nullptr) return where("taken seat without reservation, date", d);
      if (raw(r->date) != d || r->seat != n)
        return where("reservation points elsewhere", raw(seat.reservation));
      const ReservationStatus want =
          seat.status == SeatStatus::held ? ReservationStatus::held : ReservationStatus::confirmed;
      if (r->status != want)
        return where("seat and reservation disagree, reservation", raw(seat.reservation));
      if (seat.status == SeatStatus::held && r->expires_ms <= now_ms) {
        return where("hold outlived its deadline, reservation", raw(seat.reservation));
      }
    }
    if (available != date.available) return where("available count wrong, date", d);
  }
  if (live != s.live_reservations()) return std::string("live reservation count wrong");
  return std::nullopt;
}

// Invariant 1 from the reservations' side: every live reservation owns its seat.
std::optional<std::string> check_reservations(const State& s) {
  const auto all = s.reservations();
  for (size_t i = 0; i < all.size(); i++) {
    const Reservation& r = all[i];
    if (r.status != ReservationStatus::held && r.status != ReservationStatus::confirmed) continue;
    const Seat& seat = s.date(r.date).seats[r.seat - 1];
    if (raw(seat.reservation) != i + 1) return where("live reservation lost its seat", i + 1);
  }
  return std::nullopt;
}

// Invariant 3, and the users' counters.
std::optional<std::string> check_users(const State& s) {
  for (size_t i = 0; i < s.users().size(); i++) {
    const User& u = s.users()[i];
    if (u.balance < 0) return where("negative balance, user", i + 1);
    if (u.balance != u.charged_total - u.paid_total + u.refunded_total) {
      return where("balance != charges - payments + refunds, user", i + 1);
    }
    if (u.live_token != TokenId::none) {
      const Token* t = s.token(u.live_token);
      if (t == nullptr || t->status == TokenStatus::expired || raw(t->user) != i + 1) {
        return where("live token not live, user", i + 1);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_invariants(const State& state, const InvariantOptions& options) {
  if (auto v = check_seats(state, options.now_ms)) return v;
  if (auto v = check_users(state)) return v;
  if (options.active_limit != 0 && state.active_count() > options.active_limit) {
    return std::string("active tokens exceed the active limit");
  }
  if (options.full) {
    if (auto v = check_reservations(state)) return v;
    uint64_t active = 0;
    for (const Token& t : state.tokens()) active += t.status == TokenStatus::active ? 1 : 0;
    if (active != state.active_count()) return std::string("active token count wrong");
  }
  return std::nullopt;
}

}  // namespace boxoffice
