// Snapshotter: writes snapshots of the durable state without stopping the
// core (DESIGN rule 6).
//
// Contract: a thread of its own keeps a shadow State that follows the log:
// it starts from the newest snapshot (or empty), and whenever at least
// `every_events` durable events have accumulated since its last snapshot it
// reads them from the log, applies them, and stores a snapshot of the shadow
// (EventLog::put_snapshot, synced). It reads only durable events, so a
// snapshot never holds anything undurable. A failure is logged and the
// snapshotter stops trying; serving is not affected (recovery then replays
// more of the log). The destructor stops the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "engine/config.hpp"
#include "storage/event_log.hpp"

namespace boxoffice::net {

class Snapshotter {
 public:
  Snapshotter(storage::EventLog& log, const Config& config, uint64_t every_events);
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Events up to `seq` are durable (the commit callback's thread).
  void durable(uint64_t seq);

  uint64_t snapshots_written() const { return written_.load(); }

 private:
  void run();

  storage::EventLog& log_;
  const Config config_;
  const uint64_t every_events_;
  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> next_due_seq_{0};  // wake the thread once durable reaches it
  std::atomic<uint64_t> written_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace boxoffice::net
