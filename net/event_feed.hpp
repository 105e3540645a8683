// EventFeed: a log's events, read and decoded on a thread of its own, ahead
// of the thread that applies them (recovery).
//
// A replay spends about a third of its time in RocksDB's iterator and the
// event decoder; those need nothing from the state, so they run on the other
// core while the applying thread only applies. The reader fills a ring of
// decoded events and publishes them in groups; the applier takes them in
// sequence order. Neither side takes a lock: each waits on the other's
// counter (std::atomic wait/notify) only when the ring is empty or full.
//
// Contract:
// - next() hands over the events from `from_seq` on, one at a time, in
//   order; the event stays valid until the next call. nullptr at the end:
//   then error() is "" when the log simply ended, else the first problem,
//   naming its seq (a read failure, a gap, an event that does not decode),
//   after every event before it was handed over.
// - peek(k) is the event k places after the one next() returned last, when
//   the reader has already decoded it (nullptr otherwise): for prefetching.
// - idle(), if given, runs on the reader's thread whenever the ring is full,
//   until it returns false (nothing left to do) or there is room again: work
//   that may use the reader's spare time (recovery's Prefaulter steps).
// - next(), peek() and error() from one thread. The destructor stops the
//   reader and joins it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "engine/event.hpp"
#include "storage/event_log.hpp"

namespace boxoffice::net {

class EventFeed {
 public:
  // Decoded events in flight: enough for the applier to go on while the
  // reader spends a millisecond on idle work.
  static constexpr size_t ring_events = 16384;
  static constexpr size_t group_events = 64;             // published (and released) at once
  static constexpr uint32_t spin_iterations_max = 4096;  // before a wait sleeps

  struct Item {
    uint64_t seq = 0;
    Event event;
  };

  // REQUIRES: `log` outlives this; from_seq >= 1.
  EventFeed(const storage::EventLog& log, uint64_t from_seq, std::function<bool()> idle = {});
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  const Item* next();
  const Item* peek(size_t ahead);
  // Valid once next() returned nullptr.
  const std::string& error() const { return error_; }

 private:
  void read(const storage::EventLog& log, uint64_t from_seq);
  bool produce(uint64_t seq, std::span<const uint8_t> bytes);
  void publish_produced();
  void release_consumed();

  const std::function<bool()> idle_;
  std::unique_ptr<Item[]> ring_;

  // produced_ with this bit: nothing more will be published.
  static constexpr uint64_t done_bit = uint64_t{1} << 63;

  // Written by the reader; read by the consumer after an acquire of
  // produced_ (error_: once it carries done_bit).
  std::atomic<uint64_t> produced_{0};  // items published, and done_bit
  std::string error_;
  // Written by the consumer.
  std::atomic<uint64_t> consumed_{0};  // items released back to the reader
  std::atomic<bool> stop_{false};

  // The reader's own.
  uint64_t write_ = 0;          // items decoded
  uint64_t consumed_seen_ = 0;  // its last look at consumed_
  // The consumer's own.
  uint64_t read_ = 0;           // items taken (the current one included)
  uint64_t produced_seen_ = 0;  // its last look at produced_

  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace boxoffice::net
