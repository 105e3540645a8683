#include "storage/wal_scan.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <span>

#include "storage/crc32c.hpp"

namespace boxoffice::storage {

namespace {

// db/log_format.h of RocksDB 7.x.
constexpr size_t block_bytes = 32768;
constexpr size_t header_bytes = 7;  // masked crc32c (4), length (2), type (1)
constexpr uint8_t type_zero = 0;    // preallocated space, skipped
constexpr uint8_t type_full = 1;
constexpr uint8_t type_first = 2;
constexpr uint8_t type_middle = 3;
constexpr uint8_t type_last = 4;
constexpr uint32_t crc_mask_delta = 0xa282ead8;
// A WriteBatch starts with its sequence number (8, little-endian) and count
// (4); its first operation, an event's Put, is tag 0x05 (a column family's
// value), the family's varint id, then the key's varint length and the key:
// 8 bytes, the event's seq big-endian.
constexpr size_t batch_header_bytes = 12;
constexpr uint8_t tag_family_value = 0x05;
constexpr uint8_t event_key_bytes = 8;

uint32_t load32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

uint32_t masked_crc(uint8_t type, std::span<const uint8_t> payload) {
  const uint32_t crc = crc32c_extend(crc32c(std::span(&type, 1)), payload);
  return ((crc >> 15) | (crc << 17)) + crc_mask_delta;
}

// A batch's RocksDB sequence number (its first 8 bytes, little-endian).
uint64_t batch_sequence(std::span<const uint8_t> payload) {
  uint64_t sequence = 0;
  for (size_t i = 0; i < 8 && i < payload.size(); i++) sequence |= uint64_t{payload[i]} << (8 * i);
  return sequence;
}

// Counts a batch into `batches`: its sequence number, and the key of its
// first Put when that is 8 bytes in a family followed.
void count_into(std::span<const uint8_t> payload, WalBatches* batches) {
  batches->count++;
  batches->sequence_max = std::max(batches->sequence_max, batch_sequence(payload));
  size_t at = batch_header_bytes;
  if (payload.size() < at + 3 || payload[at] != tag_family_value) return;
  at++;
  uint32_t family = 0;
  for (int shift = 0; at < payload.size(); shift += 7, at++) {  // the family's varint id
    if (shift < 32) family |= uint32_t{payload[at] & 0x7fu} << shift;
    if ((payload[at] & 0x80) == 0) break;
  }
  at++;
  if (family >= wal_families_max) return;
  if (at + 1 + event_key_bytes > payload.size() || payload[at] != event_key_bytes) return;
  uint64_t key = 0;
  for (size_t i = 0; i < event_key_bytes; i++) key = key << 8 | payload[at + 1 + i];
  batches->key_max[family] = std::max(batches->key_max[family], key);
}

bool all_zero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

void mark_damage(uint64_t at, WalScan* scan) {
  if (scan->damaged) return;
  scan->damaged = true;
  scan->damage_at = at;
}

void count_batch(std::span<const uint8_t> payload, WalScan* scan) {
  count_into(payload, &scan->all);
  if (scan->damaged) count_into(payload, &scan->after);
}

// The batch being read across records: begun by a FIRST, not yet ended.
struct OpenBatch {
  bool open = false;
  bool has_data = false;  // its pieces so far carry bytes
};

// Whether an intact record of `type` (with `length` bytes) fits RocksDB's
// order of pieces: a MIDDLE or LAST continues a batch begun by a FIRST, and
// a FULL or FIRST begins one only when no batch with data is still open
// (log_reader.cc accepts an empty FIRST left at a block's end by old
// writers, and reports each other case as corruption, where point-in-time
// recovery stops). Updates *batch.
bool in_order(uint8_t type, size_t length, OpenBatch* batch) {
  const bool continues = type == type_middle || type == type_last;
  const bool ok = continues ? batch->open : !(batch->open && batch->has_data);
  if (type == type_first || type == type_full) batch->has_data = false;
  batch->open = type == type_first || type == type_middle;
  batch->has_data = batch->open && (batch->has_data || length > 0);
  return ok;
}

// Reads the records of one block (`size` bytes, fewer than a block only at
// the end of the file) starting at `offset` in the file. *batch: the batch
// still open from the blocks before, if any.
void scan_block(std::span<const uint8_t> block, uint64_t offset, bool last_block, OpenBatch* batch,
                WalScan* scan) {
  size_t pos = 0;
  while (pos + header_bytes <= block.size()) {
    const uint8_t* h = block.data() + pos;
    const size_t length = size_t{h[4]} | size_t{h[5]} << 8;
    const uint8_t type = h[6];
    if (type == type_zero && length == 0) {
      // RocksDB drops the rest of the block at such a header (preallocated
      // space: zeros to the end), which ends an open batch as corruption;
      // anything but zeros after it is lost.
      if (batch->open) mark_damage(offset + pos, scan);
      *batch = OpenBatch{};
      if (all_zero(block.subspan(pos))) return;
      mark_damage(offset + pos, scan);
      pos += header_bytes;
      continue;
    }
    const bool fits = pos + header_bytes + length <= block.size();
    if (!fits && last_block && block.size() < block_bytes) return;  // cut short by the end
    const std::span<const uint8_t> payload =
        fits ? block.subspan(pos + header_bytes, length) : std::span<const uint8_t>{};
    const bool intact =
        fits && type >= type_full && type <= type_last && load32(h) == masked_crc(type, payload);
    if (!intact || !in_order(type, length, batch)) mark_damage(offset + pos, scan);
    if (intact && (type == type_full || type == type_first)) count_batch(payload, scan);
    if (!fits) return;  // the length is not to be trusted: on at the next block
    pos += header_bytes + length;
  }
}

}  // namespace

void WalBatches::merge(const WalBatches& other) {
  count += other.count;
  sequence_max = std::max(sequence_max, other.sequence_max);
  for (uint32_t f = 0; f < wal_families_max; f++)
    key_max[f] = std::max(key_max[f], other.key_max[f]);
}

WalScan scan_wal(const std::string& path) {
  WalScan scan;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    scan.read_ok = false;
    scan.error = "cannot open " + path;
    return scan;
  }
  std::array<uint8_t, block_bytes> block;
  uint64_t offset = 0;
  OpenBatch batch;
  while (true) {
    in.read(reinterpret_cast<char*>(block.data()), block_bytes);
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    const bool last = got < block_bytes || in.peek() == std::char_traits<char>::eof();
    scan_block(std::span(block.data(), got), offset, last, &batch, &scan);
    offset += got;
    if (got < block_bytes) break;
  }
  if (in.bad()) {
    scan.read_ok = false;
    scan.error = "cannot read " + path;
  }
  return scan;
}

}  // namespace boxoffice::storage
