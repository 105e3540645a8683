// The snapshot format: the whole durable state as of one sequence number.
//
//   snapshot    := version: u16 (1)  digest: u64  body
//   body        := last_seq: u64  last_event_ms: i64  concerts  users  tokens
//                  promotions  reservations  payments  refunds  idempotency
//   concerts    := count: u32  (title: string  dates: u16
//                  (day: i32  price: i64  seats: u32  (reservation: u32  status:
//                  u8)[seats])[dates])[count]
//   users       := count: u32  (name: short  balance charged paid refunded: i64
//                  live_token: u64  held reservations payments: u32
//                  last_reservation last_payment: u32)[count]
//   tokens      := count: u64  (user: u32  status: u8  end: u8
//                  issued activated expires ended: i64)[count]
//   promotions  := first_second: i64  (second: i64  count: u32)[admission_window_s]
//   reservations:= count: u32  (user date seat: u32  status: u8  price created expires
//                  paid cancelled refunded: i64  prev payment refund: u32)[count]
//   payments    := count: u32  (reservation user: u32  amount balance_after paid: i64  prev:
//   u32)[count] refunds     := count: u32  (reservation: u32  amount balance_after created:
//   i64)[count] idempotency := count: u64  (user: u32  key: short  fingerprint: u64  kind: u8
//                  id: u64  balance_after created: i64)[count]      in first-use order
//
// Integers are little-endian (byte_io.hpp). The body is the canonical
// encoding of the durable state, and the state's digest is a hash of it
// (digest.hpp), so the digest covers exactly what a snapshot keeps. The
// decoder checks the stored digest against the hash of the body (or leaves
// that to its caller, who may run it beside the decode), every count
// against the bytes left and every enum against its range, and rebuilds the
// derived indexes (names, the line, day tables); it refuses the snapshot at
// the first failed check. Decoding is exact: the state decoded re-encodes to
// the same body (snapshot_test.cpp and the snapshot fuzz target check it).
// The storage layer wraps the bytes in a checksummed envelope.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/state.hpp"

namespace boxoffice {

inline constexpr uint16_t snapshot_version_current = 1;

// version and digest, before the body
inline constexpr size_t snapshot_prefix_bytes = sizeof(uint16_t) + sizeof(uint64_t);

enum class DigestCheck : uint8_t { here, by_caller };

class ByteReader;
template <typename Sink>
class FieldWriter;
class VectorSink;
using ByteWriter = FieldWriter<VectorSink>;

class SnapshotCodec {
 public:
  // Appends the snapshot of `state` to `out`.
  static void encode(const State& state, std::vector<uint8_t>& out);
  // Appends only the body: the canonical encoding of the durable state.
  static void encode_body(const State& state, std::vector<uint8_t>& out);
  // Decodes into `*state`, which must be freshly constructed. Returns an
  // empty string on success, else what is wrong. With DigestCheck::by_caller
  // the digest is not checked here: the caller runs check_digest (on another
  // thread, say) and discards the state when that fails.
  static std::string decode(std::span<const uint8_t> bytes, State* state,
                            DigestCheck check = DigestCheck::here);
  // "" when the snapshot's stored digest is the hash of its body, else what
  // is wrong.
  static std::string check_digest(std::span<const uint8_t> bytes);

 private:
  static void encode_catalog(ByteWriter& w, const State& s);
  static void encode_people(ByteWriter& w, const State& s);
  static void encode_sales(ByteWriter& w, const State& s);
  // Each decoder returns "" or what is wrong.
  static std::string decode_catalog(ByteReader& r, State& s);
  static std::string decode_users(ByteReader& r, State& s);
  static std::string decode_tokens(ByteReader& r, State& s);
  static std::string decode_reservations(ByteReader& r, State& s);
  static std::string decode_payments(ByteReader& r, State& s);
  static std::string decode_idempotency(ByteReader& r, State& s);
};

}  // namespace boxoffice
