// scan_wal on write-ahead logs built here record by record, as RocksDB lays
// them out (32 KiB blocks, 7-byte headers, batches split into FIRST, MIDDLE
// and LAST pieces across blocks): which damage it reports, and what it
// counts after it. The files RocksDB itself writes are scanned in
// event_log_test.cpp.
#include "storage/wal_scan.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <string>

#include "storage/crc32c.hpp"
#include "tests/storage/storage_test_support.hpp"

namespace boxoffice::storage {
namespace {

using test::TempDir;

constexpr size_t block_bytes = 32768;
constexpr size_t header_bytes = 7;
enum RecordType : uint8_t { full = 1, first = 2, middle = 3, last = 4 };

uint32_t masked_crc(uint8_t type, std::string_view payload) {
  const uint32_t crc =
      crc32c_extend(crc32c(std::span(&type, 1)),
                    std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
}

// A WriteBatch whose first operation puts event `seq`, padded to `bytes`.
std::string batch_payload(uint64_t seq, size_t bytes) {
  std::string p;  // RocksDB's sequence number (here the event's) and count
  for (int i = 0; i < 8; i++) p += static_cast<char>(seq >> (8 * i));
  p += std::string(4, '\0');
  p += {'\x05', '\x01', '\x08'};  // a family's value, family 1, an 8-byte key
  for (int i = 7; i >= 0; i--) p += static_cast<char>(seq >> (8 * i));
  REQUIRE(bytes >= p.size());
  p.resize(bytes, 'v');
  return p;
}

// Builds a WAL as RocksDB's log::Writer does.
struct WalBuilder {
  std::string bytes;

  void record(uint8_t type, std::string_view payload) {
    const uint32_t crc = masked_crc(type, payload);
    for (int i = 0; i < 4; i++) bytes += static_cast<char>(crc >> (8 * i));
    bytes += static_cast<char>(payload.size() & 0xff);
    bytes += static_cast<char>(payload.size() >> 8);
    bytes += static_cast<char>(type);
    bytes += payload;
  }

  // Appends a batch; returns the offset of its first record.
  size_t batch(uint64_t seq, size_t payload_bytes) {
    const std::string payload = batch_payload(seq, payload_bytes);
    size_t done = 0;
    size_t start = std::string::npos;
    bool begins = true;  // the first piece, empty when it fills a block's last 7 bytes
    while (begins || done < payload.size()) {
      const size_t left = block_bytes - bytes.size() % block_bytes;
      if (left < header_bytes) bytes.append(left, '\0');
      if (start == std::string::npos) start = bytes.size();
      const size_t room = block_bytes - bytes.size() % block_bytes - header_bytes;
      const size_t piece = std::min(room, payload.size() - done);
      const bool ends = done + piece == payload.size();
      const uint8_t type = begins && ends ? full : begins ? first : ends ? last : middle;
      record(type, std::string_view(payload).substr(done, piece));
      done += piece;
      begins = false;
    }
    return start;
  }

  // Zeros bytes [from, to).
  void zero(size_t from, size_t to) {
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
              bytes.begin() + static_cast<std::ptrdiff_t>(to), '\0');
  }

  WalScan scan(const TempDir& tmp) const {
    const std::string path = tmp.sub("000004.log");
    std::ofstream(path, std::ios::binary) << bytes;
    return scan_wal(path);
  }
};

TEST_CASE("an intact log: every batch counted, one of them across three blocks") {
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  wal.batch(2, 70000);
  wal.batch(3, 100);
  const WalScan scan = wal.scan(tmp);
  CHECK(scan.read_ok);
  CHECK_FALSE(scan.damaged);
  CHECK(scan.all.count == 3);
  CHECK(scan.all.key_max[1] == 3);  // family 1's keys
  CHECK(scan.all.key_max[0] == 0);
  CHECK(scan.all.sequence_max == 3);
  CHECK(scan.after.count == 0);
}

TEST_CASE("the end of a log: a record cut short, or preallocated zeros, is not damage") {
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  wal.batch(2, 100);
  SUBCASE("cut short") { wal.bytes.resize(wal.bytes.size() - 5); }
  SUBCASE("zeros after it") { wal.bytes.append(5000, '\0'); }
  const WalScan scan = wal.scan(tmp);
  CHECK_FALSE(scan.damaged);
}

TEST_CASE("damage with a batch after it is reported, with the batch") {
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  const size_t at = wal.batch(2, 100);
  wal.batch(3, 100);
  SUBCASE("a payload byte") { wal.bytes[at + header_bytes + 50] ^= 0x40; }
  SUBCASE("a length too long to trust: the scan goes on at the next block") {
    wal.bytes[at + 5] = '\x7f';
    while (wal.bytes.size() < block_bytes) wal.batch(4, 100);
    wal.batch(9, 100);
  }
  const WalScan scan = wal.scan(tmp);
  CHECK(scan.damaged);
  CHECK(scan.damage_at == at);
  CHECK(scan.after.count >= 1);
  CHECK(scan.after.key_max[1] >= 3);
  CHECK(scan.after.sequence_max >= 3);
}

TEST_CASE("a torn last batch is not followed by anything: its intact pieces do not count") {
  // A batch across two blocks: its FIRST piece damaged, its LAST intact, as
  // an unsynced write can leave it.
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  const size_t at = wal.batch(2, 40000);
  wal.bytes[at + header_bytes + 20] ^= 0x01;
  const WalScan scan = wal.scan(tmp);
  CHECK(scan.damaged);
  CHECK(scan.damage_at == at);
  CHECK(scan.after.count == 0);
}

TEST_CASE("a zeroed record in the middle of a block is damage: RocksDB drops the rest of it") {
  // 7 + 63 bytes: zeros skipped as empty headers would land exactly on the
  // next record, and see nothing wrong.
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  const size_t at = wal.batch(2, 63);
  wal.batch(3, 100);
  wal.zero(at, at + header_bytes + 63);
  const WalScan scan = wal.scan(tmp);
  CHECK(scan.damaged);
  CHECK(scan.damage_at == at);
  CHECK(scan.after.count == 1);
  CHECK(scan.after.key_max[1] == 3);
}

TEST_CASE("a zeroed block: the batch that ends in the next one has lost its start") {
  // Block 0: batch 1, then the first piece of batch 2; block 1: its last
  // piece, then batch 3. Zeros to the end of a block read as preallocated
  // space, but RocksDB then meets a LAST without its FIRST, and stops.
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  wal.batch(2, 40000);
  wal.batch(3, 100);
  REQUIRE(wal.bytes.size() > block_bytes);
  wal.zero(0, block_bytes);
  const WalScan scan = wal.scan(tmp);
  CHECK(scan.damaged);
  CHECK(scan.damage_at == block_bytes);
  CHECK(scan.after.count == 1);
  CHECK(scan.after.key_max[1] == 3);
}

TEST_CASE("a batch begun while another is open, or cut by zeros, is damage") {
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, 100);
  const size_t at = wal.bytes.size();
  wal.record(first, batch_payload(2, 100));  // never ended
  SUBCASE("a FULL next") {
    wal.batch(3, 100);
    const WalScan scan = wal.scan(tmp);
    CHECK(scan.damaged);
    CHECK(scan.damage_at == at + header_bytes + 100);
    CHECK(scan.after.count == 1);
  }
  SUBCASE("zeros to the end of the block, then a batch") {
    wal.bytes.resize(block_bytes, '\0');
    wal.batch(3, 100);
    const WalScan scan = wal.scan(tmp);
    CHECK(scan.damaged);
    CHECK(scan.damage_at == at + header_bytes + 100);
    CHECK(scan.after.count == 1);
  }
  SUBCASE("the end of the file: a torn write, no batch after it") {
    const WalScan scan = wal.scan(tmp);
    CHECK(scan.after.count == 0);
  }
}

TEST_CASE("a batch that begins in a block's last 7 bytes: an empty FIRST, as RocksDB writes it") {
  TempDir tmp;
  WalBuilder wal;
  wal.batch(1, block_bytes - 2 * header_bytes);  // leaves exactly one header's room
  REQUIRE(wal.bytes.size() == block_bytes - header_bytes);
  const size_t at = wal.batch(2, 100);
  CHECK(at == block_bytes - header_bytes);
  CHECK(static_cast<uint8_t>(wal.bytes[at + 6]) == first);
  wal.batch(3, 100);
  SUBCASE("then its LAST in the next block") {
    const WalScan scan = wal.scan(tmp);
    CHECK_FALSE(scan.damaged);
    CHECK(scan.all.count == 3);
  }
  SUBCASE("older writers: then a FULL, which RocksDB accepts too") {
    WalBuilder old;
    old.batch(1, block_bytes - 2 * header_bytes);
    old.record(first, "");
    old.batch(2, 100);
    const WalScan scan = old.scan(tmp);
    CHECK_FALSE(scan.damaged);
  }
}

TEST_CASE("a file that cannot be read says so") {
  TempDir tmp;
  const WalScan scan = scan_wal(tmp.sub("missing.log"));
  CHECK_FALSE(scan.read_ok);
  CHECK(scan.error.find("missing.log") != std::string::npos);
}

}  // namespace
}  // namespace boxoffice::storage
