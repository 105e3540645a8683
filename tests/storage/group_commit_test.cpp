// GroupCommitter over a real EventLog: completions in order with their tags,
// every event readable afterwards, stop() draining, a failure failing every
// later batch, the pool's back-pressure, completions consumed on another
// thread (the shape the server uses; run under ThreadSanitizer), and
// commit_here() between submitted batches.
#include "storage/group_commit.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/storage/storage_test_support.hpp"

namespace boxoffice::storage {
namespace {

using test::TempDir;

struct Completion {
  uint64_t tag = 0;
  Status status;
  uint64_t first_seq = 0;
  size_t count = 0;
  std::thread::id thread;  // where the completion was delivered
};

// Records completions and releases each batch right away, on the committer
// thread.
struct Recorder {
  GroupCommitter* committer = nullptr;
  std::mutex mutex;
  std::vector<Completion> completions;

  GroupCommitter::OnDurable callback() {
    return [this](EventBatch* batch, uint64_t tag, const Status& status) {
      {
        std::lock_guard lock(mutex);
        completions.push_back(
            {tag, status, batch->first_seq(), batch->count(), std::this_thread::get_id()});
      }
      committer->release(batch);
    };
  }
};

// A committer over a fresh log, with a Recorder.
struct Rig {
  TempDir tmp;
  std::unique_ptr<EventLog> log = test::open_log(tmp.path());
  Recorder recorder;
  GroupCommitter committer{*log, recorder.callback()};
  Rig() { recorder.committer = &committer; }
};

// The core's side: fills the next batch with `count` events and submits it.
uint64_t submit_events(GroupCommitter& committer, uint64_t next_seq, size_t count, uint64_t tag) {
  EventBatch* batch = committer.acquire();
  test::fill(*batch, next_seq, count);
  committer.submit(batch, tag);
  return next_seq + count;
}

// The same, committed on this thread with commit_here().
uint64_t commit_events_here(GroupCommitter& committer, uint64_t next_seq, size_t count,
                            uint64_t tag) {
  EventBatch* batch = committer.acquire();
  test::fill(*batch, next_seq, count);
  committer.commit_here(batch, tag);
  return next_seq + count;
}

size_t completions(Recorder& recorder) {
  std::lock_guard lock(recorder.mutex);
  return recorder.completions.size();
}

TEST_CASE("batches become durable in order, each completion with its tag") {
  Rig rig;
  auto& [tmp, log, recorder, committer] = rig;
  constexpr uint64_t batches = 500;
  uint64_t next_seq = 1;
  for (uint64_t tag = 0; tag < batches; tag++) {
    next_seq = submit_events(committer, next_seq, tag % 7, tag);  // some are empty
  }
  committer.stop();
  const uint64_t events = next_seq - 1;
  REQUIRE(recorder.completions.size() == batches);
  uint64_t expected_first = 1;
  for (uint64_t tag = 0; tag < batches; tag++) {
    const Completion& c = recorder.completions[tag];
    CHECK(c.tag == tag);
    CHECK(c.status.is_ok());
    CHECK(c.first_seq == expected_first);
    CHECK(c.count == tag % 7);
    expected_first += c.count;
  }
  CHECK(log->last_seq() == events);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == events);
  CHECK(committer.batches_committed() == batches);
  CHECK(committer.events_committed() == events);
  CHECK(committer.commits() >= 1);
  CHECK(committer.commits() <= batches);
  CHECK(committer.last_commit_batches() >= 1);
  CHECK(committer.last_commit_batches() <= batches_in_flight_max);
}

TEST_CASE("commit_here() commits on the calling thread, between submitted batches, in order") {
  Rig rig;
  auto& [tmp, log, recorder, committer] = rig;
  uint64_t next_seq = 1;
  uint64_t tag = 0;
  for (int round = 0; round < 20; round++) {
    // Some batches through the committer thread; wait until every one of
    // them is delivered (the precondition of commit_here).
    for (int i = 0; i < round % 4; i++) next_seq = submit_events(committer, next_seq, 3, tag++);
    while (completions(recorder) < tag) std::this_thread::yield();
    next_seq = commit_events_here(committer, next_seq, round % 5, tag++);
    // Delivered before commit_here returned, on this thread, and durable.
    REQUIRE(completions(recorder) == tag);
    const Completion& c = recorder.completions.back();
    CHECK(c.tag == tag - 1);
    CHECK(c.status.is_ok());
    CHECK(c.thread == std::this_thread::get_id());
    CHECK(log->last_seq() == next_seq - 1);
  }
  committer.stop();
  REQUIRE(recorder.completions.size() == tag);
  uint64_t expected_first = 1;
  for (uint64_t t = 0; t < tag; t++) {
    const Completion& c = recorder.completions[t];
    CHECK(c.tag == t);
    CHECK(c.first_seq == expected_first);
    expected_first += c.count;
  }
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == next_seq - 1);
  CHECK(committer.batches_committed() == tag);
  CHECK(committer.events_committed() == next_seq - 1);
}

