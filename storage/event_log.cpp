#include "storage/event_log.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <system_error>

#include "engine/assert.hpp"
#include "storage/log_format.hpp"
#include "storage/wal_scan.hpp"

namespace boxoffice::storage {

namespace {

namespace fs = std::filesystem;
namespace rdb = rocksdb;
using Code = Status::Code;

// Tuning, for an append-only log of small values under monotonic keys.
//
// - The WAL is on, flushed to the file on every write (manual_wal_flush off)
//   and synced when EventLogOptions::fsync is set: one sync per append.
// - wal_recovery_mode = kPointInTimeRecovery: a torn last write (a crash
//   mid-sync) is dropped and the log opens at the last complete batch.
//   What that mode also means (tested): damage in the middle of the live
//   WAL (media corruption, not a torn write) stops recovery before it; the
//   batches after it are gone. check_wals() finds such damage first, says
//   what follows it and keeps a copy of the file. kTolerateCorruptedTailRecords
//   would refuse to open instead, but it also refuses a last record that a
//   torn write left damaged rather than short (tried on RocksDB 7.8). Once
//   flushed, events live in table files whose block checksums every read
//   checks (a failure there is refused, naming the seq), and a clean close
//   flushes, so only the WAL written since the last flush is exposed.
//   track_and_verify_wals_in_manifest stays off: RocksDB 7.8 still had
//   false "missing WAL" alarms with it.
// - Checksums: table blocks carry XXH3 checksums (RocksDB's default,
//   stated explicitly) and every read verifies them; paranoid_checks on.
// - Events: 64 MiB write buffers (up to 4, so a flush never stalls appends),
//   64 KiB blocks for sequential scans, no filter (no point lookups), LZ4 when
//   the library has it. Keys only grow, so a new table file never overlaps an
//   older one and level compaction moves files down without rewriting them
//   (trivial moves): no compaction churn. Dynamic level sizes put them on the
//   last level directly.
// - max_total_wal_size bounds the WALs kept alive by the rarely written
//   snapshots and meta families (RocksDB flushes those to release old WALs),
//   which also bounds the WAL replayed at open.
constexpr size_t events_write_buffer_bytes = size_t{64} << 20;
constexpr int events_write_buffers_max = 4;
constexpr size_t events_block_bytes = size_t{64} << 10;
constexpr size_t snapshots_write_buffer_bytes = size_t{16} << 20;
constexpr size_t small_write_buffer_bytes = size_t{1} << 20;
constexpr uint64_t wal_bytes_max = uint64_t{256} << 20;
constexpr size_t info_log_files_kept_max = 4;
constexpr int background_jobs_max = 2;
// A read of at least this many events is a scan: large readahead, and its
// blocks are not cached (they would only evict hotter ones).
constexpr uint64_t scan_events_min = 4096;
constexpr size_t scan_readahead_bytes = size_t{4} << 20;
// A writer's lock, beside RocksDB's LOCK (EventLog::Impl::lock).
constexpr std::string_view lock_file_name = "boxoffice.lock";
constexpr int lock_attempts_max = 8;

// Discards RocksDB's info log. A read-only instance would otherwise open its
// own LOG in the data directory, renaming the writer's.
class NullLogger : public rdb::Logger {
 public:
  using rdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

Status from_rocksdb(const rdb::Status& rs, const std::string& context) {
  Code code = Code::io_error;
  if (rs.IsCorruption()) {
    code = Code::corruption;
  } else if (rs.IsNotFound()) {
    code = Code::not_found;
  } else if (rs.IsInvalidArgument() || rs.IsNotSupported()) {
    code = Code::invalid_argument;
  } else if (rs.IsBusy() || rs.IsTryAgain() || rs.IsTimedOut()) {
    code = Code::busy;
  }
  return Status::error(code, context + ": " + rs.ToString());
}

rdb::Slice slice(std::span<const uint8_t> bytes) {
  return rdb::Slice(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::span<const uint8_t> span(const rdb::Slice& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string seq_text(uint64_t seq) { return std::to_string(seq); }

// RocksDB counts every iterator step in thread-local perf counters, a
// thread-local lookup each; nothing here reads them, so a scan turns them off
// on its thread for its duration.
class PerfCountersOff {
 public:
  PerfCountersOff() : before_(rdb::GetPerfLevel()) { rdb::SetPerfLevel(rdb::PerfLevel::kDisable); }
  PerfCountersOff(const PerfCountersOff&) = delete;
  PerfCountersOff& operator=(const PerfCountersOff&) = delete;
  ~PerfCountersOff() { rdb::SetPerfLevel(before_); }

 private:
  const rdb::PerfLevel before_;
};

rdb::CompressionType fast_compression() {
  const std::vector<rdb::CompressionType> supported = rdb::GetSupportedCompressions();
  const bool lz4 =
      std::find(supported.begin(), supported.end(), rdb::kLZ4Compression) != supported.end();
  return lz4 ? rdb::kLZ4Compression : rdb::kNoCompression;
}

rdb::ColumnFamilyOptions family_options(std::string_view name) {
  rdb::ColumnFamilyOptions o;
  rdb::BlockBasedTableOptions table;
  table.checksum = rdb::kXXH3;
  o.compression = fast_compression();
  o.bottommost_compression = rdb::kDisableCompressionOption;  // the same on every level
  if (name == family_events) {
    o.write_buffer_size = events_write_buffer_bytes;
    o.max_write_buffer_number = events_write_buffers_max;
    o.level_compaction_dynamic_level_bytes = true;
    table.block_size = events_block_bytes;
  } else if (name == family_snapshots) {
    o.write_buffer_size = snapshots_write_buffer_bytes;
  } else {
    o.write_buffer_size = small_write_buffer_bytes;
  }
  o.table_factory.reset(rdb::NewBlockBasedTableFactory(table));
  return o;
}

rdb::DBOptions db_options(const EventLogOptions& options) {
  rdb::DBOptions o;
  const bool writable = options.mode == OpenMode::read_write;
  o.create_if_missing = writable;
  o.create_missing_column_families = writable;
  o.paranoid_checks = true;
  o.wal_recovery_mode = rdb::WALRecoveryMode::kPointInTimeRecovery;
  o.manual_wal_flush = false;
  o.max_open_files = -1;  // required by secondary mode; table files stay open
  o.max_total_wal_size = wal_bytes_max;
  o.keep_log_file_num = info_log_files_kept_max;
  o.max_background_jobs = background_jobs_max;
  if (options.mode == OpenMode::read_only) o.info_log = std::make_shared<NullLogger>();
  return o;
}

bool is_known_family(const std::string& name) {
  return name == rdb::kDefaultColumnFamilyName || name == family_events ||
         name == family_snapshots || name == family_meta;
}

// Whether `dir` is empty, but for the lock file of a writer that stopped
// before RocksDB wrote anything.
bool holds_only_lock_file(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec || it->path().filename() != lock_file_name) return false;
  }
  return !ec;
}

// A writer's directory, created when missing; a file there is refused.
Status make_dir(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::error(Code::io_error, "cannot inspect " + dir + ": " + ec.message());
  }
  if (fs::exists(st)) {
    return fs::is_directory(st)
               ? Status::ok()
               : Status::error(Code::invalid_argument, dir + " is not a directory");
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::error(Code::io_error, "cannot create " + dir + ": " + ec.message());
  return Status::ok();
}

// Whether `dir` holds a database, may get a new one (*fresh), or neither.
Status probe_dir(const EventLogOptions& options, bool* fresh) {
  const bool writable = options.mode == OpenMode::read_write;
  const std::string& dir = options.dir;
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::error(Code::io_error, "cannot inspect " + dir + ": " + ec.message());
  }
  if (!fs::exists(st)) return Status::error(Code::not_found, "no data directory at " + dir);
  if (!fs::is_directory(st)) {
    return Status::error(Code::invalid_argument, dir + " is not a directory");
  }
  if (fs::exists(fs::path(dir) / "CURRENT", ec)) {
    *fresh = false;
    return Status::ok();
  }
  if (!writable) {
    return Status::error(Code::unsupported_format,
                         dir + " is not a boxoffice data directory (no database in it)");
  }
  if (!holds_only_lock_file(dir)) {
    return Status::error(Code::unsupported_format,
                         dir +
                             " is not empty and not a boxoffice data directory; "
                             "refusing to create a log there");
  }
  *fresh = true;
  return Status::ok();
}

Status list_families(const std::string& dir, std::vector<std::string>* families) {
  const rdb::Status rs = rdb::DB::ListColumnFamilies(rdb::DBOptions(), dir, families);
  if (!rs.ok()) return from_rocksdb(rs, dir + ": cannot read the database's column families");
  for (std::string_view required : {family_events, family_snapshots, family_meta}) {
    if (std::find(families->begin(), families->end(), required) == families->end()) {
      std::string names;
      for (const std::string& f : *families) names += (names.empty() ? "" : ", ") + f;
      return Status::error(Code::unsupported_format,
                           dir +
                               " is a RocksDB database but not a boxoffice data directory "
                               "(column families: " +
                               names + ")");
    }
  }
  return Status::ok();
}

// Whether two files hold the same bytes (false when either is unreadable).
bool same_bytes(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(a, ec);
  if (ec || fs::file_size(b, ec) != size || ec) return false;
  std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
  return std::equal(std::istreambuf_iterator<char>(x), {}, std::istreambuf_iterator<char>(y));
}

std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

// Copies `from` to the new file `to` and syncs it and its directory: the
// copy outlives the original, which RocksDB deletes while it opens.
// Returns "" or what failed.
std::string copy_durably(const fs::path& from, const fs::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return "cannot open " + from.string() + ": " + errno_text();
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    const std::string error = "cannot create " + to.string() + ": " + errno_text();
    ::close(in);
    return error;
  }
  std::string error;
  std::array<char, 1 << 16> buffer;
  while (error.empty()) {
    const ssize_t got = ::read(in, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) error = "cannot read " + from.string() + ": " + errno_text();
    if (got <= 0) break;
    for (ssize_t done = 0; error.empty() && done < got;) {
      const ssize_t put = ::write(out, buffer.data() + done, static_cast<size_t>(got - done));
      if (put > 0) done += put;
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) error = "cannot write " + to.string() + ": " + errno_text();
    }
  }
  if (error.empty() && ::fsync(out) != 0)
    error = "cannot sync " + to.string() + ": " + errno_text();
  ::close(out);
  ::close(in);
  if (error.empty() && !same_bytes(from, to)) error = to.string() + " does not match the original";
  if (error.empty()) {
    const int dir = ::open(to.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || ::fsync(dir) != 0) {
      error = "cannot sync " + to.parent_path().string() + ": " + errno_text();
    }
    if (dir >= 0) ::close(dir);
  }
  if (!error.empty()) {
    std::error_code ec;
    fs::remove(to, ec);
  }
  return error;
}

// What check_wals found.
struct WalCheck {
  std::string damaged;           // the first damaged file with batches after it, "" if none
  uint64_t damage_at = 0;        // where in it
  const char* where = "";        // where the batches are: in it, in later files, or both
  WalBatches lost;               // the batches after the damage, there and in later files
  std::string kept;              // what became of each file: "; <name> kept as <copy>"...
  bool copy_failed = false;      // a file could not be kept
  std::vector<fs::path> copies;  // the copies this start made
  bool fsync = true;

