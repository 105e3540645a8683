// EventLog against a real RocksDB in a temporary directory: round trips,
// reopening, the checks on sequence numbers, snapshots, metadata, the
// refusals at open, readers beside a writer, checkpoints, a torn tail, damage
// done on purpose, and the sticky failure.
#include "storage/event_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "storage/log_format.hpp"
#include "tests/storage/storage_test_support.hpp"

namespace boxoffice::storage {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using Code = Status::Code;

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

bool mentions(const Status& s, std::string_view text) {
  return s.message.find(text) != std::string::npos;
}

// The files in `dir` whose names end in `suffix`, by name.
std::vector<fs::path> files_starting(const std::string& dir, std::string_view prefix) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
  }
  return out;
}

std::vector<fs::path> files_ending(const std::string& dir, std::string_view suffix) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() && name.ends_with(suffix)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void flip_byte(const fs::path& file, std::streamoff offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x5A));
  REQUIRE(f.good());
}

TEST_CASE("a new log is empty, and appended events read back after a reopen") {
  TempDir tmp;
  const std::string dir = tmp.sub("data");  // created by open
  {
    auto log = test::open_log(dir);
    CHECK(log->last_seq() == 0);
    CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 0);
    test::append_events(*log, 3);
    CHECK(log->last_seq() == 3);
    test::append_events(*log, 1);
    test::append_events(*log, 100);
    CHECK(log->last_seq() == 104);
    CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 104);
    CHECK(log->close().is_ok());
  }
  auto log = test::open_log(dir);
  CHECK(log->last_seq() == 104);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 104);
  test::append_events(*log, 2);
  CHECK(test::read_and_check(*log, 100, 106) == 7);
}

TEST_CASE("append refuses a batch that does not start at last_seq + 1, and writes nothing") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  test::append_events(*log, 5);
  EventBatch batch;
  for (uint64_t first : {uint64_t{1}, uint64_t{5}, uint64_t{7}, uint64_t{100}}) {
    test::fill(batch, first, 2);
    const Status s = log->append(batch);
    CHECK(s.code == Code::invalid_argument);
    CHECK(mentions(s, "next seq is 6"));
  }
  CHECK(log->last_seq() == 5);
  // Several batches in one write: the second one is off, so none is written.
  EventBatch a, b;
  test::fill(a, 6, 2);
  test::fill(b, 9, 2);
  const EventBatch* both[] = {&a, &b};
  CHECK(log->append(both).code == Code::invalid_argument);
  CHECK(log->last_seq() == 5);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 5);
  // The refusal is not a write failure: the right batch still goes in.
  CHECK(log->write_error().is_ok());
  test::fill(b, 8, 2);
  CHECK(log->append(both).is_ok());
  CHECK(log->last_seq() == 9);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 9);
}

TEST_CASE("empty batches are accepted and write nothing") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  EventBatch empty;
  empty.reset(1);
  CHECK(log->append(empty).is_ok());
  CHECK(log->last_seq() == 0);
  test::append_events(*log, 2);
  empty.reset(3);
  EventBatch full;
  test::fill(full, 3, 4);
  EventBatch empty_after;
  empty_after.reset(7);
  const EventBatch* batches[] = {&empty, &full, &empty_after};
  CHECK(log->append(batches).is_ok());
  CHECK(log->last_seq() == 6);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 6);
}

TEST_CASE("read visits a range in order, stops early, and clamps its bounds") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  for (int i = 0; i < 10; i++) test::append_events(*log, 10);
  REQUIRE(log->last_seq() == 100);
  CHECK(test::read_and_check(*log, 17, 42) == 26);
  CHECK(test::read_and_check(*log, 0, 3) == 3);  // from 0 reads as 1
  CHECK(test::read_and_check(*log, 95, 1000) == 6);
  CHECK(test::read_and_check(*log, 101, 200) == 0);
  CHECK(test::read_and_check(*log, 50, 49) == 0);
  std::vector<uint64_t> seen;
  const Status s = log->read(10, 100, [&](uint64_t seq, std::span<const uint8_t>) {
    seen.push_back(seq);
    return seq < 13;
  });
  CHECK(s.is_ok());
  CHECK(seen == std::vector<uint64_t>{10, 11, 12, 13});
}

TEST_CASE("a full scan (readahead, no caching) reads every event") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  for (int i = 0; i < 20; i++) test::append_events(*log, 1000);
  REQUIRE(log->close().is_ok());
  log = test::open_log(tmp.path());  // now from table files
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 20000);
}

