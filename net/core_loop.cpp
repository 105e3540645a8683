#include "net/core_loop.hpp"

#include <spdlog/spdlog.h>
#include <bit>
#include <boost/asio/post.hpp>
#include <string_view>

#include "engine/event_codec.hpp"
#include "net/options.hpp"
#include "net/session.hpp"

namespace boxoffice::net {

namespace {

constexpr std::string_view log_failed_message =
    "the event log failed; the server accepts no requests";

TimeMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

CoreLoop::CoreLoop(Engine& engine, Ingress& ingress, const TokenSecret& secret,
                   ServerShared& shared, CoreMetrics& metrics, std::vector<IoThread*> io_threads,
                   uint32_t inline_commit_commands_max)
    : engine_(engine),
      ingress_(ingress),
      tokens_(secret),
      shared_(shared),
      metrics_(metrics),
      io_threads_(std::move(io_threads)),
      inline_commit_commands_max_(inline_commit_commands_max) {
  BOXOFFICE_ASSERT(!io_threads_.empty() && io_threads_.size() <= io_threads_max);
  events_.reserve(batch_commands_max * 4);
}

CoreLoop::~CoreLoop() = default;

void CoreLoop::stop() {
  stop_.store(true);
  ingress_.wake();
}

CoreLoop::PendingReply& CoreLoop::ReplyList::next() {
  if (count == items.size()) items.emplace_back();
  PendingReply& r = items[count++];
  BOXOFFICE_ASSERT(r.session == nullptr);
  r.reply.reset();
  return r;
}

CoreLoop::CoreBatch* CoreLoop::take_batch() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) {
    auto batch = std::make_unique<CoreBatch>();
    batch->replies.resize(io_threads_.size());
    batch->tag = batches_.size();
    batches_.push_back(std::move(batch));
    return batches_.back().get();
  }
  CoreBatch* b = free_.back();
  free_.pop_back();
  BOXOFFICE_ASSERT(b->deliveries_pending.load() == 0);
  return b;
}

void CoreLoop::run() {
  next_tick_ = std::chrono::steady_clock::now();
  while (true) {
    const bool stopping = stop_.load();
    failed_ = shared_.failed.load();
    CoreBatch* batch = take_batch();
    const uint64_t first_seq = engine_.state().last_seq() + 1;
    batch->commands = 0;
    batch->event_count = 0;
    events_.clear();
    const size_t n = ingress_.drain(batch_commands_max, [&](IngressItem& item) {
      if (failed_) return refuse(item, *batch);
      decide(item, *batch);
    });
    metrics_.ingress_depth.set(static_cast<int64_t>(n));
    if (!failed_ && std::chrono::steady_clock::now() >= next_tick_) tick();
    if (n == 0 && events_.empty()) {
      release_batch(batch);
      if (stopping && in_flight_.load() == 0) return;
      ingress_.wait(stopping ? std::chrono::steady_clock::now() + std::chrono::milliseconds(5)
                             : next_tick_);
      continue;
    }
    metrics_.batch_commands.observe(n);
    if (failed_) {
      // Nothing was executed: answer now (every answer is a 503).
      post_replies(*batch, false);
      continue;
    }
    if (events_.empty() && in_flight_.load() == 0) {
      // Nothing to make durable, and nothing before it waits: answer now,
      // without a round trip through the committer. A batch that failed
      // before it is seen here (failed is set before in_flight drops), and
      // then this one may have read undurable state: refused too.
      post_replies(*batch, !shared_.failed.load());
      continue;
    }
    batch->events = committer_->acquire();  // blocks while every batch is in flight
    batch->events->reset(first_seq);
    encode_events(*batch);
    publish_gauges();
    batch->submitted = std::chrono::steady_clock::now();
    // A small batch with nothing before it in flight is committed right here:
    // the next batch could not have been decided in time to overlap much.
    const bool here = inline_commit_commands_max_ > 0 && in_flight_.load() == 0 &&
                      batch->commands <= inline_commit_commands_max_;
    in_flight_.fetch_add(1);
    if (here) {
      metrics_.commits_on_core.add();
      committer_->commit_here(batch->events, batch->tag);  // on_durable() has run
    } else {
      metrics_.commits_on_committer.add();
      committer_->submit(batch->events, batch->tag);
    }
  }
}