  // The report, naming the events family's largest seq when its id is known.
  std::string describe(int events_family_id) const {
    if (damaged.empty()) return "";
    const uint64_t events_max = lost.key_max_of(events_family_id);
    return damaged + ": damaged at byte " + std::to_string(damage_at) + ", and " +
           std::to_string(lost.count) +
           (lost.count == 1 ? " intact batch follows" : " intact batches follow") + where +
           (events_max > 0
                ? " (the last among them starts at event seq " + std::to_string(events_max) + ")"
                : "") +
           ": recovery stops before the damage, and what follows it is lost although it may "
           "have been acknowledged" +
           (fsync ? "" : " (with fsync off, a power cut can leave this too)") + kept + ".";
  }
};

// Keeps `wal` as damaged-N-<name> beside it, N the first free number,
// unless an earlier start kept this very file.
void keep_copy(const fs::path& wal, WalCheck* check) {
  std::error_code ec;
  check->kept += "; " + wal.filename().string();
  for (uint32_t n = 1;; n++) {
    const fs::path copy =
        wal.parent_path() / ("damaged-" + std::to_string(n) + "-" + wal.filename().string());
    if (same_bytes(wal, copy)) {
      check->kept += " kept as " + copy.string();
      return;
    }
    if (fs::exists(copy, ec)) continue;
    std::string error = ec ? ec.message() : copy_durably(wal, copy);
    if (error.empty()) {
      check->copies.push_back(copy);
      check->kept += " kept as " + copy.string();
    } else {
      check->copy_failed = true;
      check->kept += " could not be kept (" + error + ")";
    }
    return;
  }
}

// The directory's WAL files (a number, then .log), oldest first.
std::vector<fs::path> list_wals(const std::string& dir) {
  std::vector<std::pair<uint64_t, fs::path>> numbered;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t digits = name.size() - std::min(name.size(), std::string_view(".log").size());
    if (digits == 0 || digits > 19 || !name.ends_with(".log")) continue;
    if (!std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(digits),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    numbered.emplace_back(std::stoull(name.substr(0, digits)), it->path());
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<fs::path> wals;
  for (auto& [number, path] : numbered) wals.push_back(std::move(path));
  return wals;
}

// Before RocksDB replays the write-ahead logs (and, recovered, deletes
// them): damage with intact batches after it is more than a torn last
// write (wal_scan.hpp). Point-in-time recovery stops before it, and
// replays no later WAL either, so the batches of those count too. The files
// are copied aside (damaged-N-<name>, which RocksDB leaves alone and this
// scan skips). Whether those batches were lost, only the recovered log can
// say (a file RocksDB no longer needs is scanned too): EventLog::open
// compares. An unreadable file is left to RocksDB.
WalCheck check_wals(const std::string& dir, bool fsync) {
  WalCheck check;
  check.fsync = fsync;
  const std::vector<fs::path> wals = list_wals(dir);
  size_t first = wals.size();  // the first damaged file
  WalScan damaged;
  std::vector<fs::path> to_keep;
  for (size_t i = 0; i < wals.size(); i++) {
    const WalScan scan = scan_wal(wals[i].string());
    if (!scan.read_ok) continue;
    if (first == wals.size()) {
      if (!scan.damaged) continue;
      first = i;
      damaged = scan;
      check.lost = scan.after;
      to_keep.push_back(wals[i]);
    } else if (scan.all.count > 0) {
      check.lost.merge(scan.all);
      to_keep.push_back(wals[i]);
    }
  }
  if (check.lost.count == 0) return check;
  check.damaged = wals[first].string();
  check.damage_at = damaged.damage_at;
  check.where = damaged.after.count == 0 ? " in later WAL files"
                : to_keep.size() > 1     ? " in it and later WAL files"
                                         : "";
  for (const fs::path& wal : to_keep) keep_copy(wal, &check);
  return check;
}

}  // namespace

struct EventLog::Impl {
  EventLogOptions options;
  rdb::DB* db = nullptr;
  std::vector<rdb::ColumnFamilyHandle*> handles;  // every family opened
  rdb::ColumnFamilyHandle* events = nullptr;
  rdb::ColumnFamilyHandle* snapshots = nullptr;
  rdb::ColumnFamilyHandle* meta = nullptr;

