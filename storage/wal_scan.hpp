// WalScan: finds damage in a RocksDB write-ahead log file that records
// after it show to be more than a torn last write.
//
// The log opens with point-in-time recovery (event_log.cpp): replay stops at
// the first record that fails its checks, which is right for a torn last
// write (a crash mid-sync, nothing after it acknowledged) and silent for
// damage in the middle (media corruption), whose later batches were
// acknowledged and are dropped. The two look alike at the damage; they
// differ in what follows it: after a torn write, at most the rest of that
// one unsynced write, in the middle the log goes on. So the scan reads the
// file as RocksDB wrote it (db/log_format.h: 32 KiB blocks of records, each
// a 7-byte header: masked CRC-32C of type and payload, length, type) and,
// at the first bad record (one that fails its checks, or breaks RocksDB's
// order of pieces: a MIDDLE or LAST without its FIRST, a batch begun while
// one is open, an open batch cut by a zeroed header, which is how a zeroed
// block shows), looks on for intact batches behind it: records that start
// a batch (FULL or FIRST), not the MIDDLE or LAST pieces of the damaged
// batch itself, which a torn write can leave intact.
//
// Contract: scan_wal never changes the file. It reads it once, in blocks,
// and only what follows damage is searched (each later block's start, and
// the record after a damaged one whose length is plausible): finding no
// record there is not proof that there is none.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace boxoffice::storage {

// Column families whose keys a scan follows: ids below this.
inline constexpr uint32_t wal_families_max = 8;

// What the intact batches of a stretch of a file name.
struct WalBatches {
  uint64_t count = 0;         // intact records that start a batch (FULL or FIRST)
  uint64_t sequence_max = 0;  // the largest RocksDB sequence number one starts, 0 if none
  // Per column family id: the largest 8-byte key (read big-endian, as an
  // event's seq) that a batch's first Put names there, 0 if none.
  std::array<uint64_t, wal_families_max> key_max{};

  void merge(const WalBatches& other);
  // key_max of family `id`, 0 when the scan does not follow it (or id < 0).
  uint64_t key_max_of(int id) const {
    return id >= 0 && static_cast<uint32_t>(id) < wal_families_max
               ? key_max[static_cast<uint32_t>(id)]
               : 0;
  }
};

struct WalScan {
  bool read_ok = true;     // false: the file could not be read (error says why)
  std::string error;       //
  bool damaged = false;    // a record fails its checks before the end of the file
  uint64_t damage_at = 0;  // the first such record's offset in the file
  WalBatches all;          // the whole file's
  WalBatches after;        // those after the damage
};

// Scans one WAL file (RocksDB's format as of 7.x, as the event log writes
// it: no recycled logs, no WAL compression; the record types those add, 5
// to 9, read as damage).
WalScan scan_wal(const std::string& path);

}  // namespace boxoffice::storage
