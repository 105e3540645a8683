// CoreLoop: the one thread that decides every command.
//
// Contract:
// - Drains the ingress rings as one batch (up to batch_commands_max),
//   executes each command on the engine, encodes every event it emits into
//   the storage batch, and renders each reply right after its command (the
//   state is stable then). A Tick is executed at least every
//   tick_interval_ms, even when no request arrives.
// - Submits every batch to the group committer, even one without events, so
//   that batches become durable in order; only when its batch is durable are
//   a batch's replies posted to their connections (reads included: a read
//   never shows an event that is not durable yet). A batch without events
//   while no batch is in flight has nothing to wait for: its replies are
//   posted at once. A batch of at most `inline_commit_commands_max`
//   commands (--inline-commit-commands-max; 0: none) while no batch is in
//   flight is committed on the core thread itself
//   (GroupCommitter::commit_here); larger ones, or any while one is in
//   flight, go to the committer thread, and the core decides the next batch
//   during their sync.
// - After a failed commit: the failed batch and every later one are answered
//   503, no further command is executed, and the server reports failure.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "net/ingress.hpp"
#include "net/io_thread.hpp"
#include "net/metrics.hpp"
#include "net/options.hpp"
#include "net/render.hpp"
#include "storage/group_commit.hpp"

namespace boxoffice::net {

// A pooled reply keeps at most this much of its body's memory for the next
// batch (a hold's reply is a few hundred bytes; a seat map can be far more),
// and a batch's list for one I/O thread at most this many entries, so what
// the pool keeps is bounded: a list's entries beyond it, left by a large
// batch, are freed after their delivery.
inline constexpr size_t reply_body_kept_bytes_max = 4096;
inline constexpr size_t reply_entries_kept_max = 256;

class CoreLoop {
 public:
  CoreLoop(Engine& engine, Ingress& ingress, const TokenSecret& secret, ServerShared& shared,
           CoreMetrics& metrics, std::vector<IoThread*> io_threads,
           uint32_t inline_commit_commands_max);
  // REQUIRES: before run(); its completions go to on_durable().
  void set_committer(storage::GroupCommitter* committer) { committer_ = committer; }
  ~CoreLoop();

  // Runs on the core thread until stop() and every ring is drained and every
  // batch durable (or failed).
  void run();
  // Any thread: finish the work that is queued, then return from run().
  void stop();

  // The commit callback (the committer's thread).
  void on_durable(storage::EventBatch* events, uint64_t tag, const storage::Status& status);

 private:
  struct PendingReply {
    std::shared_ptr<Session> session;
    uint64_t seq = 0;
    Reply reply;
  };
  // One I/O thread's replies of a batch. The entries and their bodies keep
  // their memory from batch to batch: no allocation once the pool is warm.
  struct ReplyList {
    std::vector<PendingReply> items;  // [0, count) are live
    uint32_t count = 0;
    PendingReply& next();
  };
  // One batch on its way to the disk: its events and its replies. It goes
  // back to free_ when every I/O thread has delivered its replies.
  struct CoreBatch {
    uint64_t tag = 0;  // its index in batches_
    storage::EventBatch* events = nullptr;
    std::vector<ReplyList> replies;               // by I/O thread
    std::atomic<uint32_t> deliveries_pending{0};  // I/O threads yet to deliver
    uint32_t commands = 0;
    uint32_t event_count = 0;
    std::chrono::steady_clock::time_point submitted;
  };

  void decide(IngressItem& item, CoreBatch& batch);
  void tick();
  void encode_events(CoreBatch& batch);
  void refuse(IngressItem& item, CoreBatch& batch);
  // Posts each I/O thread its replies (all 503 when !ok); the batch is
  // released once they are delivered. The caller must not touch it after.
  void post_replies(CoreBatch& batch, bool ok);
  void deliver(CoreBatch& batch, uint32_t thread);
  void release_batch(CoreBatch* batch);
  void publish_gauges();
  CoreBatch* take_batch();

  Engine& engine_;
  Ingress& ingress_;
  storage::GroupCommitter* committer_ = nullptr;
  TokenCodec tokens_;
  ServerShared& shared_;
  CoreMetrics& metrics_;
  std::vector<IoThread*> io_threads_;
  const uint32_t inline_commit_commands_max_;
  std::vector<Event> events_;  // of the batch being decided
  std::chrono::steady_clock::time_point next_tick_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> in_flight_{0};  // batches submitted, not yet durable
  bool failed_ = false;                 // core thread's view of shared_.failed

  std::mutex mutex_;                                 // guards batches_
  std::vector<std::unique_ptr<CoreBatch>> batches_;  // tag = index
  std::vector<CoreBatch*> free_;                     // guarded by mutex_
};

}  // namespace boxoffice::net
