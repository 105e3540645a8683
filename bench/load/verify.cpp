#include "bench/load/verify.hpp"

#include <fmt/format.h>

#include "bench/load/api.hpp"

namespace boxoffice::load {
namespace {

enum Expect : uint8_t { none = 0, held = 1, sold = 2, uncertain = 3 };

struct Expectation {
  std::vector<std::vector<uint8_t>> seats;  // Expect per seat
  std::vector<std::vector<uint8_t>> live;   // live records per seat (saturating)
};

// Classifies each record and writes what its seat should show.
void expect_records(const Ledger& ledger, int64_t from_ms, int64_t to_ms, Expectation& e,
                    Verdict& v) {
  for (const HoldRecord& r : ledger.records()) {
    ++v.granted;
    if (r.date_index >= e.seats.size() || r.seat == 0 || r.seat > e.seats[r.date_index].size()) {
      ++v.mismatched_seats;  // the server granted a seat that does not exist
      continue;
    }
    uint8_t& seat = e.seats[r.date_index][r.seat - 1];
    uint8_t& live = e.live[r.date_index][r.seat - 1];
    Expect expect = none;
    if (r.state == HoldState::cancelled) {
      ++v.cancelled;
    } else if (r.state == HoldState::ended) {
      ++v.ended;
    } else if (r.state == HoldState::paid) {
      expect = sold;
    } else if (r.expires_ms > to_ms + expiry_margin_ms) {
      expect = held;
    } else if (r.expires_ms <= from_ms - expiry_margin_ms) {
      ++v.expired;
    } else {
      expect = uncertain;
    }
    if (expect == none) continue;
    if (live < 255) ++live;
    if (live == 2) ++v.double_booked;
    if (seat == uncertain) continue;
    seat = expect;
  }
}

}  // namespace

Verdict verify_seats(const Ledger& ledger, const std::vector<std::vector<uint8_t>>& statuses,
                     int64_t check_from_ms, int64_t check_to_ms) {
  Verdict v;
  v.checked = true;
  v.unknown_outcomes = ledger.unknown_outcomes();
  Expectation e;
  for (const auto& date : statuses) {
    e.seats.emplace_back(date.size(), none);
    e.live.emplace_back(date.size(), 0);
  }
  expect_records(ledger, check_from_ms, check_to_ms, e, v);
  uint64_t unreadable = 0;
  for (size_t d = 0; d < statuses.size(); ++d) {
    for (size_t s = 0; s < statuses[d].size(); ++s) {
      const uint8_t server = statuses[d][s];
      const uint8_t expect = e.seats[d][s];
      v.server_held += server == SeatStatus::held ? 1 : 0;
      v.server_sold += server == SeatStatus::sold ? 1 : 0;
      unreadable += server == SeatStatus::unknown ? 1 : 0;
      v.expected_held += expect == held ? 1 : 0;
      v.expected_sold += expect == sold ? 1 : 0;
      v.uncertain += expect == uncertain ? 1 : 0;
      if (expect == uncertain) continue;
      const bool agree = (expect == none && server == SeatStatus::available) ||
                         (expect == held && server == SeatStatus::held) ||
                         (expect == sold && server == SeatStatus::sold);
      v.mismatched_seats += agree ? 0 : 1;
    }
  }
  v.ok = v.double_booked == 0 && unreadable == 0 && v.mismatched_seats <= v.unknown_outcomes;
  return v;
}

std::string describe(const Verdict& v) {
  if (!v.checked) return fmt::format("verify: skipped ({})", v.skipped);
  std::string text = fmt::format(
      "verify: the seat maps show {} held + {} sold; the client expects {} held + {} sold "
      "({} holds granted - {} cancelled - {} ended - {} expired",
      v.server_held, v.server_sold, v.expected_held, v.expected_sold, v.granted, v.cancelled,
      v.ended, v.expired);
  if (v.uncertain > 0)
    text += fmt::format("; {} expiring during the check not counted", v.uncertain);
  text += fmt::format("); {} seats disagree", v.mismatched_seats);
  if (v.unknown_outcomes > 0) {
    text += fmt::format(" ({} requests got no answer, so up to that many may)", v.unknown_outcomes);
  }
  text += v.double_booked == 0 ? "; no seat held or sold twice"
                               : fmt::format("; {} seats held or sold twice", v.double_booked);
  text += v.ok ? ": OK" : ": FAILED";
  return text;
}

}  // namespace boxoffice::load