  bool opened = false;        // every check at open passed (a refused directory is not flushed)
  int lock_fd = -1;           // a writer's lock_file_name, flock()ed while it is open
  bool lock_created = false;  // by this open
  std::string wal_damage;     // check_wals' report, "" when none
  std::atomic<uint64_t> last_seq{0};
  rdb::WriteBatch append_batch;  // reused by append(): warmed, it allocates nothing

  std::atomic<bool> failed{false};
  std::atomic<bool> fail_next_write{false};
  mutable std::mutex error_mutex;
  Status error;  // the first failed write; guarded by error_mutex

  std::mutex snapshot_mutex;         // serializes put_snapshot
  bool snapshot_seqs_known = false;  // guarded by snapshot_mutex
  std::vector<uint64_t> snapshot_seqs;

  ~Impl() { (void)close(); }

  // RocksDB's own LOCK is taken only inside DB::Open, after check_wals has
  // run, so a writer takes this one first: a second writer must not copy
  // files into, or report on, a directory a live one is appending to.
  Status lock() {
    const std::string path = (fs::path(options.dir) / lock_file_name).string();
    // A file unlinked by a writer that refused the directory (drop_lock_file)
    // may be the one opened here: then the lock is on a name no one else
    // sees, and the open starts again.
    for (int attempt = 0; attempt < lock_attempts_max; attempt++) {
      lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      lock_created = lock_fd >= 0;
      if (lock_fd < 0 && errno == EEXIST) {
        lock_fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (lock_fd < 0 && errno == ENOENT) continue;  // unlinked since: create it
      }
      if (lock_fd < 0) {
        return Status::error(Code::io_error, "cannot open " + path + ": " + errno_text());
      }
      if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        const bool held = errno == EWOULDBLOCK;
        const std::string why = errno_text();
        lock_created = false;  // the holder's now
        unlock();
        if (held) {
          return Status::error(
              Code::busy, options.dir + " is in use by another process (" + path + " is locked)");
        }
        return Status::error(Code::io_error, "cannot lock " + path + ": " + why);
      }
      struct stat held {};
      struct stat named {};
      if (::fstat(lock_fd, &held) != 0) {
        const std::string why = errno_text();
        unlock();
        return Status::error(Code::io_error, "cannot inspect " + path + ": " + why);
      }
      const bool same = ::stat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
                        held.st_ino == named.st_ino;
      if (same) return Status::ok();
      lock_created = false;
      unlock();
    }
    return Status::error(Code::busy, options.dir + ": " + path + " keeps being replaced");
  }