void CoreLoop::decide(IngressItem& item, CoreBatch& batch) {
  const Result result = engine_.execute(item.request.command, events_);
  const uint32_t thread = item.session->thread().index;
  PendingReply& out = batch.replies[thread].next();
  render_result(item.request, result, engine_.state(), engine_.now_ms(), tokens_, &out.reply);
  out.session = std::move(item.session);
  out.seq = item.seq;
  batch.commands++;
  if (item.request.route == Route::hold_seat) {
    if (result.ok() && !result.replayed) metrics_.holds.add();
    if (result.code == Code::seat_unavailable) metrics_.seat_conflicts.add();
  }
}

void CoreLoop::refuse(IngressItem& item, CoreBatch& batch) {
  const uint32_t thread = item.session->thread().index;
  PendingReply& out = batch.replies[thread].next();
  render_error(Code::overloaded, log_failed_message, &out.reply);
  out.session = std::move(item.session);
  out.seq = item.seq;
}

void CoreLoop::tick() {
  Command command;
  command.time_ms = wall_clock_ms();
  command.body = Tick{};
  engine_.execute(command, events_);
  next_tick_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(tick_interval_ms);
}

void CoreLoop::encode_events(CoreBatch& batch) {
  for (const Event& e : events_) {
    encode_event(e, batch.events->bytes());
    batch.events->seal_event();
  }
  batch.event_count = static_cast<uint32_t>(events_.size());
}

void CoreLoop::publish_gauges() {
  const State& s = engine_.state();
  metrics_.active_tokens.set(s.active_count());
  metrics_.waiting_tokens.set(static_cast<int64_t>(s.waiting_count()));
  metrics_.live_reservations.set(static_cast<int64_t>(s.live_reservations()));
}

void CoreLoop::on_durable(storage::EventBatch* events, uint64_t tag,
                          const storage::Status& status) {
  const bool ok = status.is_ok();
  CoreBatch* batch = nullptr;
  {
    std::lock_guard lock(mutex_);
    batch = batches_[tag].get();
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - batch->submitted)
                      .count();
  metrics_.commit_latency_us.observe(static_cast<uint64_t>(us));
  metrics_.batch_events.observe(batch->event_count);
  if (!ok) {
    metrics_.commit_failures.add();
    if (!shared_.failed.exchange(true)) {
      spdlog::critical("commit failed: {}; refusing every request from now on", status.to_string());
    }
  } else {
    metrics_.last_seq.set(static_cast<int64_t>(events->last_seq()));
  }
  BOXOFFICE_ASSERT(events == batch->events);
  batch->events = nullptr;
  post_replies(*batch, ok);  // the batch may be reused from here on
  committer_->release(events);
  in_flight_.fetch_sub(1);
}

void CoreLoop::post_replies(CoreBatch& batch, bool ok) {
  // Which threads get replies is settled before the first post: once the
  // last delivery is done the batch may be reused, so no post may be
  // followed by a read of it.
  static_assert(io_threads_max <= 64);
  uint64_t targets = 0;
  for (uint32_t t = 0; t < batch.replies.size(); t++) {
    ReplyList& list = batch.replies[t];
    if (list.count == 0) continue;
    if (!ok) {
      for (uint32_t i = 0; i < list.count; i++) {
        render_error(Code::overloaded, log_failed_message, &list.items[i].reply);
      }
    }
    targets |= uint64_t{1} << t;
  }
  if (targets == 0) return release_batch(&batch);
  batch.deliveries_pending.store(static_cast<uint32_t>(std::popcount(targets)));
  for (uint32_t t = 0; targets != 0; t++, targets >>= 1) {
    if ((targets & 1) == 0) continue;
    boost::asio::post(io_threads_[t]->ioc, [this, &batch, t] { deliver(batch, t); });
  }
}

// On I/O thread `thread`.
void CoreLoop::deliver(CoreBatch& batch, uint32_t thread) {
  ReplyList& list = batch.replies[thread];
  for (uint32_t i = 0; i < list.count; i++) {
    PendingReply& r = list.items[i];
    r.session->deliver(r.seq, r.reply);
    r.session.reset();
    if (r.reply.body.capacity() > reply_body_kept_bytes_max) std::string().swap(r.reply.body);
  }
  list.count = 0;
  if (list.items.size() > reply_entries_kept_max) {
    list.items.resize(reply_entries_kept_max);
    list.items.shrink_to_fit();
  }
  if (batch.deliveries_pending.fetch_sub(1) == 1) release_batch(&batch);
}

void CoreLoop::release_batch(CoreBatch* batch) {
  std::lock_guard lock(mutex_);
  free_.push_back(batch);
}

}  // namespace boxoffice::net
