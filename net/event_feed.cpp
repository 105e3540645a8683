#include "net/event_feed.hpp"

#include <string>
#include <utility>

#include "engine/assert.hpp"
#include "engine/event_codec.hpp"

namespace boxoffice::net {

namespace {

// Waits until `a` differs from `old`: spins first (the other side publishes
// every group_events events, microseconds apart, and a thread that sleeps on
// every wait tends to be woken onto its waker's core), then sleeps.
void wait_for_change(const std::atomic<uint64_t>& a, uint64_t old) {
  for (uint32_t i = 0; i < EventFeed::spin_iterations_max; i++) {
    if (a.load(std::memory_order_acquire) != old) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  a.wait(old, std::memory_order_acquire);
}

}  // namespace

static_assert((EventFeed::ring_events & (EventFeed::ring_events - 1)) == 0);
static_assert(EventFeed::group_events * 2 <= EventFeed::ring_events);

EventFeed::EventFeed(const storage::EventLog& log, uint64_t from_seq, std::function<bool()> idle)
    : idle_(std::move(idle)), ring_(std::make_unique<Item[]>(ring_events)) {
  BOXOFFICE_ASSERT(from_seq >= 1);
  thread_ = std::thread([this, &log, from_seq] { read(log, from_seq); });
}

EventFeed::~EventFeed() {
  stop_.store(true, std::memory_order_relaxed);
  while (next() != nullptr) {
  }  // releases the ring, so a reader waiting for room sees the stop
  thread_.join();
}

// ---- the reader ----

void EventFeed::read(const storage::EventLog& log, uint64_t from_seq) {
  const storage::Status s = log.read(
      from_seq, UINT64_MAX,
      [this](uint64_t seq, std::span<const uint8_t> bytes) { return produce(seq, bytes); });
  if (!s.is_ok() && error_.empty()) error_ = s.to_string();
  produced_.store(write_ | done_bit, std::memory_order_release);
  produced_.notify_one();
}

bool EventFeed::produce(uint64_t seq, std::span<const uint8_t> bytes) {
  if (stop_.load(std::memory_order_relaxed)) return false;
  bool idle_work = idle_ != nullptr;
  while (write_ - consumed_seen_ == ring_events) {
    publish_produced();  // the consumer may be waiting for these
    consumed_seen_ = consumed_.load(std::memory_order_acquire);
    if (write_ - consumed_seen_ < ring_events) break;
    if (idle_work) {
      idle_work = idle_();
      continue;
    }
    wait_for_change(consumed_, consumed_seen_);
    if (stop_.load(std::memory_order_relaxed)) return false;
  }
  Item& item = ring_[write_ % ring_events];
  item.seq = seq;
  const DecodeError d = decode_event(bytes, &item.event);
  if (d != DecodeError::none) {
    error_ = "event " + std::to_string(seq) + " does not decode: " + decode_error_name(d);
    return false;
  }
  write_++;
  if (write_ % group_events == 0) publish_produced();
  return true;
}

void EventFeed::publish_produced() {
  if ((produced_.load(std::memory_order_relaxed) & ~done_bit) == write_) return;
  produced_.store(write_, std::memory_order_release);
  produced_.notify_one();
}

// ---- the consumer ----

const EventFeed::Item* EventFeed::next() {
  if (read_ % group_events == 0) release_consumed();
  while (read_ == (produced_seen_ & ~done_bit)) {
    if ((produced_seen_ & done_bit) != 0) return nullptr;
    const uint64_t before = produced_seen_;
    produced_seen_ = produced_.load(std::memory_order_acquire);
    if (produced_seen_ != before) continue;
    release_consumed();  // the reader may be waiting for room
    wait_for_change(produced_, before);
    produced_seen_ = produced_.load(std::memory_order_acquire);
  }
  return &ring_[read_++ % ring_events];
}

const EventFeed::Item* EventFeed::peek(size_t ahead) {
  BOXOFFICE_ASSERT(read_ >= 1 && ahead < ring_events / 2);
  const uint64_t at = read_ - 1 + ahead;
  if (at >= (produced_seen_ & ~done_bit)) {
    produced_seen_ = produced_.load(std::memory_order_acquire);
    if (at >= (produced_seen_ & ~done_bit)) return nullptr;
  }
  return &ring_[at % ring_events];
}

// Every item before the current one (which stays valid until the next
// call) goes back to the reader.
void EventFeed::release_consumed() {
  const uint64_t released = read_ == 0 ? 0 : read_ - 1;
  if (consumed_.load(std::memory_order_relaxed) == released) return;
  consumed_.store(released, std::memory_order_release);
  consumed_.notify_one();
}

}  // namespace boxoffice::net