  // A directory refused as not a boxoffice one is left as it was found.
  void drop_lock_file() {
    if (lock_created) ::unlink((fs::path(options.dir) / lock_file_name).c_str());
    unlock();
  }

  void unlock() {
    if (lock_fd >= 0) ::close(lock_fd);
    lock_fd = -1;
  }

  // A writer flushes its memtables first, so that the next open has no WAL
  // to replay (RocksDB itself flushes at close only when the WAL is off).
  // It records the clean close in the meta family first: that flush then
  // always has something to write, and only a flush that writes lets RocksDB
  // 7 delete the WAL files of earlier sessions (the directories of
  // boxoffice-bench replay, opened and closed without a write, had gathered
  // hundreds of empty ones). Then it gives up the directory's lock.
  Status close() {
    const Status s = close_db();
    unlock();
    return s;
  }

  Status close_db() {
    if (db == nullptr) return Status::ok();
    rdb::Status flushed;
    if (options.mode == OpenMode::read_write && opened && !failed.load()) {
      const std::string seq = seq_text(last_seq.load());
      flushed =
          db->Put(rdb::WriteOptions(), meta, rdb::Slice(meta_key_clean_close_seq), rdb::Slice(seq));
      rdb::FlushOptions fo;
      fo.wait = true;
      if (flushed.ok()) flushed = db->Flush(fo, {events, snapshots, meta});
    }
    for (rdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    handles.clear();
    events = snapshots = meta = nullptr;
    rdb::Status closed = db->Close();
    delete db;
    db = nullptr;
    if (!flushed.ok()) return from_rocksdb(flushed, options.dir + ": flushing at close");
    if (!closed.ok() && !closed.IsNotSupported()) {
      return from_rocksdb(closed, options.dir + ": close");
    }
    return Status::ok();
  }

  Status sticky_error() const {
    if (!failed.load(std::memory_order_acquire)) return Status::ok();
    std::lock_guard lock(error_mutex);
    return error;
  }

  Status require_writable(const char* what) const {
    if (options.mode == OpenMode::read_write) return Status::ok();
    return Status::error(Code::invalid_argument,
                         std::string(what) + ": " + options.dir + " is open for reading only");
  }

  // Every write goes through here: the first failure is kept and returned by
  // every later write.
  Status write(bool sync, rdb::WriteBatch* batch, const char* what) {
    if (Status s = sticky_error(); !s.is_ok()) return s;
    rdb::WriteOptions wo;
    wo.sync = sync;
    const rdb::Status rs = fail_next_write.exchange(false)
                               ? rdb::Status::IOError("injected by fail_next_write_for_test")
                               : db->Write(wo, batch);
    if (rs.ok()) return Status::ok();
    Status s =
        from_rocksdb(rs, options.dir + ": " + what + " failed; the log accepts no more writes");
    std::lock_guard lock(error_mutex);
    if (!failed.load(std::memory_order_relaxed)) {
      error = std::move(s);
      failed.store(true, std::memory_order_release);
    }
    return error;
  }

  Status open_db(const std::vector<std::string>& families);
  Status check_format(bool fresh);
  Status recover_last_seq();
  Status load_snapshot_seqs();
};

Status EventLog::Impl::open_db(const std::vector<std::string>& families) {
  std::vector<rdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : families) {
    descriptors.emplace_back(
        name, is_known_family(name) ? family_options(name) : rdb::ColumnFamilyOptions());
  }
  const rdb::DBOptions o = db_options(options);
  rdb::Status rs;
  switch (options.mode) {
    case OpenMode::read_write:
      rs = rdb::DB::Open(o, options.dir, descriptors, &handles, &db);
      break;
    case OpenMode::read_only:
      rs = rdb::DB::OpenForReadOnly(o, options.dir, descriptors, &handles, &db);
      break;
    case OpenMode::secondary:
      rs = rdb::DB::OpenAsSecondary(o, options.dir, options.secondary_dir, descriptors, &handles,
                                    &db);
      break;
  }
  if (!rs.ok()) {
    db = nullptr;
    handles.clear();
    if (rs.IsIOError() && rs.ToString().find("lock") != std::string::npos) {
      return Status::error(Code::busy,
                           options.dir + " is in use by another process (" + rs.ToString() + ")");
    }
    return from_rocksdb(rs, options.dir + ": cannot open the database");
  }
  BOXOFFICE_ASSERT(handles.size() == families.size());
  for (rdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() == family_events) events = h;
    if (h->GetName() == family_snapshots) snapshots = h;
    if (h->GetName() == family_meta) meta = h;
  }
  BOXOFFICE_ASSERT(events != nullptr && snapshots != nullptr && meta != nullptr);
  return Status::ok();
}

