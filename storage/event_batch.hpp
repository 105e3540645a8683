// EventBatch: the encoded events of one group commit, with consecutive
// sequence numbers first_seq(), first_seq() + 1, ..., last_seq().
//
// The core fills a batch in place: an encoder appends one event's bytes to
// bytes(), then seal_event() marks where that event ends. A batch is reused
// from commit to commit; reset() keeps its buffers, so once warmed (its
// largest batch seen) filling it allocates nothing.
//
// An empty batch (count() == 0) is valid: its last_seq() is first_seq() - 1.
// Committed in order behind the others, it tells its owner that everything
// before it is durable.
//
// Not thread-safe: one thread fills a batch, then hands it over (the group
// committer's queue orders the hand-over).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace boxoffice::storage {

class EventBatch {
 public:
  EventBatch() = default;
  EventBatch(const EventBatch&) = delete;
  EventBatch& operator=(const EventBatch&) = delete;

  // Empties the batch; its first event will have sequence number first_seq.
  // REQUIRES: first_seq >= 1.
  void reset(uint64_t first_seq);

  // The bytes of the sealed events, followed by those of the event being
  // appended. Append only: the sealed events' bytes must not change.
  std::vector<uint8_t>& bytes() { return bytes_; }

  // Ends the event appended since the previous seal (or reset).
  // REQUIRES: it is non-empty.
  void seal_event();

  size_t count() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  uint64_t first_seq() const { return first_seq_; }
  uint64_t last_seq() const { return first_seq_ + ends_.size() - 1; }
  // True when every byte in bytes() belongs to a sealed event.
  bool sealed() const { return bytes_.size() == sealed_bytes(); }
  // The bytes of the sealed events.
  size_t sealed_bytes() const { return ends_.empty() ? 0 : ends_.back(); }

  // Event i (0-based), whose sequence number is first_seq() + i.
  // REQUIRES: i < count().
  std::span<const uint8_t> event(size_t i) const;

 private:
  uint64_t first_seq_ = 1;
  std::vector<uint8_t> bytes_;
  std::vector<size_t> ends_;  // ends_[i]: one past the last byte of event i
};

}  // namespace boxoffice::storage
