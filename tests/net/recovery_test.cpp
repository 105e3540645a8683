// Recovery (net/recovery.hpp) from a real data directory: after a clean stop,
// from a snapshot and its tail, past a damaged snapshot, refusing a damaged
// event, and after SIGKILL at random moments while a writer commits through
// the group committer and the snapshotter follows the log.
//
// The writer is the server's core path without HTTP: seeded random commands
// decided by the engine, their events encoded into the committer's batches,
// each batch acknowledged (with the digest of the state after it) only once
// it is durable. A crash round starts such a writer (recovery_writer.cpp),
// kills it with SIGKILL at
// a random moment, and checks that every acknowledged batch is in the log
// with exactly the state the writer had acknowledged, that recovery (snapshot
// + tail) reaches the state of the whole log, and that the invariants hold.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "engine/digest.hpp"
#include "engine/event_codec.hpp"
#include "engine/snapshot.hpp"
#include "net/recovery.hpp"
#include "tests/net/recovery_workload.hpp"
#include "tests/storage/storage_test_support.hpp"

namespace boxoffice::test {
namespace {

using storage::test::RawDb;
using storage::test::TempDir;

constexpr uint32_t crash_rounds = 24;
constexpr size_t digests_checked_per_round_max = 32;

std::unique_ptr<storage::EventLog> open_log(const std::string& dir) {
  storage::EventLogOptions o;
  o.dir = dir;
  std::unique_ptr<storage::EventLog> log;
  const storage::Status s = storage::EventLog::open(o, &log);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return log;
}

// Decides `commands` commands and appends their events to `log` in batches
// (synchronously, without the committer). Returns the digest of the state.
uint64_t write_directly(storage::EventLog& log, Engine& engine, Workload& workload,
                        uint32_t commands) {
  std::vector<Event> events;
  storage::EventBatch batch;
  for (uint32_t i = 0; i < commands;) {
    events.clear();
    batch.reset(log.last_seq() + 1);
    for (uint32_t k = 0; k < workload_batch_commands_max && i < commands; k++, i++) {
      const Command c = workload.next(engine);
      workload.learn(c, engine.execute(c, events));
    }
    for (const Event& e : events) {
      encode_event(e, batch.bytes());
      batch.seal_event();
    }
    const storage::Status s = log.append(batch);
    REQUIRE(s.is_ok());
  }
  return state_digest(engine.state());
}

// Recovers the directory's state; REQUIREs success.
uint64_t recovered_digest(const std::string& dir, net::RecoveryReport* report,
                          const net::RecoveryOptions& options = {}) {
  std::unique_ptr<storage::EventLog> log = open_log(dir);
  std::optional<Engine> engine;
  const std::string error = net::recover(*log, workload_config(), engine, report, options);
  INFO(error);
  REQUIRE(error.empty());
  const uint64_t digest = state_digest(engine->state());
  REQUIRE(log->close().is_ok());
  return digest;
}

void store_snapshot(storage::EventLog& log, const Engine& engine) {
  std::vector<uint8_t> bytes;
  SnapshotCodec::encode(engine.state(), bytes);
  REQUIRE(log.put_snapshot(engine.state().last_seq(), bytes).is_ok());
}

TEST_CASE("after a clean stop, recovery reaches the live state") {
  TempDir dir;
  std::unique_ptr<storage::EventLog> log = open_log(dir.path());
  Engine engine(workload_config());
  Workload workload(7, workload_start_ms);
  const uint64_t live = write_directly(*log, engine, workload, 3000);
  REQUIRE(log->close().is_ok());
  net::RecoveryReport report;
  CHECK(recovered_digest(dir.path(), &report) == live);
  CHECK(report.snapshot_seq == 0);
  CHECK(report.events_replayed == engine.state().last_seq());
  CHECK(report.snapshot_refused.empty());
}

TEST_CASE("a snapshot and its tail reach the same state as the whole log") {
  TempDir dir;
  std::unique_ptr<storage::EventLog> log = open_log(dir.path());
  Engine engine(workload_config());
  Workload workload(8, workload_start_ms);
  write_directly(*log, engine, workload, 2000);
  store_snapshot(*log, engine);
  const uint64_t snapshot_seq = engine.state().last_seq();
  const uint64_t live = write_directly(*log, engine, workload, 2000);
  REQUIRE(log->close().is_ok());

  net::RecoveryReport report;
  CHECK(recovered_digest(dir.path(), &report) == live);
  CHECK(report.snapshot_seq == snapshot_seq);
  CHECK(report.events_replayed == engine.state().last_seq() - snapshot_seq);
  // The path of long replays: tables reserved, pages faulted in ahead.
  net::RecoveryOptions prefaulted;
  prefaulted.prefault_events_min = 1;
  CHECK(recovered_digest(dir.path(), &report, prefaulted) == live);
  CHECK(report.snapshot_seq == snapshot_seq);

  {  // A snapshot is an optimisation: without it, the same state.
    RawDb db(dir.path());
    storage::SeqKey key;
    db.del(storage::family_snapshots, RawDb::seq_key(snapshot_seq, key));
  }
  CHECK(recovered_digest(dir.path(), &report) == live);
  CHECK(report.snapshot_seq == 0);
  CHECK(recovered_digest(dir.path(), &report, prefaulted) == live);
  CHECK(report.events_replayed == engine.state().last_seq());
}

TEST_CASE("a damaged snapshot is refused, naming its seq; the whole log gives the same state") {
  TempDir dir;
  std::unique_ptr<storage::EventLog> log = open_log(dir.path());
  Engine engine(workload_config());
  Workload workload(9, workload_start_ms);
  write_directly(*log, engine, workload, 1500);
  store_snapshot(*log, engine);
  const uint64_t snapshot_seq = engine.state().last_seq();
  const uint64_t live = write_directly(*log, engine, workload, 500);
  REQUIRE(log->close().is_ok());
  {
    RawDb db(dir.path());
    storage::SeqKey key;
    const rocksdb::Slice k = RawDb::seq_key(snapshot_seq, key);
    std::string value = db.get(storage::family_snapshots, k);
    value[value.size() / 2] = static_cast<char>(value[value.size() / 2] ^ 0x20);
    db.put(storage::family_snapshots, k, value);
  }
  net::RecoveryReport report;
  CHECK(recovered_digest(dir.path(), &report) == live);
  CHECK(report.snapshot_seq == 0);
  CHECK(report.events_replayed == engine.state().last_seq());
  CHECK(report.snapshot_refused.find(std::to_string(snapshot_seq)) != std::string::npos);
}

// The envelope's CRC passes (the bytes are the ones stored) but the engine's
// digest does not match the body: recovery decodes it while another thread
// checks the digest, and must still refuse it.
TEST_CASE("a snapshot whose digest does not match its body is refused after decoding") {
  TempDir dir;
  std::unique_ptr<storage::EventLog> log = open_log(dir.path());
  Engine engine(workload_config());
  Workload workload(10, workload_start_ms);
  write_directly(*log, engine, workload, 1500);
  std::vector<uint8_t> bytes;
  SnapshotCodec::encode(engine.state(), bytes);
  bytes[sizeof(uint16_t)] ^= 0x01;  // the digest's low byte
  const uint64_t snapshot_seq = engine.state().last_seq();
  REQUIRE(log->put_snapshot(snapshot_seq, bytes).is_ok());
  const uint64_t live = write_directly(*log, engine, workload, 500);
  REQUIRE(log->close().is_ok());

  net::RecoveryReport report;
  CHECK(recovered_digest(dir.path(), &report) == live);
  CHECK(report.snapshot_seq == 0);
  CHECK(report.events_replayed == engine.state().last_seq());
  CHECK(report.snapshot_refused ==
        "snapshot at seq " + std::to_string(snapshot_seq) + ": digest mismatch");
}

TEST_CASE("an event that does not decode stops recovery, naming its seq") {
  TempDir dir;
  std::unique_ptr<storage::EventLog> log = open_log(dir.path());
  Engine engine(workload_config());
  Workload workload(10, workload_start_ms);
  write_directly(*log, engine, workload, 1000);
  const uint64_t bad_seq = engine.state().last_seq() / 2;
  REQUIRE(log->close().is_ok());
  {
    RawDb db(dir.path());
    storage::SeqKey key;
    db.put(storage::family_events, RawDb::seq_key(bad_seq, key), "garbage");
  }
  log = open_log(dir.path());
  std::optional<Engine> recovered;
  net::RecoveryReport report;
  const std::string error = net::recover(*log, workload_config(), recovered, &report);
  CHECK(error.find("event " + std::to_string(bad_seq) + " does not decode") == 0);
}

// --- SIGKILL rounds -------------------------------------------------------

struct Ack {
  uint64_t seq = 0;
  uint64_t digest = 0;
};

// Reads lines from `fd` into `lines` until `deadline` passes, `lines` has
// `lines_max` lines, or EOF (then returns false). No deadline: until EOF.
bool read_lines(int fd, std::string& pending, std::vector<std::string>& lines,
                std::optional<std::chrono::steady_clock::time_point> deadline,
                size_t lines_max = SIZE_MAX) {
  while (lines.size() < lines_max) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = *deadline - std::chrono::steady_clock::now();
      wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
      if (wait_ms <= 0) return true;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) == 0) return true;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return false;
    pending.append(buffer, static_cast<size_t>(n));
    size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      lines.push_back(pending.substr(0, end));
      pending.erase(0, end + 1);
    }
  }
  return true;
}