TEST_CASE("a missing event is corruption naming its seq") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 10);
    REQUIRE(log->close().is_ok());
  }
  {
    test::RawDb raw(tmp.path());
    SeqKey key;
    raw.del(family_events, test::RawDb::seq_key(5, key));
  }
  auto log = test::open_log(tmp.path());
  CHECK(log->last_seq() == 10);
  uint64_t visited = 0;
  const Status s = log->read(1, 10, [&](uint64_t, std::span<const uint8_t>) {
    visited++;
    return true;
  });
  CHECK(s.code == Code::corruption);
  CHECK(mentions(s, "seq 5 is missing"));
  CHECK(visited == 4);
  // Starting at the hole names it too; after it the log reads.
  CHECK(log->read(5, 10, [](uint64_t, std::span<const uint8_t>) { return true; }).code ==
        Code::corruption);
  CHECK(test::read_and_check(*log, 6, 10) == 5);
}

TEST_CASE("a damaged table block is corruption naming the first seq it holds") {
  TempDir tmp;
  constexpr size_t padding_bytes = 100;  // a few 64 KiB blocks
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 2000, padding_bytes);
    REQUIRE(log->close().is_ok());  // flushes the memtable into a table file
  }
  // The events' table file is the largest one; its first block starts at 0.
  std::vector<fs::path> tables = files_ending(tmp.path(), ".sst");
  REQUIRE(!tables.empty());
  const fs::path events_table = *std::max_element(
      tables.begin(), tables.end(),
      [](const fs::path& a, const fs::path& b) { return fs::file_size(a) < fs::file_size(b); });
  flip_byte(events_table, 40);
  auto log = test::open_log(tmp.path());
  CHECK(log->last_seq() == 2000);
  const Status s = log->read(1, 2000, [](uint64_t, std::span<const uint8_t>) { return true; });
  CHECK(s.code == Code::corruption);
  CHECK(mentions(s, "seq 1"));
  CHECK(test::read_and_check(*log, 2000, 2000, padding_bytes) == 1);  // a later block is fine
}

TEST_CASE("snapshots: the two newest are kept, the newest loads, the order is enforced") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  CHECK(log->load_newest_snapshot(&seq, &bytes).code == Code::not_found);
  CHECK(log->put_snapshot(1, bytes_of("ahead of the log")).code == Code::invalid_argument);
  test::append_events(*log, 30);
  CHECK(log->put_snapshot(0, bytes_of("zero")).code == Code::invalid_argument);
  CHECK(log->put_snapshot(10, bytes_of("state at 10")).is_ok());
  CHECK(log->put_snapshot(20, bytes_of("state at 20")).is_ok());
  CHECK(log->put_snapshot(30, bytes_of("state at 30")).is_ok());
  std::vector<SnapshotInfo> list;
  REQUIRE(log->list_snapshots(&list).is_ok());
  REQUIRE(list.size() == 2);
  CHECK(list[0].seq == 20);
  CHECK(list[1].seq == 30);
  CHECK(list[1].stored_bytes ==
        snapshot_header_bytes + std::string_view("state at 30").size() + snapshot_trailer_bytes);
  REQUIRE(log->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(seq == 30);
  CHECK(bytes == bytes_of("state at 30"));
  CHECK(log->put_snapshot(25, bytes_of("older")).code == Code::invalid_argument);
  CHECK(log->put_snapshot(30, bytes_of("state at 30, again")).is_ok());  // replaces
  REQUIRE(log->list_snapshots(&list).is_ok());
  REQUIRE(list.size() == 2);
  CHECK(list[0].seq == 20);
  REQUIRE(log->close().is_ok());

  log = test::open_log(tmp.path());
  REQUIRE(log->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(seq == 30);
  CHECK(bytes == bytes_of("state at 30, again"));
  test::append_events(*log, 10);
  CHECK(log->put_snapshot(40, std::vector<uint8_t>(100000, 7)).is_ok());  // a larger one
  REQUIRE(log->list_snapshots(&list).is_ok());
  REQUIRE(list.size() == 2);
  CHECK(list[0].seq == 30);
  CHECK(list[1].seq == 40);
  REQUIRE(log->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(bytes == std::vector<uint8_t>(100000, 7));
  CHECK(log->put_snapshot(40, {}).is_ok());  // an empty body is a valid one
  REQUIRE(log->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(bytes.empty());
}

TEST_CASE("a clean close is recorded, under a key of the format's own") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 5);
    REQUIRE(log->close().is_ok());
  }
  auto log = test::open_log(tmp.path());
  std::string value;
  REQUIRE(log->get_meta("clean_close_seq", &value).is_ok());
  CHECK(value == "5");
  CHECK(log->put_meta("clean_close_seq", "9").code == Code::invalid_argument);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 5);
}