TEST_CASE("a failed write in commit_here() fails that batch at once and every later one") {
  Rig rig;
  auto& [tmp, log, recorder, committer] = rig;
  uint64_t next_seq = commit_events_here(committer, 1, 4, 0);
  log->fail_next_write_for_test();
  next_seq = commit_events_here(committer, next_seq, 2, 1);
  REQUIRE(completions(recorder) == 2);
  CHECK(recorder.completions[0].status.is_ok());
  CHECK(recorder.completions[1].status.code == Status::Code::io_error);
  next_seq = submit_events(committer, next_seq, 2, 2);
  committer.stop();
  REQUIRE(recorder.completions.size() == 3);
  CHECK(recorder.completions[2].status.code == Status::Code::io_error);
  CHECK(log->last_seq() == 4);
  CHECK(committer.batches_committed() == 1);
}

TEST_CASE("stop() commits everything submitted before it returns") {
  Rig rig;
  auto& [tmp, log, recorder, committer] = rig;
  uint64_t next_seq = 1;
  for (uint64_t tag = 0; tag < batches_in_flight_max; tag++) {
    next_seq = submit_events(committer, next_seq, 10, tag);
  }
  committer.stop();
  CHECK(recorder.completions.size() == batches_in_flight_max);
  CHECK(log->last_seq() == 10 * batches_in_flight_max);
  committer.stop();  // idempotent
}

TEST_CASE("after a failed write, that batch and every later one fail, in order") {
  Rig rig;
  auto& [tmp, log, recorder, committer] = rig;
  uint64_t next_seq = submit_events(committer, 1, 5, 0);
  // Wait for the first one, so the failure hits the second one exactly.
  while (committer.batches_committed() < 1) std::this_thread::yield();
  log->fail_next_write_for_test();
  for (uint64_t tag = 1; tag < 20; tag++) next_seq = submit_events(committer, next_seq, 3, tag);
  committer.stop();
  REQUIRE(recorder.completions.size() == 20);
  CHECK(recorder.completions[0].status.is_ok());
  for (uint64_t tag = 1; tag < 20; tag++) {
    CHECK(recorder.completions[tag].tag == tag);
    CHECK(recorder.completions[tag].status.code == Status::Code::io_error);
  }
  CHECK(log->last_seq() == 5);
  CHECK(committer.batches_committed() == 1);
  CHECK(committer.events_committed() == 5);
}

TEST_CASE("acquire() waits while every batch of the pool is in flight") {
  TempDir tmp;
  auto log = test::open_log(tmp.path());
  std::mutex mutex;
  std::vector<EventBatch*> done;  // completed, not released yet
  GroupCommitter committer(*log, [&](EventBatch* batch, uint64_t, const Status& status) {
    CHECK(status.is_ok());
    std::lock_guard lock(mutex);
    done.push_back(batch);
  });
  uint64_t next_seq = 1;
  for (uint64_t tag = 0; tag < batches_in_flight_max; tag++) {
    next_seq = submit_events(committer, next_seq, 1, tag);
  }
  while (committer.batches_committed() < batches_in_flight_max) std::this_thread::yield();
  std::atomic<bool> acquired{false};
  std::thread core([&] {
    EventBatch* batch = committer.acquire();
    acquired.store(true);
    test::fill(*batch, next_seq, 1);
    committer.submit(batch, batches_in_flight_max);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(!acquired.load());
  {
    std::lock_guard lock(mutex);
    REQUIRE(done.size() == batches_in_flight_max);
    committer.release(done.back());
    done.pop_back();
  }
  core.join();
  CHECK(acquired.load());
  committer.stop();
  CHECK(log->last_seq() == batches_in_flight_max + 1);
  for (EventBatch* batch : done) committer.release(batch);
}

TEST_CASE("completions consumed and released on another thread, under load") {
  TempDir tmp;
  EventLogOptions options = test::options_for(tmp.path());
  options.fsync = false;  // many batches; durability is not what this test is about
  std::unique_ptr<EventLog> log;
  REQUIRE(EventLog::open(options, &log).is_ok());

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::pair<EventBatch*, uint64_t>> completed;
  bool failed = false;
  GroupCommitter committer(*log, [&](EventBatch* batch, uint64_t tag, const Status& status) {
    {
      std::lock_guard lock(mutex);
      failed = failed || !status.is_ok();
      completed.emplace_back(batch, tag);
    }
    cv.notify_one();
  });
  constexpr uint64_t batches = 2000;
  std::thread consumer([&] {
    uint64_t expected_tag = 0;
    while (expected_tag < batches) {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return !completed.empty(); });
      auto [batch, tag] = completed.front();
      completed.pop_front();
      lock.unlock();
      CHECK(tag == expected_tag);
      CHECK(batch->count() == tag % 50 + 1);  // the batch is intact until released
      expected_tag++;
      committer.release(batch);
    }
  });
  uint64_t next_seq = 1;
  for (uint64_t tag = 0; tag < batches; tag++) {
    next_seq = submit_events(committer, next_seq, tag % 50 + 1, tag);
  }
  consumer.join();
  committer.stop();
  CHECK(!failed);
  CHECK(log->last_seq() == next_seq - 1);
  CHECK(committer.events_committed() == next_seq - 1);
  CHECK(test::read_and_check(*log, 1, UINT64_MAX) == next_seq - 1);
}

}  // namespace
}  // namespace boxoffice::storage
