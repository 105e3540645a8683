#include "bench/load/verify.hpp"

#include <doctest/doctest.h>

#include "bench/load/api.hpp"

namespace boxoffice::load {
namespace {

constexpr int64_t now_ms = 1'000'000;
constexpr int64_t later_ms = now_ms + 300'000;

std::vector<std::vector<uint8_t>> seat_maps(size_t dates, size_t seats) {
  return std::vector<std::vector<uint8_t>>(dates,
                                           std::vector<uint8_t>(seats, SeatStatus::available));
}

}  // namespace

TEST_CASE("seat maps that match the ledger pass") {
  Ledger ledger;
  ledger.granted(1, 0, 1, later_ms, 0);  // held
  ledger.granted(2, 0, 2, later_ms, 0);  // paid
  ledger.paid(2, 0);
  ledger.granted(3, 1, 3, later_ms, 0);  // cancelled
  ledger.cancelled(3);
  ledger.granted(4, 1, 4, now_ms - 10'000, 0);  // expired before the check
  ledger.granted(5, 1, 4, later_ms, 0);         // the same seat, held again afterwards
  auto maps = seat_maps(2, 5);
  maps[0][0] = SeatStatus::held;
  maps[0][1] = SeatStatus::sold;
  maps[1][3] = SeatStatus::held;
  const Verdict v = verify_seats(ledger, maps, now_ms, now_ms + 100);
  CHECK(v.ok);
  CHECK(v.server_held == 2);
  CHECK(v.server_sold == 1);
  CHECK(v.expected_held == 2);
  CHECK(v.expected_sold == 1);
  CHECK(v.granted == 5);
  CHECK(v.cancelled == 1);
  CHECK(v.expired == 1);
  CHECK(v.mismatched_seats == 0);
  CHECK(v.double_booked == 0);
  CHECK(describe(v).ends_with(": OK"));
}

TEST_CASE("a seat granted to two live reservations fails") {
  Ledger ledger;
  ledger.granted(1, 0, 1, later_ms, 0);
  ledger.granted(2, 0, 1, later_ms, 0);
  auto maps = seat_maps(1, 3);
  maps[0][0] = SeatStatus::held;
  const Verdict v = verify_seats(ledger, maps, now_ms, now_ms);
  CHECK(!v.ok);
  CHECK(v.double_booked == 1);
  CHECK(describe(v).ends_with(": FAILED"));
}

TEST_CASE("a seat held on the server that the ledger does not know of fails") {
  Ledger ledger;
  auto maps = seat_maps(1, 3);
  maps[0][2] = SeatStatus::sold;
  const Verdict v = verify_seats(ledger, maps, now_ms, now_ms);
  CHECK(!v.ok);
  CHECK(v.mismatched_seats == 1);
}

TEST_CASE("requests without an answer excuse as many disagreeing seats") {
  Ledger ledger;
  ledger.unknown_outcome();  // a hold that may or may not have been granted
  auto maps = seat_maps(1, 3);
  maps[0][1] = SeatStatus::held;
  const Verdict v = verify_seats(ledger, maps, now_ms, now_ms);
  CHECK(v.ok);
  CHECK(v.mismatched_seats == 1);
  CHECK(v.unknown_outcomes == 1);
}

TEST_CASE("a hold expiring during the check is not judged") {
  Ledger ledger;
  ledger.granted(1, 0, 1, now_ms + 500, 0);
  auto maps = seat_maps(1, 2);  // the server already expired it
  const Verdict v = verify_seats(ledger, maps, now_ms, now_ms + 1000);
  CHECK(v.ok);
  CHECK(v.uncertain == 1);
}

TEST_CASE("a held seat the server shows available fails") {
  Ledger ledger;
  ledger.granted(1, 0, 2, later_ms, 0);
  const Verdict v = verify_seats(ledger, seat_maps(1, 2), now_ms, now_ms);
  CHECK(!v.ok);
  CHECK(v.mismatched_seats == 1);
}

}  // namespace boxoffice::load
