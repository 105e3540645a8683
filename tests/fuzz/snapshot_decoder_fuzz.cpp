// Fuzz target: the snapshot decoder.
//
// Properties: decoding never crashes, reads out of bounds or allocates
// without bound (counts are checked against the bytes left), with or without
// the digest check first (recovery decodes while another thread checks the
// digest, so the decoder must be safe on a body whose digest is wrong); a
// snapshot that decodes re-encodes to the same bytes, its digest aside, and
// the digest check agrees with the checked decode.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "engine/snapshot.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using boxoffice::SnapshotCodec;
  const std::span<const uint8_t> bytes(data, size);
  boxoffice::State state(1 << 10);
  if (!SnapshotCodec::decode(bytes, &state, boxoffice::DigestCheck::by_caller).empty()) {
    boxoffice::State checked(1 << 10);
    if (SnapshotCodec::decode(bytes, &checked).empty()) std::abort();
    return 0;
  }
  std::vector<uint8_t> again;
  SnapshotCodec::encode(state, again);
  constexpr size_t digest_at = sizeof(uint16_t);
  const auto same = [&](size_t from, size_t to) {
    return std::equal(again.begin() + static_cast<ptrdiff_t>(from),
                      again.begin() + static_cast<ptrdiff_t>(to), data + from);
  };
  if (again.size() != size || !same(0, digest_at) ||
      !same(boxoffice::snapshot_prefix_bytes, size)) {
    std::abort();
  }
  const bool digest_ok = same(digest_at, boxoffice::snapshot_prefix_bytes);
  if (SnapshotCodec::check_digest(bytes).empty() != digest_ok) std::abort();
  boxoffice::State checked(1 << 10);
  if (SnapshotCodec::decode(bytes, &checked).empty() != digest_ok) std::abort();
  return 0;
}
