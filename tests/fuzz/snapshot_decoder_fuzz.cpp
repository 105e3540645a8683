// Fuzz target: the snapshot decoder.
//
// Properties: decoding never crashes, reads out of bounds or allocates
// without bound (counts are checked against the bytes left); a snapshot that
// decodes re-encodes to the same bytes and passes the invariant checker.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "engine/invariants.hpp"
#include "engine/snapshot.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boxoffice::State state(1 << 10);
  if (!boxoffice::SnapshotCodec::decode(std::span<const uint8_t>(data, size), &state).empty()) {
    return 0;
  }
  std::vector<uint8_t> again;
  boxoffice::SnapshotCodec::encode(state, again);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
