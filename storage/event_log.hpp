// EventLog: the durable log of events and snapshots in a data directory
// (embedded RocksDB; the on-disk format is in log_format.hpp).
//
// The interface is the seam of DESIGN rule 9: append a batch, read a range,
// store and load snapshots, a few metadata values. No RocksDB type appears
// here, so nothing above storage/ depends on RocksDB.
//
// Contract:
// - Events are numbered 1, 2, ...; append() takes the next ones in order, as
//   one atomic write (one WriteBatch), synced before it returns when
//   options.fsync is set. What append() reported ok survives a crash.
// - A failed write is sticky: once a write fails, every later append,
//   put_snapshot and put_meta returns that first error. Nothing is retried;
//   the events of the failed write may or may not be in the log after a
//   restart (they were never acknowledged).
// - A torn last write (a crash in the middle of a sync) is dropped at open:
//   the log recovers to the last complete batch. (RocksDB's point-in-time
//   recovery: damage in the middle of the WAL not yet flushed to tables
//   also ends recovery there, silently. See the tuning notes in the .cpp.)
// - close() flushes, so the next open replays no WAL.
// - Reads check RocksDB's block checksums and that the sequence numbers are
//   consecutive; a failure is corruption naming the sequence number.
// - Opening refuses a directory that is missing (read modes), that is not a
//   boxoffice data directory, or whose format version this build does not
//   know, each with a message that says so.
//
// Threads: append() from one thread at a time (the group committer: its own
// thread, or the caller of commit_here() while nothing is in flight). Reads
// (read, load_newest_snapshot, visit_newest_snapshot, list_snapshots,
// get_meta, stats, last_seq) from any thread, concurrently with append.
// put_snapshot and put_meta from any thread. catch_up and close not
// concurrently with anything else.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/event_batch.hpp"
#include "storage/status.hpp"

namespace boxoffice::storage {

enum class OpenMode : uint8_t {
  read_write = 0,  // the server: one process at a time (RocksDB's LOCK file)
  read_only = 1,   // a view as of open; safe beside a writer for short reads
  secondary = 2,   // a reader beside a running writer; catch_up() follows it
};

struct EventLogOptions {
  std::string dir;
  OpenMode mode = OpenMode::read_write;
  // Sync every append (DESIGN rule 3). Off only for benchmarks: a crash may
  // then lose appends that were reported ok.
  bool fsync = true;
  // mode == secondary: a directory of the reader's own (RocksDB keeps its
  // info log there); created when missing. Must not be `dir`.
  std::string secondary_dir;
};

struct SnapshotInfo {
  uint64_t seq = 0;
  uint64_t stored_bytes = 0;  // the envelope's size
};

struct LogStats {
  uint64_t first_seq = 0;  // 0 when the log is empty
  uint64_t last_seq = 0;
  uint64_t events_sst_bytes = 0;     // live table files of the events family
  uint64_t snapshots_sst_bytes = 0;  // live table files of the snapshots family
  uint64_t memtable_bytes = 0;       // not yet flushed to table files (also in the WAL)
  uint64_t dir_bytes = 0;            // every file in the directory: tables, WAL, manifest, logs
};

class EventLog {
 public:
  using Visit = std::function<bool(uint64_t seq, std::span<const uint8_t> event)>;
  using SnapshotVisit = std::function<void(uint64_t seq, std::span<const uint8_t> body)>;

  // Opens (read_write: creates, when `dir` is missing or empty) a data
  // directory. On success *log is the open log; on failure it is untouched.
  static Status open(const EventLogOptions& options, std::unique_ptr<EventLog>* log);

  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();  // closes; call close() first to learn whether closing failed

  // Flushes and closes. Later calls on this log other than close() are
  // programmer errors.
  Status close();

  const EventLogOptions& options() const;

  // Appends the batches' events as one write.
  // REQUIRES: read_write mode; each batch sealed(); the first one starts at
  // last_seq() + 1 and each next one where the previous one ends (else
  // invalid_argument, and nothing is written). Empty batches are allowed;
  // when every batch is empty nothing is written and the result is ok
  // (or the sticky error).
  Status append(std::span<const EventBatch* const> batches);
  Status append(const EventBatch& batch);

  // The sequence number of the last appended event; 0 for an empty log.
  uint64_t last_seq() const;

  // Calls visit(seq, event) for each event in [from_seq, to_seq_inclusive]
  // that exists (reading stops at last_seq()), in order, until visit returns
  // false. from_seq 0 reads as 1. `event` is valid only during the call.
  // Corruption, naming the sequence number, on a gap or a checksum failure.
  Status read(uint64_t from_seq, uint64_t to_seq_inclusive, const Visit& visit) const;

  // Stores the snapshot of the state after event `seq`, synced, and deletes
  // all but the snapshots_kept_max newest.
  // REQUIRES: read_write mode; 1 <= seq <= last_seq(); seq >= the newest
  // stored snapshot's seq (an equal one is replaced);
  // bytes.size() <= snapshot_body_bytes_max (else invalid_argument).
  Status put_snapshot(uint64_t seq, std::span<const uint8_t> bytes);

  // The newest snapshot. not_found when there is none. Corruption naming its
  // seq when its envelope fails a check: there is no silent fall-back to an
  // older one (the caller decides, for example to replay from the start).
  Status load_newest_snapshot(uint64_t* seq, std::vector<uint8_t>* bytes) const;
  // The same without a copy: on success calls visit(seq, body) once, with
  // `body` valid only during the call (it points into RocksDB's block).
  Status visit_newest_snapshot(const SnapshotVisit& visit) const;

  // The stored snapshots, oldest first (their envelopes are not checked).
  Status list_snapshots(std::vector<SnapshotInfo>* snapshots) const;

  // A small named value. not_found when missing.
  Status get_meta(std::string_view key, std::string* value) const;
  // Stores it, synced. REQUIRES: read_write mode; key not reserved by the
  // format ("format_version", "clean_close_seq": the last seq at the last
  // clean close); key.size() <= meta_key_bytes_max,
  // value.size() <= meta_value_bytes_max.
  Status put_meta(std::string_view key, std::string_view value);

  // A consistent, openable copy of the data directory in `dir`, which must
  // not exist yet, made while the log is in use (RocksDB Checkpoint: table
  // files hard-linked when on the same file system, the rest copied).
  // read_write mode, or secondary mode beside a running writer (the tool's
  // way): the writer may delete a file the copy needs meanwhile, and then
  // checkpoint fails (io_error) and can be tried again with a new `dir`.
  Status checkpoint(const std::string& dir);

  // secondary mode: catches up with the writer (new events and snapshots
  // become visible; last_seq() advances).
  Status catch_up();

  Status stats(LogStats* stats) const;

  // The first error of a write, sticky (ok while none failed).
  Status write_error() const;

  // read_write mode: "" or what the open found of damage in a write-ahead
  // log that intact batches follow (media damage, not a torn last write)
  // whose events the recovered log does not reach: recovery stopped before
  // it, and those events are lost although they may have been
  // acknowledged; the files are kept beside the log as damaged-N-<name>.
  const std::string& wal_damage() const;

  // Test hook: the next write fails with io_error as if RocksDB had
  // reported it, and the failure is sticky like a real one.
  void fail_next_write_for_test();

 private:
  struct Impl;
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

inline constexpr size_t meta_key_bytes_max = 256;
inline constexpr size_t meta_value_bytes_max = 64 * 1024;

}  // namespace boxoffice::storage
