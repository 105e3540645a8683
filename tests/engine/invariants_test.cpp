// check_invariants: silent on every state the engine makes, and names each
// violation (invariants.cpp).
//
// apply() refuses to build a broken state, so the broken states here are
// made by patching a snapshot (the format is in engine/snapshot.hpp) and
// fixing up its digest so that the decoder accepts it.
#include "engine/invariants.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/snapshot.hpp"
#include "tests/engine/engine_fixture.hpp"

namespace boxoffice::test {
namespace {

constexpr Day d1 = day("2027-02-01");

// One concert titled "T" with one date of two seats at 100; users "u" (balance
// 500, holding seat 1 as reservation 1) and "v", both with active tokens.
void base(EngineFixture& f) {
  const ConcertId c = f.create_concert({{d1, 2, 100}}, "T");
  const TokenId u = f.join_active("u");
  f.join_active("v");
  f.charge(u, 500);
  f.hold(u, c, d1, 1);
}

// Offsets in the snapshot of base(), from the snapshot grammar.
constexpr size_t header_bytes = 2 + 8 + 8 + 8;
constexpr size_t digest_at = 2;
constexpr size_t seats_at = header_bytes + 4 + (2 + 1) + 2 + (4 + 8 + 4);
constexpr size_t seat_bytes = 4 + 1;  // reservation, status
constexpr size_t users_at = seats_at + 2 * seat_bytes;
constexpr size_t user_bytes = (1 + 1) + 4 * 8 + 8 + 5 * 4;  // a one-letter name
constexpr size_t balance_at = users_at + 4 + 2;             // user 1's
constexpr size_t charged_at = balance_at + 8;
constexpr size_t tokens_at = users_at + 4 + 2 * user_bytes;
constexpr size_t token_status_at = tokens_at + 8 + 4;  // token 1's

uint64_t read_le(const std::vector<uint8_t>& bytes, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) v |= uint64_t{bytes.at(at + i)} << (8 * i);
  return v;
}
void write_le(std::vector<uint8_t>& bytes, size_t at, size_t width, uint64_t v) {
  for (size_t i = 0; i < width; i++) bytes.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
}

class Broken {
 public:
  Broken() {
    base(f_);
    SnapshotCodec::encode(f_.engine.state(), bytes_);
    // The offsets point where they should.
    REQUIRE(read_le(bytes_, seats_at, 4) == 1);                   // seat 1: reservation 1
    REQUIRE(read_le(bytes_, seats_at + 4, 1) == 1);               // held
    REQUIRE(read_le(bytes_, seats_at + seat_bytes + 4, 1) == 0);  // seat 2 available
    REQUIRE(read_le(bytes_, balance_at, 8) == 500);
    REQUIRE(read_le(bytes_, users_at + 4 + 1, 1) == 'u');
    REQUIRE(read_le(bytes_, token_status_at - 4, 4) == 1);  // token 1's user
    REQUIRE(read_le(bytes_, token_status_at, 1) == 2);      // active
  }
  void patch(size_t at, size_t width, uint64_t v) { write_le(bytes_, at, width, v); }

  // The patched state: the digest (a hash of the snapshot body) is fixed up
  // so that the decoder accepts it.
  State state() {
    const std::span<const uint8_t> body = std::span<const uint8_t>(bytes_).subspan(digest_at + 8);
    write_le(bytes_, digest_at, 8, digest_bytes(body));
    State s(f_.engine.config().queue_span_tokens);
    REQUIRE(SnapshotCodec::decode(bytes_, &s) == "");
    return s;
  }
  TimeMs now() const { return f_.engine.now_ms(); }