// Checks the format version, or writes it into a new directory.
Status EventLog::Impl::check_format(bool fresh) {
  std::string value;
  const rdb::Status rs =
      db->Get(rdb::ReadOptions(), meta, rdb::Slice(meta_key_format_version), &value);
  if (rs.IsNotFound()) {
    if (!fresh) {
      return Status::error(Code::unsupported_format,
                           options.dir +
                               " has no boxoffice format version: it is not a "
                               "boxoffice data directory (or its creation was "
                               "interrupted: then remove it)");
    }
    const auto version = encode_format_version(format_version_current);
    rdb::WriteBatch batch;
    const rdb::Status put = batch.Put(meta, rdb::Slice(meta_key_format_version), slice(version));
    BOXOFFICE_ASSERT(put.ok());
    return write(true, &batch, "writing the format version");
  }
  if (!rs.ok()) return from_rocksdb(rs, options.dir + ": cannot read the format version");
  uint32_t version = 0;
  if (!decode_format_version(span(rdb::Slice(value)), &version)) {
    return Status::error(Code::unsupported_format, options.dir +
                                                       " has an unreadable format version (" +
                                                       std::to_string(value.size()) + " bytes)");
  }
  if (version != format_version_current) {
    return Status::error(
        Code::unsupported_format,
        options.dir + " has format version " + std::to_string(version) +
            "; this build reads format version " + std::to_string(format_version_current) +
            (version > format_version_current ? " only (the directory was written by a newer "
                                                "boxoffice)"
                                              : " only"));
  }
  for (rdb::ColumnFamilyHandle* h : handles) {
    if (!is_known_family(h->GetName())) {
      return Status::error(Code::unsupported_format,
                           options.dir + " has an unknown column family '" + h->GetName() + "'");
    }
  }
  return Status::ok();
}

Status EventLog::Impl::recover_last_seq() {
  std::unique_ptr<rdb::Iterator> it(db->NewIterator(rdb::ReadOptions(), events));
  it->SeekToLast();
  if (!it->status().ok()) {
    return from_rocksdb(it->status(), options.dir + ": cannot read the last event");
  }
  uint64_t seq = 0;
  if (it->Valid() && (!decode_seq_key(span(it->key()), &seq) || seq == 0)) {
    return Status::error(Code::corruption, options.dir +
                                               ": the last event's key is not a "
                                               "sequence number (" +
                                               std::to_string(it->key().size()) + " bytes)");
  }
  last_seq.store(seq, std::memory_order_release);
  return Status::ok();
}

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLog::~EventLog() = default;