TEST_CASE("visit_newest_snapshot hands over the newest body once, without a copy") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  int visits = 0;
  const auto count = [&](uint64_t, std::span<const uint8_t>) { visits++; };
  CHECK(log->visit_newest_snapshot(count).code == Code::not_found);
  CHECK(visits == 0);
  test::append_events(*log, 20);
  REQUIRE(log->put_snapshot(10, bytes_of("state at 10")).is_ok());
  REQUIRE(log->put_snapshot(20, bytes_of("state at 20")).is_ok());
  uint64_t seen_seq = 0;
  std::vector<uint8_t> seen;
  REQUIRE(log->visit_newest_snapshot([&](uint64_t seq, std::span<const uint8_t> body) {
               visits++;
               seen_seq = seq;
               seen.assign(body.begin(), body.end());
             })
              .is_ok());
  CHECK(visits == 1);
  CHECK(seen_seq == 20);
  CHECK(seen == bytes_of("state at 20"));
}

TEST_CASE("a damaged snapshot is corruption naming its seq, with no fall-back") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 20);
    REQUIRE(log->put_snapshot(10, bytes_of("state at 10")).is_ok());
    REQUIRE(log->put_snapshot(20, bytes_of("state at 20")).is_ok());
    REQUIRE(log->close().is_ok());
  }
  {
    test::RawDb raw(tmp.path());
    SeqKey key;
    std::string value = raw.get(family_snapshots, test::RawDb::seq_key(20, key));
    value[snapshot_header_bytes + 3] ^= 0x01;  // a byte of the body
    raw.put(family_snapshots, test::RawDb::seq_key(20, key), value);
  }
  auto log = test::open_log(tmp.path());
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  const Status s = log->load_newest_snapshot(&seq, &bytes);
  CHECK(s.code == Code::corruption);
  CHECK(mentions(s, "snapshot at seq 20"));
  CHECK(mentions(s, "checksum"));
  CHECK(seq == 0);
  CHECK(bytes.empty());
  // The log itself is intact, and the next snapshot supersedes the bad one.
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 20);
  test::append_events(*log, 1);
  REQUIRE(log->put_snapshot(21, bytes_of("state at 21")).is_ok());
  REQUIRE(log->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(seq == 21);
}

TEST_CASE("a snapshot stored under another seq's key is refused") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 20);
    REQUIRE(log->put_snapshot(10, bytes_of("state at 10")).is_ok());
    REQUIRE(log->close().is_ok());
  }
  {
    test::RawDb raw(tmp.path());
    SeqKey key;
    const std::string value = raw.get(family_snapshots, test::RawDb::seq_key(10, key));
    raw.put(family_snapshots, test::RawDb::seq_key(15, key), value);
  }
  auto log = test::open_log(tmp.path());
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  const Status s = log->load_newest_snapshot(&seq, &bytes);
  CHECK(s.code == Code::corruption);
  CHECK(mentions(s, "snapshot at seq 15"));
}

TEST_CASE("meta values round-trip and survive a reopen; the format's key is reserved") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    std::string value;
    CHECK(log->get_meta("token_secret", &value).code == Code::not_found);
    CHECK(log->put_meta("token_secret", std::string("\0\1\2secret", 9)).is_ok());
    CHECK(log->put_meta("created_ms", "1700000000000").is_ok());
    CHECK(log->put_meta("created_ms", "1700000000001").is_ok());
    CHECK(log->put_meta("format_version", "2").code == Code::invalid_argument);
    CHECK(log->put_meta("", "x").code == Code::invalid_argument);
    CHECK(log->put_meta("big", std::string(meta_value_bytes_max + 1, 'x')).code ==
          Code::invalid_argument);
    REQUIRE(log->close().is_ok());
  }
  auto log = test::open_log(tmp.path(), OpenMode::read_only);
  std::string value;
  REQUIRE(log->get_meta("token_secret", &value).is_ok());
  CHECK(value == std::string("\0\1\2secret", 9));
  REQUIRE(log->get_meta("created_ms", &value).is_ok());
  CHECK(value == "1700000000001");
  REQUIRE(log->get_meta("format_version", &value).is_ok());
  CHECK(value == std::string("\1\0\0\0", 4));
  CHECK(log->put_meta("x", "y").code == Code::invalid_argument);  // read-only
}

TEST_CASE("a newer or unknown format version is refused with a clear message") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 3);
    REQUIRE(log->close().is_ok());
  }
  const auto set_version = [&](std::string value) {
    test::RawDb raw(tmp.path());
    raw.put(family_meta,
            rocksdb::Slice(meta_key_format_version.data(), meta_key_format_version.size()), value);
  };
  set_version(std::string("\2\0\0\0", 4));
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    std::unique_ptr<EventLog> log;
    const Status s = EventLog::open(test::options_for(tmp.path(), mode), &log);
    CHECK(s.code == Code::unsupported_format);
    CHECK(mentions(s, "format version 2"));
    CHECK(mentions(s, "newer"));
    CHECK(log == nullptr);
  }
  set_version("1");  // not a u32
  std::unique_ptr<EventLog> log;
  const Status s = EventLog::open(test::options_for(tmp.path()), &log);
  CHECK(s.code == Code::unsupported_format);
  CHECK(mentions(s, "unreadable format version"));
}

