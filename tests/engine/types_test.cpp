// Vocabulary types: UTF-8 lengths, names and keys, inline strings, fixed
// wire numbers, and the configuration's ranges (types.hpp, config.hpp).
#include "engine/types.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "engine/config.hpp"

namespace boxoffice {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values) s.push_back(static_cast<char>(v));
  return s;
}

TEST_CASE("utf8_length counts the code points of valid UTF-8") {
  struct Valid {
    std::string text;
    uint32_t chars;
  };
  const Valid valid[] = {
      {"", 0},
      {"abc", 3},
      {bytes({0x00}), 1},
      {bytes({0x7f}), 1},
      {bytes({0xc2, 0x80}), 1},              // U+0080, smallest two-byte
      {bytes({0xdf, 0xbf}), 1},              // U+07FF
      {bytes({0xe0, 0xa0, 0x80}), 1},        // U+0800
      {bytes({0xed, 0x9f, 0xbf}), 1},        // U+D7FF, below the surrogates
      {bytes({0xee, 0x80, 0x80}), 1},        // U+E000, above them
      {bytes({0xef, 0xbf, 0xbf}), 1},        // U+FFFF
      {bytes({0xf0, 0x90, 0x80, 0x80}), 1},  // U+10000
      {bytes({0xf4, 0x8f, 0xbf, 0xbf}), 1},  // U+10FFFF, the last
      {"caf\xc3\xa9 \xea\xb0\x80\xf0\x9f\x8e\xb5", 7},
  };
  for (const Valid& v : valid) {
    CAPTURE(v.text.size());
    uint32_t chars = 999;
    CHECK(utf8_length(v.text, &chars));
    CHECK(chars == v.chars);
  }
}

TEST_CASE("utf8_length rejects invalid sequences") {
  const std::string invalid[] = {
      bytes({0x80}),  // a lone continuation byte
      bytes({0xbf}),
      bytes({0xc3}),              // truncated
      bytes({0xe2, 0x82}),        // truncated
      bytes({0xf0, 0x9f, 0x8e}),  // truncated
      bytes({0xc3, 0x41}),        // a continuation that is not one
      bytes({0xe2, 0x28, 0xa1}),
      bytes({0xc0, 0xaf}),              // overlong '/'
      bytes({0xc1, 0xbf}),              // overlong
      bytes({0xe0, 0x9f, 0xbf}),        // overlong U+07FF
      bytes({0xf0, 0x8f, 0xbf, 0xbf}),  // overlong U+FFFF
      bytes({0xed, 0xa0, 0x80}),        // U+D800, a surrogate
      bytes({0xed, 0xbf, 0xbf}),        // U+DFFF
      bytes({0xf4, 0x90, 0x80, 0x80}),  // U+110000
      bytes({0xf5, 0x80, 0x80, 0x80}),
      bytes({0xf8, 0x88, 0x80, 0x80, 0x80}),  // five-byte form
      bytes({0xfe}),
      bytes({0xff}),
      "ok" + bytes({0xc3}),
  };
  for (const std::string& s : invalid) {
    CAPTURE(s.size());
    uint32_t chars = 0;
    CHECK_FALSE(utf8_length(s, &chars));
  }
}

TEST_CASE("User names: 1 to 64 of A-Z a-z 0-9 _ - . @") {
  CHECK(is_valid_user_name("alice"));
  CHECK(is_valid_user_name("A.z_0-9@x"));
  CHECK(is_valid_user_name(std::string(64, 'a')));
  CHECK_FALSE(is_valid_user_name(""));
  CHECK_FALSE(is_valid_user_name(std::string(65, 'a')));
  for (const char c : std::string(" !\"#$%&'()*+,/:;<=>?[\\]^`{|}~\t\x7f\x80\xff")) {
    CAPTURE(static_cast<int>(c));
    CHECK_FALSE(is_valid_user_name(std::string("a") + c));
  }
  CHECK_FALSE(is_valid_user_name(std::string_view("a\0b", 3)));
}

TEST_CASE("Idempotency keys: 1 to 64 printable ASCII characters") {
  CHECK(is_valid_idempotency_key(" "));
  CHECK(is_valid_idempotency_key("~"));
  CHECK(is_valid_idempotency_key("8f14e45f-ceea-467f-a8f5-4b2b1a7c0e5d"));
  CHECK(is_valid_idempotency_key(std::string(64, 'k')));
  CHECK_FALSE(is_valid_idempotency_key(""));
  CHECK_FALSE(is_valid_idempotency_key(std::string(65, 'k')));
  CHECK_FALSE(is_valid_idempotency_key("a\x1f"));
  CHECK_FALSE(is_valid_idempotency_key("a\x7f"));
  CHECK_FALSE(is_valid_idempotency_key("caf\xc3\xa9"));
  CHECK_FALSE(is_valid_idempotency_key(std::string_view("a\0", 2)));
}