Status EventLog::open(const EventLogOptions& options, std::unique_ptr<EventLog>* log) {
  if (options.dir.empty()) return Status::error(Code::invalid_argument, "no data directory given");
  if (options.mode == OpenMode::secondary) {
    if (options.secondary_dir.empty() || options.secondary_dir == options.dir) {
      return Status::error(Code::invalid_argument,
                           "secondary mode needs a directory of its own (secondary_dir)");
    }
    std::error_code ec;
    fs::create_directories(options.secondary_dir, ec);
    if (ec) {
      return Status::error(Code::io_error,
                           "cannot create " + options.secondary_dir + ": " + ec.message());
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const bool writer = options.mode == OpenMode::read_write;
  if (writer) {
    // The lock first: everything after it sees the directory as no other
    // writer is changing it.
    if (Status s = make_dir(options.dir); !s.is_ok()) return s;
    if (Status s = impl->lock(); !s.is_ok()) return s;
  }
  const auto refuse = [&impl](Status s) {
    impl->drop_lock_file();
    return s;
  };
  bool fresh = false;
  if (Status s = probe_dir(options, &fresh); !s.is_ok()) return refuse(std::move(s));
  std::vector<std::string> families;
  if (fresh) {
    families = {rdb::kDefaultColumnFamilyName, std::string(family_events),
                std::string(family_snapshots), std::string(family_meta)};
  } else if (Status s = list_families(options.dir, &families); !s.is_ok()) {
    return refuse(std::move(s));
  }
  WalCheck check;
  if (writer && !fresh) check = check_wals(options.dir, options.fsync);
  if (check.copy_failed) {
    return Status::error(Code::io_error, options.dir +
                                             ": not opened, since RocksDB would delete a damaged "
                                             "write-ahead log that could not be kept: " +
                                             check.describe(-1));
  }
  // A refusal says what the check found: RocksDB refuses some of it itself
  // (an older WAL damaged while a table file holds later data).
  const auto with_report = [&check](Status s, int events_family_id) {
    if (!check.damaged.empty()) {
      s.message += "; the check before the open found: " + check.describe(events_family_id);
    }
    return s;
  };
  if (Status s = impl->open_db(families); !s.is_ok()) return with_report(std::move(s), -1);
  const uint64_t recovered_sequence = impl->db->GetLatestSequenceNumber();
  const int events_id = static_cast<int>(impl->events->GetID());
  if (Status s = impl->check_format(fresh); !s.is_ok()) return with_report(std::move(s), events_id);
  if (Status s = impl->recover_last_seq(); !s.is_ok()) return with_report(std::move(s), events_id);
  if (!check.damaged.empty()) {
    // Lost: an event after the last one recovered, or any batch RocksDB
    // numbered after the last it recovered (a snapshot or metadata put,
    // which also shows the damaged batch was whole). Else what followed the
    // damage is in the log (a WAL RocksDB no longer needed, a zeroed header
    // it read past): nothing to report, nothing to keep. RocksDB 7.8
    // recovers its latest sequence number as the larger of the last batch
    // replayed and the MANIFEST's, which is the largest of a table file
    // added (and refuses to open when a table holds data past the damage);
    // a release that logged the live number there would hide non-event
    // losses here.
    const uint64_t recovered = impl->last_seq.load();
    if (check.lost.key_max_of(events_id) > recovered ||
        check.lost.sequence_max > recovered_sequence) {
      impl->wal_damage = check.describe(events_id) + " The log recovered to event seq " +
                         std::to_string(recovered) + ".";
    } else {
      std::error_code ec;
      for (const fs::path& copy : check.copies) fs::remove(copy, ec);
    }
  }
  impl->opened = true;
  log->reset(new EventLog(std::move(impl)));
  return Status::ok();
}

Status EventLog::close() { return impl_->close(); }

const EventLogOptions& EventLog::options() const { return impl_->options; }

uint64_t EventLog::last_seq() const { return impl_->last_seq.load(std::memory_order_acquire); }

Status EventLog::write_error() const { return impl_->sticky_error(); }

const std::string& EventLog::wal_damage() const { return impl_->wal_damage; }

void EventLog::fail_next_write_for_test() { impl_->fail_next_write.store(true); }

Status EventLog::append(const EventBatch& batch) {
  const EventBatch* one[] = {&batch};
  return append(one);
}

Status EventLog::append(std::span<const EventBatch* const> batches) {
  Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  if (Status s = m.require_writable("append"); !s.is_ok()) return s;
  if (Status s = m.sticky_error(); !s.is_ok()) return s;
  const uint64_t last = m.last_seq.load(std::memory_order_relaxed);
  uint64_t next = last + 1;
  m.append_batch.Clear();
  for (const EventBatch* batch : batches) {
    BOXOFFICE_ASSERT(batch != nullptr && batch->sealed());
    if (batch->first_seq() != next) {
      return Status::error(Code::invalid_argument,
                           "append: a batch starts at seq " + seq_text(batch->first_seq()) +
                               " but the log's next seq is " + seq_text(next));
    }
    for (size_t i = 0; i < batch->count(); i++, next++) {
      const SeqKey key = encode_seq_key(next);
      const std::span<const uint8_t> event = batch->event(i);
      BOXOFFICE_ASSERT(!event.empty());
      const rdb::Status rs = m.append_batch.Put(m.events, slice(key), slice(event));
      if (!rs.ok()) return from_rocksdb(rs, "append: event seq " + seq_text(next));
    }
  }
  if (next == last + 1) return Status::ok();  // only empty batches: nothing to write
  if (Status s = m.write(m.options.fsync, &m.append_batch, "append"); !s.is_ok()) return s;
  BOXOFFICE_ASSERT(m.last_seq.load(std::memory_order_relaxed) == last);  // one appender
  m.last_seq.store(next - 1, std::memory_order_release);
  return Status::ok();
}

Status EventLog::read(uint64_t from_seq, uint64_t to_seq_inclusive, const Visit& visit) const {
  const Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  from_seq = std::max<uint64_t>(from_seq, 1);
  // Taken before the iterator: every event up to `end` is visible to it.
  const uint64_t end = std::min(to_seq_inclusive, last_seq());
  if (from_seq > end) return Status::ok();
  BOXOFFICE_ASSERT(end < UINT64_MAX);
  const SeqKey lower = encode_seq_key(from_seq);
  const SeqKey upper = encode_seq_key(end + 1);
  const rdb::Slice upper_slice = slice(upper);
  rdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.iterate_upper_bound = &upper_slice;
  if (end - from_seq + 1 >= scan_events_min) {
    ro.fill_cache = false;
    ro.readahead_size = scan_readahead_bytes;
  }
  const PerfCountersOff perf_counters_off;
  std::unique_ptr<rdb::Iterator> it(m.db->NewIterator(ro, m.events));
  uint64_t expected = from_seq;
  for (it->Seek(slice(lower)); it->Valid(); it->Next()) {
    uint64_t seq = 0;
    if (!decode_seq_key(span(it->key()), &seq)) {
      return Status::error(Code::corruption, "event log: the key after seq " +
                                                 seq_text(expected - 1) + " is " +
                                                 std::to_string(it->key().size()) + " bytes long");
    }
    if (seq != expected) {
      return Status::error(Code::corruption, "event log: seq " + seq_text(expected) +
                                                 " is missing (the next event is seq " +
                                                 seq_text(seq) + ")");
    }
    const std::span<const uint8_t> event = span(it->value());
    if (event.empty()) {
      return Status::error(Code::corruption, "event log: seq " + seq_text(seq) + " is empty");
    }
    if (!visit(seq, event)) return Status::ok();
    expected++;
  }
  if (!it->status().ok()) {
    return from_rocksdb(it->status(), "event log: cannot read seq " + seq_text(expected));
  }
  if (expected <= end) {
    return Status::error(Code::corruption, "event log: seq " + seq_text(expected) +
                                               " is missing (the log ends before seq " +
                                               seq_text(end) + ")");
  }
  return Status::ok();
}

// Every stored snapshot's seq, ascending. Reads their values: RocksDB has no
// key-only scan. Done once per process, on the snapshot writer's first call.
Status EventLog::Impl::load_snapshot_seqs() {
  std::vector<SnapshotInfo> infos;
  rdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rdb::Iterator> it(db->NewIterator(ro, snapshots));
  snapshot_seqs.clear();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t seq = 0;
    if (!decode_seq_key(span(it->key()), &seq)) {
      return Status::error(Code::corruption,
                           "a snapshot key is " + std::to_string(it->key().size()) + " bytes long");
    }
    snapshot_seqs.push_back(seq);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "listing snapshots");
  snapshot_seqs_known = true;
  return Status::ok();
}

Status EventLog::put_snapshot(uint64_t seq, std::span<const uint8_t> bytes) {
  Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  if (Status s = m.require_writable("put_snapshot"); !s.is_ok()) return s;
  if (seq == 0 || seq > last_seq()) {
    return Status::error(Code::invalid_argument, "put_snapshot: seq " + seq_text(seq) +
                                                     " is not in the log (last_seq " +
                                                     seq_text(last_seq()) + ")");
  }
  if (bytes.size() > snapshot_body_bytes_max) {
    return Status::error(Code::invalid_argument, "put_snapshot: " + std::to_string(bytes.size()) +
                                                     " bytes is over snapshot_body_bytes_max");
  }
  std::lock_guard lock(m.snapshot_mutex);
  if (!m.snapshot_seqs_known) {
    if (Status s = m.load_snapshot_seqs(); !s.is_ok()) return s;
  }
  std::vector<uint64_t>& seqs = m.snapshot_seqs;
  if (!seqs.empty() && seq < seqs.back()) {
    return Status::error(Code::invalid_argument, "put_snapshot: seq " + seq_text(seq) +
                                                     " is older than the newest snapshot's " +
                                                     seq_text(seqs.back()));
  }
  if (!seqs.empty() && seqs.back() == seq) seqs.pop_back();  // replaced below
  std::vector<uint8_t> envelope;
  encode_snapshot_envelope(seq, bytes, &envelope);
  rdb::WriteBatch batch;
  rdb::Status rs = batch.Put(m.snapshots, slice(encode_seq_key(seq)), slice(envelope));
  if (!rs.ok()) return from_rocksdb(rs, "put_snapshot: seq " + seq_text(seq));
  // Keep the snapshots_kept_max - 1 newest older ones; delete the rest.
  const size_t older_kept = std::min(seqs.size(), snapshots_kept_max - 1);
  const size_t deleted = seqs.size() - older_kept;
  for (size_t i = 0; i < deleted; i++) {
    rs = batch.Delete(m.snapshots, slice(encode_seq_key(seqs[i])));
    BOXOFFICE_ASSERT(rs.ok());
  }
  if (Status s = m.write(true, &batch, "put_snapshot"); !s.is_ok()) {
    m.snapshot_seqs_known = false;  // reload: the cache may be off now
    return s;
  }
  seqs.erase(seqs.begin(), seqs.begin() + static_cast<std::ptrdiff_t>(deleted));
  seqs.push_back(seq);
  BOXOFFICE_ASSERT(seqs.size() <= snapshots_kept_max);
  BOXOFFICE_ASSERT(std::is_sorted(seqs.begin(), seqs.end()));
  return Status::ok();
}

Status EventLog::visit_newest_snapshot(const SnapshotVisit& visit) const {
  const Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  rdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<rdb::Iterator> it(m.db->NewIterator(ro, m.snapshots));
  it->SeekToLast();
  if (!it->status().ok()) {
    return from_rocksdb(it->status(), "the newest snapshot is unreadable");
  }
  if (!it->Valid()) return Status::error(Code::not_found, "no snapshot in " + m.options.dir);
  uint64_t key_seq = 0;
  if (!decode_seq_key(span(it->key()), &key_seq)) {
    return Status::error(Code::corruption, "the newest snapshot's key is " +
                                               std::to_string(it->key().size()) + " bytes long");
  }
  std::span<const uint8_t> body;
  if (Status s = decode_snapshot_envelope(key_seq, span(it->value()), &body); !s.is_ok()) {
    return s;
  }
  if (key_seq > last_seq()) {
    return Status::error(Code::corruption, "snapshot at seq " + seq_text(key_seq) +
                                               " is ahead of the log (last_seq " +
                                               seq_text(last_seq()) + ")");
  }
  visit(key_seq, body);
  return Status::ok();
}

Status EventLog::load_newest_snapshot(uint64_t* seq, std::vector<uint8_t>* bytes) const {
  return visit_newest_snapshot([&](uint64_t key_seq, std::span<const uint8_t> body) {
    *seq = key_seq;
    bytes->assign(body.begin(), body.end());
  });
}

Status EventLog::list_snapshots(std::vector<SnapshotInfo>* snapshots) const {
  const Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  rdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rdb::Iterator> it(m.db->NewIterator(ro, m.snapshots));
  snapshots->clear();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    SnapshotInfo info;
    if (!decode_seq_key(span(it->key()), &info.seq)) {
      return Status::error(Code::corruption,
                           "a snapshot key is " + std::to_string(it->key().size()) + " bytes long");
    }
    info.stored_bytes = it->value().size();
    snapshots->push_back(info);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "listing snapshots");
  return Status::ok();
}