TEST_CASE("directories that are missing or not boxoffice's are refused") {
  TempDir tmp;
  std::unique_ptr<EventLog> log;
  SUBCASE("missing, in the read modes") {
    Status s = EventLog::open(test::options_for(tmp.sub("nothing"), OpenMode::read_only), &log);
    CHECK(s.code == Code::not_found);
    CHECK(mentions(s, "no data directory"));
    EventLogOptions o = test::options_for(tmp.sub("nothing"), OpenMode::secondary);
    o.secondary_dir = tmp.sub("secondary");
    s = EventLog::open(o, &log);
    CHECK(s.code == Code::not_found);
  }
  SUBCASE("a directory of other files") {
    std::ofstream(tmp.sub("notes.txt")) << "not a log";
    for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
      const Status s = EventLog::open(test::options_for(tmp.path(), mode), &log);
      CHECK(s.code == Code::unsupported_format);
      CHECK(mentions(s, "not a boxoffice data directory"));
    }
    CHECK(fs::exists(tmp.sub("notes.txt")));
    CHECK(!fs::exists(tmp.sub("CURRENT")));  // nothing was created
  }
  SUBCASE("a file") {
    std::ofstream(tmp.sub("file")) << "x";
    CHECK(EventLog::open(test::options_for(tmp.sub("file")), &log).code == Code::invalid_argument);
  }
  SUBCASE("another program's RocksDB database") {
    {
      rocksdb::Options o;
      o.create_if_missing = true;
      rocksdb::DB* db = nullptr;
      REQUIRE(rocksdb::DB::Open(o, tmp.path(), &db).ok());
      REQUIRE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
      delete db;
    }
    for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
      const Status s = EventLog::open(test::options_for(tmp.path(), mode), &log);
      CHECK(s.code == Code::unsupported_format);
      CHECK(mentions(s, "not a boxoffice data directory"));
    }
  }
  SUBCASE("no directory given, or a secondary without its own directory") {
    CHECK(EventLog::open(test::options_for(""), &log).code == Code::invalid_argument);
    CHECK(EventLog::open(test::options_for(tmp.path(), OpenMode::secondary), &log).code ==
          Code::invalid_argument);
  }
  CHECK(log == nullptr);
}

// Batches of 3 and 4 events, left in the WAL as a crash leaves them (in
// tmp's "crashed"), then a byte of the first batch damaged: media damage
// with an intact batch after it. Returns the WAL's path.
fs::path crash_with_damage_in_first_batch(const TempDir& tmp) {
  {
    auto log = test::open_log(tmp.sub("data"));
    test::append_events(*log, 3);
    test::append_events(*log, 4);
    fs::copy(tmp.sub("data"), tmp.sub("crashed"), fs::copy_options::recursive);
  }
  const fs::path wal = files_ending(tmp.sub("crashed"), ".log").back();
  std::ifstream in(wal, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(content.find("event 2 ") != std::string::npos);
  flip_byte(wal, static_cast<std::streamoff>(content.find("event 2 ")));
  return wal;
}

TEST_CASE("a second writer is refused while the first has the directory open") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  std::unique_ptr<EventLog> second;
  const Status s = EventLog::open(test::options_for(tmp.path()), &second);
  CHECK(s.code == Code::busy);
  CHECK(mentions(s, "in use"));
}

TEST_CASE("a writer holding boxoffice.lock keeps a second one out before it reads anything") {
  // RocksDB's own LOCK would refuse the second writer too, but only inside
  // its open, after the WAL check: that check must not run beside a live
  // writer (here a damaged WAL it would otherwise copy aside).
  TempDir tmp;
  (void)crash_with_damage_in_first_batch(tmp);
  const std::string lock_path = tmp.sub("crashed") + "/boxoffice.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  std::unique_ptr<EventLog> log;
  const Status s = EventLog::open(test::options_for(tmp.sub("crashed")), &log);
  CHECK(s.code == Code::busy);
  CHECK(mentions(s, "boxoffice.lock is locked"));
  CHECK(files_starting(tmp.sub("crashed"), "damaged-").empty());
  ::close(fd);
  log = test::open_log(tmp.sub("crashed"));
  CHECK_FALSE(log->wal_damage().empty());
}

TEST_CASE("while a first writer creates a directory, a second one is told it is in use") {
  // The lock comes before the directory is read: what the first has
  // written so far (no CURRENT yet) is not judged "not a boxoffice directory".
  TempDir tmp;
  std::ofstream(tmp.sub("000001.log")) << "being written";
  const std::string lock_path = tmp.sub("boxoffice.lock");
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  std::unique_ptr<EventLog> log;
  const Status s = EventLog::open(test::options_for(tmp.path()), &log);
  ::close(fd);
  CHECK(s.code == Code::busy);
  CHECK(fs::exists(lock_path));
}

