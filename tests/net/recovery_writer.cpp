// recovery-writer: the writer process of recovery_test.cpp's SIGKILL rounds.
//
// Usage: recovery-writer DATA_DIR SEED
// Recovers DATA_DIR as the server does (net/recovery.hpp), says "ready",
// then decides the seeded workload's commands in batches of 1 to 48 through
// the group committer (fsync on), with a snapshotter following the log, and
// says "ack SEQ DIGEST" for every batch with events once it is durable:
// SEQ its last event, DIGEST the state's digest after it. It runs until it
// is killed. A failure says "error ..." and exits non-zero. It says these
// lines on file descriptor 3 (stdout and stderr carry the logs).
//
// A process of its own, not a fork of the test: RocksDB's background threads
// do not survive fork(), and a forked writer would stall its first flush.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "engine/digest.hpp"
#include "engine/event_codec.hpp"
#include "net/recovery.hpp"
#include "net/snapshotter.hpp"
#include "storage/group_commit.hpp"
#include "tests/net/recovery_workload.hpp"

namespace {

using namespace boxoffice;

constexpr uint64_t snapshot_every_events = 200;
constexpr int say_fd = 3;

// One line to the parent, written at once (it reads them as they come).
void say(const std::string& line) {
  const std::string text = line + "\n";
  if (::write(say_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::_Exit(4);
  }
}

[[noreturn]] void fail(const std::string& what) {
  say("error " + what);
  std::_Exit(3);
}

[[noreturn]] void write_forever(storage::EventLog& log, Engine& engine, uint64_t seed) {
  net::Snapshotter snapshotter(log, test::workload_config(), snapshot_every_events);
  storage::GroupCommitter* committer_ptr = nullptr;
  storage::GroupCommitter committer(
      log, [&](storage::EventBatch* b, uint64_t digest, const storage::Status& s) {
        if (!s.is_ok()) fail("commit: " + s.to_string());
        snapshotter.durable(b->last_seq());
        if (!b->empty()) say("ack " + std::to_string(b->last_seq()) + " " + std::to_string(digest));
        committer_ptr->release(b);
      });
  committer_ptr = &committer;
  say("ready");
  test::Workload workload(seed, std::max(engine.now_ms(), test::workload_start_ms));
  test::SplitMix batch_sizes(seed ^ 0x5eed);
  std::vector<Event> events;
  while (true) {
    events.clear();
    const uint64_t commands = 1 + batch_sizes.below(test::workload_batch_commands_max);
    for (uint64_t k = 0; k < commands; k++) {
      const Command c = workload.next(engine);
      workload.learn(c, engine.execute(c, events));
    }
    storage::EventBatch* batch = committer.acquire();
    batch->reset(engine.state().last_seq() - events.size() + 1);
    for (const Event& e : events) {
      encode_event(e, batch->bytes());
      batch->seal_event();
    }
    committer.submit(batch, state_digest(engine.state()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: recovery-writer DATA_DIR SEED\n");
    return 2;
  }
  storage::EventLogOptions options;
  options.dir = argv[1];
  std::unique_ptr<storage::EventLog> log;
  if (const storage::Status s = storage::EventLog::open(options, &log); !s.is_ok()) {
    fail("open: " + s.to_string());
  }
  std::optional<Engine> engine;
  net::RecoveryReport report;
  if (const std::string error = net::recover(*log, test::workload_config(), engine, &report);
      !error.empty()) {
    fail("recovery: " + error);
  }
  engine->begin_serving(std::max(engine->now_ms(), test::workload_start_ms));
  write_forever(*log, *engine, std::strtoull(argv[2], nullptr, 10));
}