 private:
  EngineFixture f_;
  std::vector<uint8_t> bytes_;
};

std::string violation(const State& s, TimeMs now_ms, uint32_t active_limit = 1000) {
  InvariantOptions options;
  options.now_ms = now_ms;
  options.active_limit = active_limit;
  options.full = true;
  return check_invariants(s, options).value_or("");
}

bool names(const std::string& message, const char* what) {
  return message.find(what) != std::string::npos;
}

TEST_CASE("Invariants hold on the engine's states, and on a snapshot of one") {
  EngineFixture f;
  base(f);
  CHECK(violation(f.engine.state(), f.engine.now_ms()).empty());
  std::vector<uint8_t> bytes;
  SnapshotCodec::encode(f.engine.state(), bytes);
  State decoded;
  REQUIRE(SnapshotCodec::decode(bytes, &decoded) == "");
  CHECK(violation(decoded, f.engine.now_ms()).empty());
}

TEST_CASE("Invariant 1: a seat and its reservation agree, both ways") {
  SUBCASE("a held seat whose reservation is not held") {
    Broken b;
    b.patch(seats_at + 4, 1, static_cast<uint8_t>(SeatStatus::sold));
    CHECK(names(violation(b.state(), b.now()), "seat and reservation disagree"));
  }
  SUBCASE("a taken seat without a reservation") {
    Broken b;
    b.patch(seats_at + seat_bytes + 4, 1, static_cast<uint8_t>(SeatStatus::held));
    CHECK(names(violation(b.state(), b.now()), "taken seat without reservation"));
  }
  SUBCASE("a seat naming another seat's reservation") {
    Broken b;
    b.patch(seats_at + seat_bytes, 4, 1);
    b.patch(seats_at + seat_bytes + 4, 1, static_cast<uint8_t>(SeatStatus::held));
    CHECK(names(violation(b.state(), b.now()), "reservation points elsewhere"));
  }
  SUBCASE("an available seat with a reservation") {
    Broken b;
    b.patch(seats_at + seat_bytes, 4, 1);
    CHECK(names(violation(b.state(), b.now()), "available seat has a reservation"));
  }
  SUBCASE("a held reservation whose seat is free") {
    Broken b;
    b.patch(seats_at, 4, 0);
    b.patch(seats_at + 4, 1, static_cast<uint8_t>(SeatStatus::available));
    CHECK(names(violation(b.state(), b.now()), "live reservation count wrong"));
  }
}

TEST_CASE("Invariant 2: no held reservation at or past its deadline") {
  EngineFixture f;
  base(f);
  const TimeMs deadline = f.reservation(ReservationId{1}).expires_ms;
  CHECK(violation(f.engine.state(), deadline - 1).empty());
  CHECK(names(violation(f.engine.state(), deadline), "hold outlived its deadline"));
}

TEST_CASE("Invariant 3: balances are non-negative and equal charges - payments + refunds") {
  SUBCASE("negative") {
    Broken b;
    b.patch(balance_at, 8, static_cast<uint64_t>(int64_t{-1}));
    b.patch(charged_at, 8, static_cast<uint64_t>(int64_t{-1}));
    CHECK(names(violation(b.state(), b.now()), "negative balance"));
  }
  SUBCASE("off by one") {
    Broken b;
    b.patch(balance_at, 8, 499);
    CHECK(names(violation(b.state(), b.now()), "balance != charges - payments + refunds"));
  }
  SUBCASE("a user's live token is not live") {
    Broken b;
    b.patch(token_status_at, 1, static_cast<uint8_t>(TokenStatus::expired));
    CHECK(names(violation(b.state(), b.now()), "live token not live"));
  }
}

TEST_CASE("Invariant 4: active tokens within the active limit (0: not checked)") {
  EngineFixture f;
  base(f);  // two active tokens
  CHECK(violation(f.engine.state(), f.engine.now_ms(), 2).empty());
  CHECK(names(violation(f.engine.state(), f.engine.now_ms(), 1), "exceed the active limit"));
  CHECK(violation(f.engine.state(), f.engine.now_ms(), 0).empty());
}

}  // namespace
}  // namespace boxoffice::test
