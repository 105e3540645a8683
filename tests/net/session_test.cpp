// The session's own measures of a message against its limits, with Beast's
// parser configured as the session configures it; the spread of idle
// timeouts.
#include "net/session.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <set>
#include <string>
#include <string_view>

#include "net/request_parser.hpp"

namespace boxoffice::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

struct Outcome {
  beast::error_code ec;
  bool chunked = false;
  size_t body_bytes = 0;
  std::string unparsed;  // what the parser left of the bytes offered
};

// Offers `bytes` to a parser with the session's limits, `piece_bytes` more
// at a time whenever it needs more, until it finishes, fails or runs out.
Outcome parse_in_pieces(std::string_view bytes, size_t piece_bytes) {
  REQUIRE(piece_bytes > 0);
  http::request_parser<http::string_body> parser;
  parser.header_limit(header_bytes_max);
  parser.body_limit(body_bytes_max);
  parser.eager(true);
  size_t pos = 0;
  size_t avail = 0;
  Outcome out;
  while (!parser.is_done()) {
    if (pos == avail) {
      if (avail == bytes.size()) break;
      avail = std::min(bytes.size(), avail + piece_bytes);
    }
    out.ec = {};
    pos += parser.put(boost::asio::const_buffer(bytes.data() + pos, avail - pos), out.ec);
    if (out.ec == http::error::need_more) {
      if (avail == bytes.size()) break;
      avail = std::min(bytes.size(), avail + piece_bytes);
      continue;
    }
    if (out.ec) break;
  }
  out.chunked = parser.chunked();
  out.body_bytes = parser.get().body().size();
  out.unparsed = std::string(bytes.substr(pos, avail - pos));
  return out;
}

bool over(const Outcome& o) { return body_over_limit(o.chunked, o.body_bytes, o.unparsed); }

constexpr std::string_view chunked_head =
    "POST /v1/balance/charge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_CASE("a chunk line whose extension runs past its end is malformed, not over the limit") {
  // A quoted string left open on the line of a 32 KiB chunk, after a 4-byte
  // chunk: Beast takes the 32 KiB off the limit at every read that ends
  // before the quote closes.
  const std::string message = std::string(chunked_head) + "4\r\n{\"am\r\n8000;ext=\"open\r\n" +
                              std::string(64, 'x') + "\"\r\n";
  const Outcome whole = parse_in_pieces(message, message.size());
  CHECK(whole.ec == http::error::bad_chunk_extension);

  const Outcome pieces = parse_in_pieces(message, 8);
  REQUIRE(pieces.ec == http::error::body_limit);  // what the session corrects
  CHECK(pieces.chunked);
  CHECK(pieces.body_bytes == 4);
  CHECK(pieces.unparsed.starts_with("\r\n8000;"));
  CHECK_FALSE(over(pieces));
}

TEST_CASE("a body over the limit is over it, however it is sent") {
  SUBCASE("a chunk whose size alone is over") {
    const std::string message = std::string(chunked_head) + "10001\r\n";
    for (const size_t piece_bytes : {message.size(), size_t{1}}) {
      const Outcome o = parse_in_pieces(message, piece_bytes);
      REQUIRE(o.ec == http::error::body_limit);
      CHECK(o.unparsed.starts_with("10001"));
      CHECK(over(o));
    }
  }
  SUBCASE("chunks that add up to one byte over") {
    std::string message(chunked_head);
    for (int i = 0; i < 16; i++) message += "1000\r\n" + std::string(4096, ' ') + "\r\n";
    message += "1\r\n ";
    for (const size_t piece_bytes : {message.size(), size_t{7}}) {
      const Outcome o = parse_in_pieces(message, piece_bytes);
      REQUIRE(o.ec == http::error::body_limit);
      CHECK(o.body_bytes == body_bytes_max);
      CHECK(over(o));
    }
  }
  SUBCASE("a Content-Length over") {
    const Outcome o =
        parse_in_pieces("POST /v1/balance/charge HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 1);
    REQUIRE(o.ec == http::error::body_limit);
    CHECK_FALSE(o.chunked);
    CHECK(over(o));
  }
}

TEST_CASE("body_over_limit reads the size on the chunk line") {
  CHECK_FALSE(body_over_limit(true, 0, "10000;a=\"b"));  // 64 KiB exactly fits
  CHECK(body_over_limit(true, 1, "10000;a=\"b"));
  CHECK(body_over_limit(true, 0, "\r\n10001\r\n"));
  CHECK_FALSE(body_over_limit(true, 65000, "\r\nFF"));
  CHECK(body_over_limit(true, 0, "fffffffffffffffffffffff"));  // beyond 64 bits
  CHECK(body_over_limit(true, 4, "FFFFFFFFFFFFFFFF"));         // would wrap a 64-bit sum
  CHECK(body_over_limit(true, 4, "FFFFFFFFFFFFFFFC"));
  CHECK_FALSE(body_over_limit(true, 4, "00000000000000000000ff"));  // leading zeros
  CHECK(body_over_limit(true, 0, ";ext"));                          // no size: as Beast says
  CHECK(body_over_limit(true, 0, ""));
  CHECK(body_over_limit(false, 0, "1"));
}

TEST_CASE("idle timeouts are spread over a sixteenth of the timeout, by connection") {
  for (const int64_t timeout_ms : {int64_t{1}, int64_t{1000}, int64_t{15000}, int64_t{86400000}}) {
    CAPTURE(timeout_ms);
    const int64_t spread_ms = timeout_ms / idle_spread_fraction;
    std::set<int64_t> seen;
    int64_t low = INT64_MAX;
    int64_t high = INT64_MIN;
    constexpr uint64_t connections = 2000;
    for (uint64_t serial = 0; serial < connections; serial++) {
      const int64_t t = idle_timeout_of(serial, timeout_ms);
      CHECK(t >= timeout_ms);
      CHECK(t <= timeout_ms + spread_ms);
      CHECK(t == idle_timeout_of(serial, timeout_ms));  // the same for every read
      seen.insert(t);
      low = std::min(low, t);
      high = std::max(high, t);
    }
    // 2,000 connections opened together time out over (nearly) the whole
    // spread, a few at each instant, not all at once.
    const auto instants = static_cast<size_t>(std::min<int64_t>(spread_ms + 1, connections));
    CHECK(seen.size() * 10 >= instants * 6);
    CHECK(high - low >= spread_ms * 9 / 10);
  }
}

}  // namespace
}  // namespace boxoffice::net
