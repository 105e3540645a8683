#include "storage/log_format.hpp"

#include <string>

#include "engine/assert.hpp"
#include "storage/crc32c.hpp"

namespace boxoffice::storage {

namespace {

void put_le(std::vector<uint8_t>* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; i++) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint64_t get_le(std::span<const uint8_t> in, size_t offset, size_t bytes) {
  BOXOFFICE_ASSERT(offset + bytes <= in.size());
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; i++) value |= uint64_t{in[offset + i]} << (8 * i);
  return value;
}

Status envelope_error(uint64_t seq, const std::string& what) {
  return Status::error(Status::Code::corruption,
                       "snapshot at seq " + std::to_string(seq) + " is corrupt: " + what);
}

}  // namespace

SeqKey encode_seq_key(uint64_t seq) {
  SeqKey key{};
  for (size_t i = 0; i < seq_key_bytes; i++) {
    key[i] = static_cast<uint8_t>(seq >> (8 * (seq_key_bytes - 1 - i)));
  }
  return key;
}

bool decode_seq_key(std::span<const uint8_t> key, uint64_t* seq) {
  if (key.size() != seq_key_bytes) return false;
  uint64_t value = 0;
  for (uint8_t b : key) value = (value << 8) | b;
  *seq = value;
  return true;
}

void encode_snapshot_envelope(uint64_t seq, std::span<const uint8_t> body,
                              std::vector<uint8_t>* out) {
  BOXOFFICE_ASSERT(seq >= 1);
  BOXOFFICE_ASSERT(body.size() <= snapshot_body_bytes_max);
  out->clear();
  out->reserve(snapshot_header_bytes + body.size() + snapshot_trailer_bytes);
  put_le(out, snapshot_magic, 4);
  put_le(out, snapshot_envelope_version, 2);
  put_le(out, 0, 2);
  put_le(out, seq, 8);
  put_le(out, body.size(), 8);
  BOXOFFICE_ASSERT(out->size() == snapshot_header_bytes);
  out->insert(out->end(), body.begin(), body.end());
  put_le(out, crc32c(*out), 4);
  BOXOFFICE_ASSERT(out->size() == snapshot_header_bytes + body.size() + snapshot_trailer_bytes);
}

Status decode_snapshot_envelope(uint64_t key_seq, std::span<const uint8_t> value,
                                std::span<const uint8_t>* body) {
  constexpr size_t overhead = snapshot_header_bytes + snapshot_trailer_bytes;
  if (value.size() < overhead) {
    return envelope_error(key_seq,
                          std::to_string(value.size()) + " bytes, shorter than an envelope");
  }
  if (get_le(value, 0, 4) != snapshot_magic) return envelope_error(key_seq, "bad magic");
  const uint64_t version = get_le(value, 4, 2);
  if (version != snapshot_envelope_version) {
    return Status::error(Status::Code::unsupported_format,
                         "snapshot at seq " + std::to_string(key_seq) + " has envelope version " +
                             std::to_string(version) + "; this build reads version " +
                             std::to_string(snapshot_envelope_version));
  }
  const size_t crc_offset = value.size() - snapshot_trailer_bytes;
  const auto stored_crc = static_cast<uint32_t>(get_le(value, crc_offset, 4));
  const uint32_t actual_crc = crc32c(value.first(crc_offset));
  if (stored_crc != actual_crc) {
    return envelope_error(key_seq, "checksum mismatch (stored " + std::to_string(stored_crc) +
                                       ", computed " + std::to_string(actual_crc) + ")");
  }
  if (get_le(value, 6, 2) != 0) return envelope_error(key_seq, "reserved field is not zero");
  const uint64_t seq = get_le(value, 8, 8);
  if (seq != key_seq) {
    return envelope_error(key_seq, "envelope names seq " + std::to_string(seq));
  }
  const uint64_t body_bytes = get_le(value, 16, 8);
  if (body_bytes != value.size() - overhead) {
    return envelope_error(key_seq, "body length " + std::to_string(body_bytes) + " but " +
                                       std::to_string(value.size() - overhead) + " bytes stored");
  }
  *body = value.subspan(snapshot_header_bytes, body_bytes);
  return Status::ok();
}

std::array<uint8_t, 4> encode_format_version(uint32_t version) {
  return {static_cast<uint8_t>(version), static_cast<uint8_t>(version >> 8),
          static_cast<uint8_t>(version >> 16), static_cast<uint8_t>(version >> 24)};
}

bool decode_format_version(std::span<const uint8_t> value, uint32_t* version) {
  if (value.size() != 4) return false;
  *version = static_cast<uint32_t>(get_le(value, 0, 4));
  return true;
}

}  // namespace boxoffice::storage