TEST_CASE("a directory that is not ours is left as it was: no lock file stays in it") {
  TempDir tmp;
  std::ofstream(tmp.sub("notes.txt")) << "mine";
  std::unique_ptr<EventLog> log;
  CHECK(EventLog::open(test::options_for(tmp.path()), &log).code == Code::unsupported_format);
  CHECK_FALSE(fs::exists(tmp.sub("boxoffice.lock")));
}

TEST_CASE("the lock is given up at close, and one left by a writer that made nothing is no data") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.sub("data"));
    test::append_events(*log, 3);
    REQUIRE(log->close().is_ok());
    auto next = test::open_log(tmp.sub("data"));  // while the first object still exists
    CHECK(next->last_seq() == 3);
  }
  fs::create_directories(tmp.sub("empty"));
  std::ofstream(tmp.sub("empty") + "/boxoffice.lock").put('\0');
  auto log = test::open_log(tmp.sub("empty"));
  CHECK(log->last_seq() == 0);
}

TEST_CASE("read-only and secondary readers see the data of a running writer") {
  TempDir tmp;
  auto writer = test::open_log(tmp.path());
  test::append_events(*writer, 50);
  REQUIRE(writer->put_snapshot(50, bytes_of("state at 50")).is_ok());
  REQUIRE(writer->put_meta("token_secret", "s").is_ok());

  auto reader = test::open_log(tmp.path(), OpenMode::read_only);
  CHECK(reader->last_seq() == 50);
  CHECK(test::read_and_check(*reader, 1, UINT64_MAX) == 50);
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  REQUIRE(reader->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(seq == 50);
  test::append_events(*writer, 1);
  EventBatch batch;
  test::fill(batch, 51, 1);
  CHECK(reader->append(batch).code == Code::invalid_argument);
  CHECK(reader->put_snapshot(50, bytes_of("x")).code == Code::invalid_argument);
  CHECK(reader->catch_up().code == Code::invalid_argument);
  REQUIRE(reader->close().is_ok());

  EventLogOptions o = test::options_for(tmp.path(), OpenMode::secondary);
  o.secondary_dir = tmp.sub("secondary");
  std::unique_ptr<EventLog> secondary;
  REQUIRE(EventLog::open(o, &secondary).is_ok());
  CHECK(secondary->last_seq() == 51);
  CHECK(test::read_and_check(*secondary, 1, UINT64_MAX) == 51);
  test::append_events(*writer, 9);
  REQUIRE(writer->put_snapshot(60, bytes_of("state at 60")).is_ok());
  CHECK(secondary->last_seq() == 51);  // until it catches up
  REQUIRE(secondary->catch_up().is_ok());
  CHECK(secondary->last_seq() == 60);
  CHECK(test::read_and_check(*secondary, 1, UINT64_MAX) == 60);
  REQUIRE(secondary->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(seq == 60);
  std::string value;
  REQUIRE(secondary->get_meta("token_secret", &value).is_ok());
  CHECK(secondary->put_meta("x", "y").code == Code::invalid_argument);

  // The tool's backup: a checkpoint from the secondary, beside the writer.
  REQUIRE(secondary->checkpoint(tmp.sub("backup")).is_ok());
  auto copy = test::open_log(tmp.sub("backup"), OpenMode::read_only);
  CHECK(copy->last_seq() == 60);
  CHECK(test::read_and_check(*copy, 1, UINT64_MAX) == 60);
  CHECK(copy->checkpoint(tmp.sub("backup2")).code == Code::invalid_argument);  // read-only
}

TEST_CASE("a checkpoint taken while the log is in use opens with the same contents") {
  TempDir tmp;
  auto log = test::open_log(tmp.sub("data"));
  test::append_events(*log, 40);
  REQUIRE(log->put_snapshot(40, bytes_of("state at 40")).is_ok());
  REQUIRE(log->put_meta("token_secret", "s").is_ok());
  test::append_events(*log, 2);  // after the snapshot, only in the WAL and memtable
  REQUIRE(log->checkpoint(tmp.sub("backup")).is_ok());
  test::append_events(*log, 5);  // not in the checkpoint
  CHECK(log->checkpoint(tmp.sub("backup")).code == Code::invalid_argument);  // exists

  auto copy = test::open_log(tmp.sub("backup"));
  CHECK(copy->last_seq() == 42);
  CHECK(test::read_and_check(*copy, 1, UINT64_MAX) == 42);
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  REQUIRE(copy->load_newest_snapshot(&seq, &bytes).is_ok());
  CHECK(seq == 40);
  std::string value;
  REQUIRE(copy->get_meta("token_secret", &value).is_ok());
  CHECK(value == "s");
  CHECK(log->last_seq() == 47);
}

TEST_CASE("a torn last write is dropped at open; the log recovers to the batch before") {
  TempDir tmp;
  auto log = test::open_log(tmp.sub("data"));
  test::append_events(*log, 3);
  test::append_events(*log, 4);
  // Copy the directory while the log is open, as a crash would leave it: the
  // events are only in the WAL (a clean close would flush them to tables).
  fs::copy(tmp.sub("data"), tmp.sub("crashed"), fs::copy_options::recursive);
  REQUIRE(log->close().is_ok());
  std::vector<fs::path> wals = files_ending(tmp.sub("crashed"), ".log");
  REQUIRE(!wals.empty());
  const fs::path& wal = wals.back();  // the newest: names are increasing numbers
  const uintmax_t size = fs::file_size(wal);
  REQUIRE(size > 10);
  SUBCASE("intact: everything is there") {
    auto copy = test::open_log(tmp.sub("crashed"));
    CHECK(copy->last_seq() == 7);
    CHECK(copy->wal_damage().empty());
  }
  SUBCASE("the last record cut short") {
    fs::resize_file(wal, size - 5);
    auto copy = test::open_log(tmp.sub("crashed"));
    CHECK(copy->last_seq() == 3);
    CHECK(copy->wal_damage().empty());
    CHECK(test::read_and_check(*copy, 1, UINT64_MAX) == 3);
    test::append_events(*copy, 2);  // and it goes on from there
    CHECK(test::read_and_check(*copy, 1, UINT64_MAX) == 5);
  }
  SUBCASE("the last record's bytes damaged") {
    flip_byte(wal, static_cast<std::streamoff>(size - 3));
    auto copy = test::open_log(tmp.sub("crashed"));
    CHECK(copy->last_seq() == 3);
    CHECK(copy->wal_damage().empty());  // nothing after it: a torn write's doing
  }
  SUBCASE("damage in the middle: recovery stops before it, and says what follows") {
    // Not a crash's doing (media corruption): point-in-time recovery drops
    // the batches after it, which were acknowledged; the open reports it and
    // keeps the file. The first batch's record is hit.
    std::ifstream in(wal, std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    const size_t at = content.find("event 2 ");
    REQUIRE(at != std::string::npos);
    flip_byte(wal, static_cast<std::streamoff>(at));
    fs::copy(tmp.sub("crashed"), tmp.sub("crashed-again"), fs::copy_options::recursive);
    auto copy = test::open_log(tmp.sub("crashed"));
    CHECK(copy->last_seq() == 0);  // both batches are gone
    const std::string& report = copy->wal_damage();
    CHECK(report.find(wal.filename().string()) != std::string::npos);
    CHECK(report.find("1 intact batch follows") != std::string::npos);
    CHECK(report.find("starts at event seq 4") != std::string::npos);
    const fs::path kept = tmp.sub("crashed") + "/damaged-1-" + wal.filename().string();
    REQUIRE(fs::exists(kept));
    CHECK(fs::file_size(kept) == size);
    CHECK(report.find("kept as " + kept.string()) != std::string::npos);
    copy.reset();
    // RocksDB deleted the damaged file while it opened; the copy stays, and
    // is not scanned as a WAL of its own: the next start reports nothing and
    // copies nothing.
    CHECK_FALSE(fs::exists(wal));
    auto again = test::open_log(tmp.sub("crashed"));
    CHECK(again->wal_damage().empty());
    CHECK(files_starting(tmp.sub("crashed"), "damaged-").size() == 1);
    CHECK(fs::file_size(kept) == size);
    // A start that crashed before RocksDB deleted the file: the next one
    // reports it again, naming the copy it finds, and makes no second one.
    const fs::path kept_again = tmp.sub("crashed-again") + "/damaged-1-" + wal.filename().string();
    fs::copy_file(kept, kept_again);
    auto third = test::open_log(tmp.sub("crashed-again"));
    CHECK(third->wal_damage().find("kept as " + kept_again.string()) != std::string::npos);
    CHECK(files_starting(tmp.sub("crashed-again"), "damaged-").size() == 1);
  }
}

TEST_CASE(
    "damage in an older WAL, with later events in a table file: refused, saying what the check "
    "found") {
  // Two live WALs: the older held alive by the meta family, the events
  // flushed past it. RocksDB then refuses to recover only part of the log.
  TempDir tmp;
  {
    auto log = test::open_log(tmp.sub("data"));
    test::append_events(*log, 3);
    REQUIRE(log->close().is_ok());
  }
  {
    test::RawDb raw(tmp.sub("data"));
    raw.put(family_meta, "k", "v");
    const auto put_event = [&raw](uint64_t seq) {
      SeqKey key;
      const std::vector<uint8_t> bytes = test::event_bytes(seq);
      raw.put(family_events, test::RawDb::seq_key(seq, key),
              rocksdb::Slice(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    };
    for (uint64_t seq = 4; seq <= 6; seq++) put_event(seq);
    raw.flush(family_events);
    for (uint64_t seq = 7; seq <= 9; seq++) put_event(seq);
    fs::copy(tmp.sub("data"), tmp.sub("crashed"), fs::copy_options::recursive);
  }
  fs::path older;  // the WAL that holds event 5
  size_t at = std::string::npos;
  for (const fs::path& wal : files_ending(tmp.sub("crashed"), ".log")) {
    std::ifstream in(wal, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find("event 5 ") == std::string::npos) continue;
    older = wal;
    at = bytes.find("event 5 ");
  }
  REQUIRE(!older.empty());
  REQUIRE(older != files_ending(tmp.sub("crashed"), ".log").back());
  flip_byte(older, static_cast<std::streamoff>(at));
  std::unique_ptr<EventLog> log;
  const Status s = EventLog::open(test::options_for(tmp.sub("crashed")), &log);
  CHECK_FALSE(s.is_ok());
  CHECK(mentions(s, "the check before the open found: " + older.string() + ": damaged"));
  CHECK(mentions(s, "in it and later WAL files"));
  CHECK(files_starting(tmp.sub("crashed"), "damaged-").size() == 2);
}

TEST_CASE("a damaged WAL that RocksDB no longer reads is not reported, and no copy is kept") {
  // Left behind by a crash between a flush and the deletion of the file,
  // say: its events are in the log. Its number is below the live WAL's.
  TempDir tmp;
  {
    auto log = test::open_log(tmp.sub("data"));
    test::append_events(*log, 3);
    REQUIRE(log->close().is_ok());
  }
  auto log = test::open_log(tmp.sub("data"));
  test::append_events(*log, 4);
  REQUIRE(log->put_meta("abcdefgh", "an 8-byte key, not an event's seq").is_ok());
  fs::copy(tmp.sub("data"), tmp.sub("crashed"), fs::copy_options::recursive);
  REQUIRE(log->close().is_ok());
  const std::vector<fs::path> wals = files_ending(tmp.sub("crashed"), ".log");
  REQUIRE(!wals.empty());
  REQUIRE(!fs::exists(tmp.sub("crashed") + "/000001.log"));
  std::string bytes;
  {
    std::ifstream in(wals.back(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = bytes.find("event 4 ");
  REQUIRE(at != std::string::npos);
  bytes[at] ^= 0x01;
  std::ofstream(tmp.sub("crashed") + "/000001.log", std::ios::binary) << bytes;
  auto copy = test::open_log(tmp.sub("crashed"));
  CHECK(copy->last_seq() == 7);
  CHECK(copy->wal_damage().empty());
  CHECK(files_starting(tmp.sub("crashed"), "damaged-").empty());
  CHECK(test::read_and_check(*copy, 1, UINT64_MAX) == 7);
}

TEST_CASE("damage followed only by a snapshot or metadata batch is still a loss") {
  // The damaged batch was whole (a batch follows it) and held event 4; what
  // follows names no later event, but RocksDB numbered it after the last
  // batch it recovered.
  TempDir tmp;
  auto log = test::open_log(tmp.sub("data"));
  test::append_events(*log, 3);
  test::append_events(*log, 1);
  SUBCASE("a snapshot") { REQUIRE(log->put_snapshot(3, bytes_of("state at 3")).is_ok()); }
  SUBCASE("metadata") { REQUIRE(log->put_meta("note", "n").is_ok()); }
  fs::copy(tmp.sub("data"), tmp.sub("crashed"), fs::copy_options::recursive);
  REQUIRE(log->close().is_ok());
  const fs::path wal = files_ending(tmp.sub("crashed"), ".log").back();
  std::ifstream in(wal, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(content.find("event 4 ") != std::string::npos);
  flip_byte(wal, static_cast<std::streamoff>(content.find("event 4 ")));
  auto copy = test::open_log(tmp.sub("crashed"));
  CHECK(copy->last_seq() == 3);
  CHECK(copy->wal_damage().find("1 intact batch follows") != std::string::npos);
  CHECK(copy->wal_damage().find("The log recovered to event seq 3.") != std::string::npos);
  CHECK(files_starting(tmp.sub("crashed"), "damaged-").size() == 1);
}

TEST_CASE("a damaged WAL that cannot be kept aside is not opened: RocksDB would delete it") {
  TempDir tmp;
  const fs::path wal = crash_with_damage_in_first_batch(tmp);
  // Files may grow to 16 bytes: the copy fails (EFBIG), before RocksDB opens.
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
  const auto sigxfsz = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = before;
  small.rlim_cur = 16;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::unique_ptr<EventLog> log;
  const Status s = EventLog::open(test::options_for(tmp.sub("crashed")), &log);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &before) == 0);
  std::signal(SIGXFSZ, sigxfsz);
  CHECK(s.code == Code::io_error);
  CHECK(mentions(s, "could not be kept"));
  CHECK(fs::exists(wal));
  CHECK(files_starting(tmp.sub("crashed"), "damaged-").empty());  // no partial copy
  log = test::open_log(tmp.sub("crashed"));                       // room again: kept, then opened
  CHECK(files_starting(tmp.sub("crashed"), "damaged-").size() == 1);
}

TEST_CASE("damage early in a long WAL is found from the blocks after it") {
  // 40 batches of 5 events of 1 KiB: about 200 KiB of WAL, 7 blocks of 32 KiB.
  TempDir tmp;
  auto log = test::open_log(tmp.sub("data"));
  for (int i = 0; i < 40; i++) test::append_events(*log, 5, 1024);
  fs::copy(tmp.sub("data"), tmp.sub("crashed"), fs::copy_options::recursive);
  REQUIRE(log->close().is_ok());
  std::vector<fs::path> wals = files_ending(tmp.sub("crashed"), ".log");
  REQUIRE(!wals.empty());
  const fs::path& wal = wals.back();
  REQUIRE(fs::file_size(wal) > 6 * 32768);
  // From the first batch's second event to the end of the first block:
  // nothing there reads as a record, so the scan goes on at the next block.
  std::string content;
  {
    std::ifstream in(wal, std::ios::binary);
    content.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = content.find("event 2 ");
  REQUIRE(at != std::string::npos);
  REQUIRE(at < 32768);
  {
    std::fstream out(wal, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(at));
    out << std::string(32768 - at, '\xab');
  }
  auto copy = test::open_log(tmp.sub("crashed"));
  CHECK(copy->last_seq() == 0);
  const std::string& report = copy->wal_damage();
  CHECK(report.find("damaged at byte") != std::string::npos);
  CHECK(report.find("the last among them starts at event seq 196") != std::string::npos);
}

TEST_CASE("a failed write is sticky: every later write fails with the first error") {
  TempDir tmp;
  {
    auto log = test::open_log(tmp.path());
    test::append_events(*log, 5);
    log->fail_next_write_for_test();
    EventBatch batch;
    test::fill(batch, 6, 3);
    const Status first = log->append(batch);
    CHECK(first.code == Code::io_error);
    CHECK(mentions(first, "injected"));
    CHECK(mentions(first, "accepts no more writes"));
    CHECK(log->last_seq() == 5);
    const Status again = log->append(batch);  // not retried
    CHECK(again.code == Code::io_error);
    CHECK(again.message == first.message);
    CHECK(log->put_meta("k", "v").message == first.message);
    CHECK(log->put_snapshot(5, bytes_of("s")).message == first.message);
    CHECK(log->write_error().message == first.message);
    CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 5);  // reads still work
    REQUIRE(log->close().is_ok());
  }
  auto log = test::open_log(tmp.path());  // a restart starts afresh
  CHECK(log->write_error().is_ok());
  CHECK(log->last_seq() == 5);
  test::append_events(*log, 1);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == 6);
}

TEST_CASE("a directory with the families but no format version is refused") {
  TempDir tmp;
  {
    // What an interrupted creation would leave: the families, no version.
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (std::string name :
         {std::string(rocksdb::kDefaultColumnFamilyName), std::string(family_events),
          std::string(family_snapshots), std::string(family_meta)}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(o, tmp.path(), families, &handles, &db).ok());
    for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    std::unique_ptr<EventLog> log;
    const Status s = EventLog::open(test::options_for(tmp.path(), mode), &log);
    CHECK(s.code == Code::unsupported_format);
    CHECK(mentions(s, "no boxoffice format version"));
  }
}

TEST_CASE("stats: the sequence range and the bytes on disk") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  LogStats stats;
  REQUIRE(log->stats(&stats).is_ok());
  CHECK(stats.first_seq == 0);
  CHECK(stats.last_seq == 0);
  test::append_events(*log, 1000);
  std::vector<uint8_t> incompressible(5000);
  uint32_t x = 12345;
  for (uint8_t& b : incompressible) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 24);
  }
  REQUIRE(log->put_snapshot(1000, incompressible).is_ok());
  REQUIRE(log->stats(&stats).is_ok());
  CHECK(stats.first_seq == 1);
  CHECK(stats.last_seq == 1000);
  CHECK(stats.memtable_bytes > 0);
  CHECK(stats.dir_bytes > 0);
  REQUIRE(log->close().is_ok());
  log = test::open_log(tmp.path(), OpenMode::read_only);
  REQUIRE(log->stats(&stats).is_ok());
  CHECK(stats.first_seq == 1);
  CHECK(stats.last_seq == 1000);
  CHECK(stats.events_sst_bytes > 0);
  CHECK(stats.snapshots_sst_bytes > 5000);
}

}  // namespace
}  // namespace boxoffice::storage
