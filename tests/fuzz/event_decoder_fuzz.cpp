// Fuzz target: the event decoder.
//
// Properties: decoding never crashes or reads out of bounds (the sanitizers
// watch), and whatever decodes re-encodes to exactly the same bytes (the
// format is canonical: one encoding per event).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "engine/event_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boxoffice::Event event;
  if (boxoffice::decode_event(std::span<const uint8_t>(data, size), &event) !=
      boxoffice::DecodeError::none) {
    return 0;
  }
  std::vector<uint8_t> again;
  boxoffice::encode_event(event, again);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
