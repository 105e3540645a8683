// The check after a run: the server's seat maps against the client's ledger.
//
// Every seat is expected to be sold when the ledger has its payment, held when
// it has a granted hold that was neither cancelled nor ended and whose
// expiresAt is after the check (holds that expire while the check runs, within
// a margin, are left out), and available otherwise. Two live records on one
// seat mean the server granted one seat twice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/load/ledger.hpp"

namespace boxoffice::load {

struct Verdict {
  bool checked = false;
  std::string skipped;  // why there was no check, when there was none
  uint64_t server_held = 0;
  uint64_t server_sold = 0;
  uint64_t granted = 0;    // holds the server granted (201)
  uint64_t cancelled = 0;  // of which cancelled
  uint64_t ended = 0;      // of which ended (expired: refused as not cancellable or payable)
  uint64_t expired = 0;    // of which past their expiresAt at the check
  uint64_t expected_held = 0;
  uint64_t expected_sold = 0;
  uint64_t uncertain = 0;         // holds expiring during the check
  uint64_t unknown_outcomes = 0;  // requests whose answer never came
  uint64_t mismatched_seats = 0;
  uint64_t double_booked = 0;  // seats with two live reservations
  bool ok = false;
};

inline constexpr int64_t expiry_margin_ms = 2'000;

// statuses[date][seat - 1] as read from the seat maps between check_from_ms and
// check_to_ms (system clock).
Verdict verify_seats(const Ledger& ledger, const std::vector<std::vector<uint8_t>>& statuses,
                     int64_t check_from_ms, int64_t check_to_ms);

std::string describe(const Verdict& verdict);

}  // namespace boxoffice::load
