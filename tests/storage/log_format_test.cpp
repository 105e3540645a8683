// The on-disk format: sequence keys sort in sequence order, the snapshot
// envelope round-trips, and every kind of damage to it is caught and named.
#include "storage/log_format.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

namespace boxoffice::storage {
namespace {

bool mentions(const Status& s, std::string_view text) {
  return s.message.find(text) != std::string::npos;
}

TEST_CASE("sequence keys are 8 bytes big-endian and sort in sequence order") {
  const SeqKey key = encode_seq_key(0x0102030405060708ull);
  CHECK(key == SeqKey{1, 2, 3, 4, 5, 6, 7, 8});
  const std::vector<uint64_t> seqs = {1, 2, 255, 256, 65535, 65536, 1ull << 40, UINT64_MAX - 1};
  for (size_t i = 0; i + 1 < seqs.size(); i++) {
    const SeqKey a = encode_seq_key(seqs[i]);
    const SeqKey b = encode_seq_key(seqs[i + 1]);
    CHECK(std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()));
    uint64_t back = 0;
    REQUIRE(decode_seq_key(a, &back));
    CHECK(back == seqs[i]);
  }
  uint64_t seq = 0;
  const uint8_t short_key[7] = {};
  CHECK(!decode_seq_key(short_key, &seq));
}

TEST_CASE("the snapshot envelope round-trips") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}}) {
    std::vector<uint8_t> body(n);
    for (size_t i = 0; i < n; i++) body[i] = static_cast<uint8_t>(i * 7);
    std::vector<uint8_t> envelope;
    encode_snapshot_envelope(42, body, &envelope);
    CHECK(envelope.size() == snapshot_header_bytes + n + snapshot_trailer_bytes);
    CHECK(std::vector<uint8_t>(envelope.begin(), envelope.begin() + 4) ==
          std::vector<uint8_t>{'B', 'X', 'S', 'N'});
    std::span<const uint8_t> decoded;
    REQUIRE(decode_snapshot_envelope(42, envelope, &decoded).is_ok());
    CHECK(std::vector<uint8_t>(decoded.begin(), decoded.end()) == body);
  }
}

TEST_CASE("every damaged byte of an envelope is caught and names the seq") {
  const std::vector<uint8_t> body = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<uint8_t> envelope;
  encode_snapshot_envelope(7, body, &envelope);
  for (size_t i = 0; i < envelope.size(); i++) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}}) {
      std::vector<uint8_t> damaged = envelope;
      damaged[i] ^= flip;
      std::span<const uint8_t> decoded;
      const Status s = decode_snapshot_envelope(7, damaged, &decoded);
      CAPTURE(i);
      CHECK(!s.is_ok());
      CHECK(mentions(s, "snapshot at seq 7"));
    }
  }
}

TEST_CASE("an envelope is refused when short, under another key, or of an unknown version") {
  std::vector<uint8_t> envelope;
  encode_snapshot_envelope(7, std::vector<uint8_t>{1, 2, 3}, &envelope);
  std::span<const uint8_t> body;
  SUBCASE("truncated") {
    for (size_t n = 0; n < envelope.size(); n++) {
      CHECK(decode_snapshot_envelope(7, std::span(envelope).first(n), &body).code ==
            Status::Code::corruption);
    }
  }
  SUBCASE("stored under another seq") {
    const Status s = decode_snapshot_envelope(8, envelope, &body);
    CHECK(s.code == Status::Code::corruption);
    CHECK(mentions(s, "snapshot at seq 8"));
    CHECK(mentions(s, "names seq 7"));
  }
  SUBCASE("a newer envelope version") {
    envelope[4] = 2;
    const Status s = decode_snapshot_envelope(7, envelope, &body);
    CHECK(s.code == Status::Code::unsupported_format);
    CHECK(mentions(s, "envelope version 2"));
  }
}

TEST_CASE("the format version is a little-endian u32") {
  CHECK(encode_format_version(1) == std::array<uint8_t, 4>{1, 0, 0, 0});
  uint32_t version = 0;
  const auto encoded = encode_format_version(0x01020304u);
  REQUIRE(decode_format_version(encoded, &version));
  CHECK(version == 0x01020304u);
  const uint8_t three[3] = {1, 0, 0};
  CHECK(!decode_format_version(three, &version));
}

}  // namespace
}  // namespace boxoffice::storage
