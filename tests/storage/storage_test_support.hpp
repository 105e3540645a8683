// Helpers for the storage tests: a temporary directory per test, event bytes
// that name their sequence number, and a back door into the RocksDB database
// under a data directory (to damage it on purpose).
#pragma once

#include <doctest/doctest.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/event_batch.hpp"
#include "storage/event_log.hpp"
#include "storage/log_format.hpp"

namespace boxoffice::storage::test {

// A fresh directory under the system's temporary directory, removed with
// everything in it at the end of the scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "boxoffice-storage-XXXXXX");
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The bytes of event `seq`: its number in text, padded to a length that
// varies with it.
inline std::vector<uint8_t> event_bytes(uint64_t seq, size_t padding_bytes = 0) {
  std::string text = "event " + std::to_string(seq) + " ";
  text.append(seq % 37 + padding_bytes, static_cast<char>('a' + seq % 26));
  return std::vector<uint8_t>(text.begin(), text.end());
}

// Refills `batch` with `count` events starting at `first_seq`.
inline void fill(EventBatch& batch, uint64_t first_seq, size_t count, size_t padding_bytes = 0) {
  batch.reset(first_seq);
  for (size_t i = 0; i < count; i++) {
    const std::vector<uint8_t> bytes = event_bytes(first_seq + i, padding_bytes);
    batch.bytes().insert(batch.bytes().end(), bytes.begin(), bytes.end());
    batch.seal_event();
  }
}

inline EventLogOptions options_for(const std::string& dir, OpenMode mode = OpenMode::read_write) {
  EventLogOptions o;
  o.dir = dir;
  o.mode = mode;
  return o;
}

inline std::unique_ptr<EventLog> open_log(const std::string& dir,
                                          OpenMode mode = OpenMode::read_write) {
  std::unique_ptr<EventLog> log;
  const Status s = EventLog::open(options_for(dir, mode), &log);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return log;
}

// Appends `count` events after the log's last one, as one batch.
inline void append_events(EventLog& log, size_t count, size_t padding_bytes = 0) {
  EventBatch batch;
  fill(batch, log.last_seq() + 1, count, padding_bytes);
  const Status s = log.append(batch);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
}

// Reads [from, to] and checks every event is event_bytes(seq); returns how many.
inline uint64_t read_and_check(const EventLog& log, uint64_t from, uint64_t to,
                               size_t padding_bytes = 0) {
  const uint64_t first = std::max<uint64_t>(from, 1);  // from 0 reads as 1
  uint64_t next = first;
  const Status s = log.read(from, to, [&](uint64_t seq, std::span<const uint8_t> event) {
    CHECK(seq == next);
    const std::vector<uint8_t> expected = event_bytes(seq, padding_bytes);
    CHECK(std::vector<uint8_t>(event.begin(), event.end()) == expected);
    next++;
    return true;
  });
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return next - first;
}

// The database under a closed data directory, opened with plain RocksDB.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DBOptions options;
    const rocksdb::Status s = rocksdb::DB::Open(options, dir, descriptors, &handles_, &db_);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  ~RawDb() {
    for (rocksdb::ColumnFamilyHandle* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  rocksdb::ColumnFamilyHandle* family(std::string_view name) {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      if (h->GetName() == name) return h;
    }
    FAIL("no column family " << name);
    return nullptr;
  }
  static rocksdb::Slice seq_key(uint64_t seq, SeqKey& storage) {
    storage = encode_seq_key(seq);
    return rocksdb::Slice(reinterpret_cast<const char*>(storage.data()), storage.size());
  }
  void put(std::string_view family_name, const rocksdb::Slice& key, const rocksdb::Slice& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(db_->Put(wo, family(family_name), key, value).ok());
  }
  void del(std::string_view family_name, const rocksdb::Slice& key) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(db_->Delete(wo, family(family_name), key).ok());
  }
  // Flushes one family's memtable: its later writes go to a new WAL, and
  // the older WAL stays while another family still needs it.
  void flush(std::string_view family_name) {
    REQUIRE(db_->Flush(rocksdb::FlushOptions(), family(family_name)).ok());
  }
  std::string get(std::string_view family_name, const rocksdb::Slice& key) {
    std::string value;
    REQUIRE(db_->Get(rocksdb::ReadOptions(), family(family_name), key, &value).ok());
    return value;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace boxoffice::storage::test