Status EventLog::get_meta(std::string_view key, std::string* value) const {
  const Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  const rdb::Status rs =
      m.db->Get(rdb::ReadOptions(), m.meta, rdb::Slice(key.data(), key.size()), value);
  if (rs.IsNotFound()) {
    return Status::error(Code::not_found, "no meta value '" + std::string(key) + "'");
  }
  if (!rs.ok()) return from_rocksdb(rs, "reading meta value '" + std::string(key) + "'");
  return Status::ok();
}

Status EventLog::put_meta(std::string_view key, std::string_view value) {
  Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  if (Status s = m.require_writable("put_meta"); !s.is_ok()) return s;
  if (key == meta_key_format_version || key == meta_key_clean_close_seq || key.empty() ||
      key.size() > meta_key_bytes_max || value.size() > meta_value_bytes_max) {
    return Status::error(Code::invalid_argument,
                         "put_meta: key '" + std::string(key.substr(0, 64)) +
                             "' is reserved, empty or too long, or its value is too long");
  }
  rdb::WriteBatch batch;
  const rdb::Status rs =
      batch.Put(m.meta, rdb::Slice(key.data(), key.size()), rdb::Slice(value.data(), value.size()));
  BOXOFFICE_ASSERT(rs.ok());
  return m.write(true, &batch, "put_meta");
}