// One round: a writer from `dir`, killed `kill_after_ms` after it is ready.
// Returns every acknowledgement it made.
std::vector<Ack> crash_round(const std::string& dir, uint64_t seed, int64_t kill_after_ms) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string seed_text = std::to_string(seed);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 3);  // the writer's lines; its logs go to /dev/null
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::execl(BOXOFFICE_RECOVERY_WRITER, BOXOFFICE_RECOVERY_WRITER, dir.c_str(), seed_text.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string pending;
  std::vector<std::string> lines;
  read_lines(fds[0], pending, lines, std::chrono::steady_clock::now() + std::chrono::seconds(60),
             1);
  REQUIRE_MESSAGE(!lines.empty(), "the writer never became ready");
  REQUIRE_MESSAGE(lines.front() == "ready", lines.front());
  read_lines(fds[0], pending, lines,
             std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms));
  ::kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                "the writer ended by itself, status " << status);
  read_lines(fds[0], pending, lines, std::nullopt);  // what it wrote before it died
  ::close(fds[0]);
  std::vector<Ack> acks;
  for (size_t i = 1; i < lines.size(); i++) {
    Ack a;
    REQUIRE_MESSAGE(std::sscanf(lines[i].c_str(), "ack %lu %lu", &a.seq, &a.digest) == 2, lines[i]);
    acks.push_back(a);
  }
  return acks;
}

