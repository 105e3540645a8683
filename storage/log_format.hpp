// The on-disk format of a boxoffice data directory, shared by the code that
// writes it and the code that reads it (event_log.cpp, tests, tools).
//
// A data directory is a RocksDB database with these column families:
//
//   default    unused (RocksDB requires it)
//   events     seq_key -> event
//   snapshots  seq_key -> snapshot_envelope
//   meta       name -> value
//
//   seq_key           := seq: u64 big-endian           8 bytes, sorts in sequence order; seq >= 1
//   event             := u8[1..]                       opaque: the engine's encoded event
//   snapshot_envelope := magic: u32 (0x4E535842, "BXSN" in file order)
//                        version: u16 (1)  reserved: u16 (0)
//                        seq: u64  body_bytes: u64  body: u8[body_bytes]
//                        crc: u32                      CRC-32C of every byte before it
//   meta "format_version"  -> version: u32 (1)
//   meta "clean_close_seq" -> the last seq when the log was last closed
//                             cleanly, in decimal (written by close())
//   meta any other name    -> opaque small value written by the server
//
// Beside the database, one file of the server's: `token-secret`, the 32-byte
// token-signing secret (mode 0600; net/secret_file.hpp). A backup of the
// directory needs it, or the tokens issued before are refused.
//
// Integers inside values are little-endian; only keys are big-endian, so that
// RocksDB's bytewise order is sequence order. The events are consecutive: the
// keys are 1, 2, ..., last_seq with no gap. A snapshot's seq equals its key
// and is at most the log's last_seq. Two snapshots are kept.
//
// Compatibility: a reader refuses a format_version or an envelope version it
// does not know. A change that old readers cannot read takes a new number;
// numbers are never reused.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "storage/status.hpp"

namespace boxoffice::storage {

inline constexpr uint32_t format_version_current = 1;

inline constexpr std::string_view family_events = "events";
inline constexpr std::string_view family_snapshots = "snapshots";
inline constexpr std::string_view family_meta = "meta";
inline constexpr std::string_view meta_key_format_version = "format_version";
// The last seq of the log when it was last closed cleanly (decimal).
inline constexpr std::string_view meta_key_clean_close_seq = "clean_close_seq";
inline constexpr const char* token_secret_file_name = "token-secret";

inline constexpr size_t seq_key_bytes = 8;

inline constexpr uint32_t snapshot_magic = 0x4E535842u;
inline constexpr uint16_t snapshot_envelope_version = 1;
inline constexpr size_t snapshot_header_bytes = 4 + 2 + 2 + 8 + 8;
inline constexpr size_t snapshot_trailer_bytes = 4;
// The largest snapshot body the log stores (RocksDB values stay below 4 GiB).
inline constexpr uint64_t snapshot_body_bytes_max = uint64_t{1} << 30;
inline constexpr size_t snapshots_kept_max = 2;

using SeqKey = std::array<uint8_t, seq_key_bytes>;

SeqKey encode_seq_key(uint64_t seq);
// False unless `key` is exactly seq_key_bytes long.
bool decode_seq_key(std::span<const uint8_t> key, uint64_t* seq);

// Replaces `out` with the envelope around `body`.
// REQUIRES: seq >= 1, body.size() <= snapshot_body_bytes_max.
void encode_snapshot_envelope(uint64_t seq, std::span<const uint8_t> body,
                              std::vector<uint8_t>* out);

// Checks the envelope stored under key `key_seq` and points `body` into
// `value`. Corruption (naming key_seq) when a check fails; unsupported_format
// for an envelope version this build does not know.
Status decode_snapshot_envelope(uint64_t key_seq, std::span<const uint8_t> value,
                                std::span<const uint8_t>* body);

std::array<uint8_t, 4> encode_format_version(uint32_t version);
// False unless `value` is exactly 4 bytes.
bool decode_format_version(std::span<const uint8_t> value, uint32_t* version);

}  // namespace boxoffice::storage