Status EventLog::checkpoint(const std::string& dir) {
  Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  if (m.options.mode == OpenMode::read_only) {
    return Status::error(Code::invalid_argument,
                         "checkpoint: not from a read-only log (open it as a secondary)");
  }
  std::error_code ec;
  const fs::path target = fs::absolute(dir, ec);
  if (ec) return Status::error(Code::invalid_argument, "checkpoint: bad path " + dir);
  if (fs::exists(target, ec) || ec) {
    return Status::error(Code::invalid_argument, "checkpoint: " + dir + " already exists");
  }
  rdb::Checkpoint* raw = nullptr;
  rdb::Status rs = rdb::Checkpoint::Create(m.db, &raw);
  if (!rs.ok()) return from_rocksdb(rs, "checkpoint");
  std::unique_ptr<rdb::Checkpoint> checkpoint(raw);
  rs = checkpoint->CreateCheckpoint(target.string());
  if (!rs.ok()) return from_rocksdb(rs, "checkpoint into " + dir);
  return Status::ok();
}

Status EventLog::catch_up() {
  Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  if (m.options.mode != OpenMode::secondary) {
    return Status::error(Code::invalid_argument, "catch_up: the log is not open as a secondary");
  }
  const rdb::Status rs = m.db->TryCatchUpWithPrimary();
  if (!rs.ok()) return from_rocksdb(rs, m.options.dir + ": catching up with the writer");
  return m.recover_last_seq();
}

Status EventLog::stats(LogStats* stats) const {
  const Impl& m = *impl_;
  BOXOFFICE_ASSERT(m.db != nullptr);
  *stats = LogStats{};
  stats->last_seq = last_seq();
  std::unique_ptr<rdb::Iterator> it(m.db->NewIterator(rdb::ReadOptions(), m.events));
  it->SeekToFirst();
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading the first event");
  if (it->Valid() && !decode_seq_key(span(it->key()), &stats->first_seq)) {
    return Status::error(Code::corruption, "the first event's key is not a sequence number");
  }
  uint64_t value = 0;
  if (m.db->GetIntProperty(m.events, rdb::DB::Properties::kLiveSstFilesSize, &value)) {
    stats->events_sst_bytes = value;
  }
  if (m.db->GetIntProperty(m.snapshots, rdb::DB::Properties::kLiveSstFilesSize, &value)) {
    stats->snapshots_sst_bytes = value;
  }
  for (rdb::ColumnFamilyHandle* h : m.handles) {
    if (m.db->GetIntProperty(h, rdb::DB::Properties::kCurSizeAllMemTables, &value)) {
      stats->memtable_bytes += value;
    }
  }
  // Files come and go while RocksDB works: skip the ones that vanish.
  std::error_code ec;
  for (fs::directory_iterator d(m.options.dir, ec), done; !ec && d != done; d.increment(ec)) {
    std::error_code file_ec;
    const uintmax_t size = d->is_regular_file(file_ec) ? d->file_size(file_ec) : 0;
    if (!file_ec) stats->dir_bytes += size;
  }
  return Status::ok();
}

}  // namespace boxoffice::storage
