// CRC-32C: the standard check values, the hardware and table paths agreeing
// on every length and alignment, and agreement with RocksDB's public crc32c.
#include "storage/crc32c.hpp"

#include <doctest/doctest.h>
#include <rocksdb/file_checksum.h>

#include <string_view>
#include <vector>

namespace boxoffice::storage {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::vector<uint8_t> pseudo_random(size_t n) {
  std::vector<uint8_t> out(n);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint8_t& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

TEST_CASE("crc32c gives the standard check values") {
  CHECK(crc32c(bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
  // RFC 3720, B.4.
  CHECK(crc32c(std::vector<uint8_t>(32, 0x00)) == 0x8A9136AAu);
  CHECK(crc32c(std::vector<uint8_t>(32, 0xFF)) == 0x62A8AB43u);
  std::vector<uint8_t> ascending(32);
  for (size_t i = 0; i < 32; i++) ascending[i] = static_cast<uint8_t>(i);
  CHECK(crc32c(ascending) == 0x46DD794Eu);
}

TEST_CASE("crc32c: the portable path equals the fast one at every length and offset") {
  const std::vector<uint8_t> data = pseudo_random(300);
  const std::span<const uint8_t> all(data);
  for (size_t offset = 0; offset < 9; offset++) {
    for (size_t n = 0; offset + n <= data.size(); n += (n < 40 ? 1 : 13)) {
      const auto part = all.subspan(offset, n);
      CHECK(crc32c_extend_portable(0, part) == crc32c(part));
    }
  }
}

TEST_CASE("crc32c_extend continues a crc") {
  const std::vector<uint8_t> data = pseudo_random(1000);
  const std::span<const uint8_t> all(data);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{500}, size_t{1000}}) {
    CHECK(crc32c_extend(crc32c(all.first(cut)), all.subspan(cut)) == crc32c(all));
  }
}

TEST_CASE("crc32c equals RocksDB's public FileChecksumGenCrc32c (big-endian bytes)") {
  const auto factory = rocksdb::GetFileChecksumGenCrc32cFactory();
  for (size_t n : {size_t{0}, size_t{1}, size_t{9}, size_t{64}, size_t{4099}}) {
    const std::vector<uint8_t> data = pseudo_random(n);
    auto gen = factory->CreateFileChecksumGenerator(rocksdb::FileChecksumGenContext());
    gen->Update(reinterpret_cast<const char*>(data.data()), data.size());
    gen->Finalize();
    const std::string theirs = gen->GetChecksum();
    REQUIRE(theirs.size() == 4);
    uint32_t value = 0;
    for (char c : theirs) value = (value << 8) | static_cast<uint8_t>(c);
    CHECK(value == crc32c(data));
  }
}

}  // namespace
}  // namespace boxoffice::storage