TEST_CASE("SIGKILL at random moments: every acknowledged batch survives with its state") {
  TempDir dir;
  const uint64_t seed = 20261201;
  SplitMix rng(seed);
  // Follows the log from round to round: the state of every event so far.
  Engine verifier(workload_config());
  Event event;
  uint64_t acknowledged = 0;
  uint64_t unacknowledged_durable = 0;
  uint64_t rounds_with_snapshot = 0;
  uint64_t digests_checked = 0;
  for (uint32_t round = 0; round < crash_rounds; round++) {
    CAPTURE(round);
    CAPTURE(seed);
    const std::vector<Ack> acks =
        crash_round(dir.path(), rng.next(), rng.range(5, round % 4 == 0 ? 1000 : 60));
    acknowledged += acks.size();

    std::unique_ptr<storage::EventLog> log = open_log(dir.path());
    const uint64_t acked_seq = acks.empty() ? verifier.state().last_seq() : acks.back().seq;
    CHECK(log->last_seq() >= acked_seq);
    // The acknowledged batches are there and give the states the writer
    // acknowledged: the last one, and a sample of the others (a digest costs
    // O(state)).
    const size_t stride = std::max<size_t>(1, acks.size() / digests_checked_per_round_max);
    size_t next_ack = 0;
    const storage::Status s =
        log->read(verifier.state().last_seq() + 1, UINT64_MAX,
                  [&](uint64_t seq, std::span<const uint8_t> bytes) {
                    REQUIRE(decode_event(bytes, &event) == DecodeError::none);
                    verifier.recover(event);
                    while (next_ack < acks.size() && acks[next_ack].seq < seq) next_ack++;
                    const bool sampled = next_ack + 1 == acks.size() || next_ack % stride == 0;
                    if (next_ack < acks.size() && acks[next_ack].seq == seq && sampled) {
                      CHECK(state_digest(verifier.state()) == acks[next_ack].digest);
                      digests_checked++;
                    }
                    return true;
                  });
    REQUIRE(s.is_ok());
    REQUIRE(verifier.state().last_seq() == log->last_seq());
    unacknowledged_durable += log->last_seq() - acked_seq;
    std::vector<storage::SnapshotInfo> snapshots;
    REQUIRE(log->list_snapshots(&snapshots).is_ok());
    rounds_with_snapshot += snapshots.empty() ? 0 : 1;
    REQUIRE(log->close().is_ok());

    // Recovery as the server does it (newest snapshot + tail, invariants
    // checked) reaches the state of the whole log.
    net::RecoveryReport report;
    CHECK(recovered_digest(dir.path(), &report) == state_digest(verifier.state()));
    CHECK(report.snapshot_refused.empty());
  }
  MESSAGE("rounds=" << crash_rounds << " acknowledged=" << acknowledged
                    << " digests_checked=" << digests_checked << " durable_unacknowledged_events="
                    << unacknowledged_durable << " events=" << verifier.state().last_seq());
  CHECK(acknowledged > crash_rounds);  // the writers got work done
  CHECK(rounds_with_snapshot > 0);     // snapshots were written and recovered from
}

}  // namespace
}  // namespace boxoffice::test