TEST_CASE("InlineString holds up to its capacity and compares by content") {
  const UserName a = UserName::from("alice");
  CHECK(a.view() == "alice");
  CHECK(a.size == 5);
  CHECK_FALSE(a.empty());
  CHECK(UserName{}.empty());
  CHECK(UserName{}.view().empty());
  CHECK(a == UserName::from("alice"));
  CHECK_FALSE(a == UserName::from("alicf"));
  CHECK_FALSE(a == UserName::from("alic"));
  const std::string longest(limits::user_name_bytes_max, 'z');
  CHECK(UserName::from(longest).view() == longest);
  // Bytes past the size do not take part in comparisons.
  UserName b = UserName::from("alice-and-more");
  b.size = 5;
  CHECK(a == b);
}

TEST_CASE("Wire numbers of codes and statuses are fixed") {
  CHECK(static_cast<int>(Code::ok) == 0);
  CHECK(static_cast<int>(Code::invalid_request) == 1);
  CHECK(static_cast<int>(Code::unauthorized) == 2);
  CHECK(static_cast<int>(Code::token_expired) == 3);
  CHECK(static_cast<int>(Code::insufficient_balance) == 4);
  CHECK(static_cast<int>(Code::token_not_active) == 5);
  CHECK(static_cast<int>(Code::forbidden) == 6);
  CHECK(static_cast<int>(Code::not_found) == 7);
  CHECK(static_cast<int>(Code::seat_unavailable) == 8);
  CHECK(static_cast<int>(Code::sales_closed) == 9);
  CHECK(static_cast<int>(Code::reservation_not_payable) == 10);
  CHECK(static_cast<int>(Code::not_cancellable) == 11);
  CHECK(static_cast<int>(Code::not_refundable) == 12);
  CHECK(static_cast<int>(Code::idempotency_key_reused) == 13);
  CHECK(static_cast<int>(Code::payload_too_large) == 14);
  CHECK(static_cast<int>(Code::hold_limit_reached) == 15);
  CHECK(static_cast<int>(Code::overloaded) == 16);
  CHECK(static_cast<int>(Code::method_not_allowed) == 17);
  CHECK(static_cast<int>(TokenStatus::waiting) == 1);
  CHECK(static_cast<int>(TokenStatus::active) == 2);
  CHECK(static_cast<int>(TokenStatus::expired) == 3);
  CHECK(static_cast<int>(TokenEnd::window) == 1);
  CHECK(static_cast<int>(TokenEnd::idle) == 2);
  CHECK(static_cast<int>(TokenEnd::left) == 3);
  CHECK(static_cast<int>(TokenEnd::used) == 4);
  CHECK(static_cast<int>(SeatStatus::available) == 0);
  CHECK(static_cast<int>(SeatStatus::held) == 1);
  CHECK(static_cast<int>(SeatStatus::sold) == 2);
  CHECK(static_cast<int>(ReservationStatus::held) == 1);
  CHECK(static_cast<int>(ReservationStatus::confirmed) == 2);
  CHECK(static_cast<int>(ReservationStatus::expired) == 3);
  CHECK(static_cast<int>(ReservationStatus::cancelled) == 4);
  CHECK(static_cast<int>(ReservationStatus::refunded) == 5);
}

TEST_CASE("Config: the defaults are the documented ones and every range is checked") {
  const Config defaults;
  CHECK_FALSE(defaults.invalid_setting().has_value());
  CHECK(defaults.active_limit == 1000);
  CHECK(defaults.hold_ttl_ms == 300000);
  CHECK(defaults.token_ttl_ms == 600000);
  CHECK(defaults.queue_idle_ms == 120000);
  CHECK(defaults.holds_per_user_max == 4);
  const auto invalid = [](auto change) {
    Config c;
    change(c);
    return c.invalid_setting().value_or("");
  };
  CHECK(invalid([](Config& c) { c.active_limit = 0; }) == "active-limit");
  CHECK(invalid([](Config& c) { c.active_limit = 1000001; }) == "active-limit");
  CHECK(invalid([](Config& c) { c.active_limit = 1000000; }).empty());
  CHECK(invalid([](Config& c) { c.hold_ttl_ms = 0; }) == "hold-ttl-seconds");
  CHECK(invalid([](Config& c) { c.hold_ttl_ms = 1500; }) == "hold-ttl-seconds");
  CHECK(invalid([](Config& c) { c.hold_ttl_ms = 86401000; }) == "hold-ttl-seconds");
  CHECK(invalid([](Config& c) { c.hold_ttl_ms = 86400000; }).empty());
  CHECK(invalid([](Config& c) { c.hold_ttl_ms = 1000; }).empty());
  CHECK(invalid([](Config& c) { c.token_ttl_ms = 0; }) == "token-ttl-seconds");
  CHECK(invalid([](Config& c) { c.queue_idle_ms = 86401000; }) == "queue-idle-seconds");
  CHECK(invalid([](Config& c) { c.holds_per_user_max = 0; }) == "holds-per-user-max");
  CHECK(invalid([](Config& c) { c.holds_per_user_max = 101; }) == "holds-per-user-max");
  CHECK(invalid([](Config& c) { c.holds_per_user_max = 100; }).empty());
  CHECK(invalid([](Config& c) { c.queue_span_tokens = 1; }) == "queue-span-tokens");
  CHECK(invalid([](Config& c) { c.queue_span_tokens = 48; }) == "queue-span-tokens");
  CHECK(invalid([](Config& c) { c.queue_span_tokens = 2; }).empty());
}

}  // namespace
}  // namespace boxoffice
