#include "storage/event_batch.hpp"

#include "engine/assert.hpp"

namespace boxoffice::storage {

void EventBatch::reset(uint64_t first_seq) {
  BOXOFFICE_ASSERT(first_seq >= 1);
  first_seq_ = first_seq;
  bytes_.clear();
  ends_.clear();
}

void EventBatch::seal_event() {
  BOXOFFICE_ASSERT(bytes_.size() > sealed_bytes());
  ends_.push_back(bytes_.size());
  BOXOFFICE_ASSERT(sealed());
}

std::span<const uint8_t> EventBatch::event(size_t i) const {
  BOXOFFICE_ASSERT(i < ends_.size());
  const size_t begin = i == 0 ? 0 : ends_[i - 1];
  BOXOFFICE_ASSERT(begin < ends_[i] && ends_[i] <= bytes_.size());
  return std::span<const uint8_t>(bytes_).subspan(begin, ends_[i] - begin);
}

}  // namespace boxoffice::storage
