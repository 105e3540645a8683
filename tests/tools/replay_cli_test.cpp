// boxoffice-replay as a program: data directories written with EventLog from
// a real engine's events (one batch per command, as the server commits
// them), then the binary run as a process against them.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/civil_date.hpp"
#include "engine/digest.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/snapshot.hpp"
#include "storage/event_batch.hpp"
#include "storage/event_log.hpp"
#include "tests/storage/storage_test_support.hpp"

extern char** environ;

namespace boxoffice::test {
namespace {

namespace fs = std::filesystem;
using storage::test::TempDir;

constexpr TimeMs t0 = 1798761600000;  // 2027-01-01T00:00:00.000Z
const Day concert_day = parse_day("2027-02-01").value();

// --- the program as a process ---

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Outcome {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// boxoffice-replay with `args`, its stdout (unless `stdout_path` is given)
// and stderr in files, TMPDIR set to a directory of the test's own (where the
// program keeps its reader's directory) plus `env`. argv and the environment
// are built before fork(): the test may have RocksDB's threads running.
class Process {
 public:
  explicit Process(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                   const std::string& stdout_path = "") {
    args_ = {BOXOFFICE_REPLAY};
    args_.insert(args_.end(), args.begin(), args.end());
    env_ = {"TMPDIR=" + tmp_.sub("tmp")};
    for (char** e = environ; *e != nullptr; e++) {
      if (std::string_view(*e).starts_with("TMPDIR=")) continue;
      env_.push_back(*e);
    }
    env_.insert(env_.end(), env.begin(), env.end());
    fs::create_directories(tmp_.sub("tmp"));
    std::vector<char*> argv;
    for (std::string& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& e : env_) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string out = stdout_path.empty() ? tmp_.sub("out") : stdout_path;
    const std::string err = tmp_.sub("err");
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out_fd < 0 || err_fd < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) _exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  Outcome wait() {
    if (pid_ > 0) {
      REQUIRE(::waitpid(pid_, &status_, 0) == pid_);
      pid_ = -1;
    }
    Outcome o;
    o.code = WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    o.out = slurp(tmp_.sub("out"));
    o.err = slurp(tmp_.sub("err"));
    // The reader's own directory is gone once the program has exited.
    CHECK(fs::is_empty(tmp_.sub("tmp")));
    return o;
  }

 private:
  TempDir tmp_;
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  int status_ = 0;
};

Outcome run(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  Process p(args, env);
  return p.wait();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string hex(uint64_t digest) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, digest);
  return buf;
}

std::string verify_ok(uint64_t events, uint64_t last_seq, uint64_t digest, const char* snapshot) {
  return "verify: ok events=" + std::to_string(events) + " last_seq=" + std::to_string(last_seq) +
         " digest=" + hex(digest) + " snapshot=" + snapshot + "\n";
}

// --- a data directory written by the real engine ---

// Decides commands with an Engine and appends each command's events to the
// log as one batch, as the server does; remembers the digest after each
// command and each event's type.
class Writer {
 public:
  explicit Writer(const std::string& dir) : engine_(Config{}) {
    log_ = storage::test::open_log(dir);
  }

  Result run(TimeMs t, CommandBody body) {
    events_.clear();
    const Result r = engine_.execute(Command{t, std::move(body)}, events_);
    batch_.reset(log_->last_seq() + 1);
    for (const Event& e : events_) {
      encode_event(e, batch_.bytes());
      batch_.seal_event();
      types.push_back(event_type_name(event_type(e.body)));
    }
    const storage::Status s = log_->append(batch_);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    REQUIRE(engine_.state().last_seq() == log_->last_seq());
    if (!events_.empty()) digest_at[log_->last_seq()] = state_digest(engine_.state());
    return r;
  }
  Result run_ok(TimeMs t, CommandBody body) {
    const Result r = run(t, std::move(body));
    INFO("code " << static_cast<int>(r.code) << " after seq " << last_seq());
    REQUIRE(r.ok());
    return r;
  }

  std::vector<uint8_t> snapshot_bytes() const {
    std::vector<uint8_t> bytes;
    SnapshotCodec::encode(engine_.state(), bytes);
    return bytes;
  }
  void put_snapshot() {
    snapshot_seq = engine_.state().last_seq();
    REQUIRE(log_->put_snapshot(snapshot_seq, snapshot_bytes()).is_ok());
  }

  void close() { REQUIRE(log_->close().is_ok()); }

  uint64_t last_seq() const { return log_->last_seq(); }
  uint64_t digest() const { return state_digest(engine_.state()); }

  std::map<uint64_t, uint64_t> digest_at;  // after the command that ended at seq
  std::vector<std::string> types;          // types[seq - 1]
  uint64_t snapshot_seq = 0;

 private:
  Engine engine_;
  std::unique_ptr<storage::EventLog> log_;
  std::vector<Event> events_;
  storage::EventBatch batch_;
};

// The known log (seq: event, time on 2027-01-01):
//   1 concert_created                                   00:00:00
//   2-4 alice, 5-7 bob, 8-10 carol: user_created, token_issued, token_activated
//   11 alice's charge, 12 alice holds seat 2            snapshot at 12
//   13 alice pays, 14 her token is used up              00:00:01
//   15 bob holds seat 3, 16 carol seat 4                00:00:02 (one instant)
//   17-18 alice's new token, 19 her refund              00:00:03
//   20, 21 both holds expire                            00:05:02 (one instant; a tick at 00:06:40)
//   22-24 the windows end: bob, carol, alice            00:10:00, 00:10:00, 00:10:03
void write_known_log(Writer& w) {
  w.run_ok(t0, CreateConcert{"Gala", {{concert_day, 5, 1000}}});
  const TokenId alice = w.run_ok(t0, JoinQueue{UserName::from("alice")}).token.token;
  const TokenId bob = w.run_ok(t0, JoinQueue{UserName::from("bob")}).token.token;
  const TokenId carol = w.run_ok(t0, JoinQueue{UserName::from("carol")}).token.token;
  w.run_ok(t0, ChargeBalance{alice, 5000, {}});
  const ReservationId held =
      w.run_ok(t0, HoldSeat{alice, ConcertId{1}, concert_day, 2, {}}).reservation;
  w.put_snapshot();
  w.run_ok(t0 + 1000, Pay{alice, held, false, 0, {}});
  w.run_ok(t0 + 2000, HoldSeat{bob, ConcertId{1}, concert_day, 3, {}});
  w.run_ok(t0 + 2000, HoldSeat{carol, ConcertId{1}, concert_day, 4, {}});
  const TokenId again = w.run_ok(t0 + 3000, JoinQueue{UserName::from("alice")}).token.token;
  w.run_ok(t0 + 3000, Refund{again, held, "plans changed", {}});
  w.run(t0 + 400 * 1000, Tick{});
  w.run(t0 + 700 * 1000, Tick{});
  REQUIRE(w.last_seq() == 24);
  REQUIRE(w.snapshot_seq == 12);
}

struct KnownDir {
  TempDir tmp;
  std::string dir = tmp.sub("data");
  std::map<uint64_t, uint64_t> digest_at;
  std::vector<std::string> types;
  uint64_t digest = 0;

  KnownDir() {
    Writer w(dir);
    write_known_log(w);
    digest_at = w.digest_at;
    types = w.types;
    digest = w.digest();
    w.close();
  }
};

TEST_CASE("the known log is the one the tests below expect") {
  const KnownDir known;
  const std::vector<std::string> expected = {
      "concert_created",   "user_created",    "token_issued",    "token_activated",
      "user_created",      "token_issued",    "token_activated", "user_created",
      "token_issued",      "token_activated", "balance_charged", "seat_held",
      "payment_completed", "token_expired",   "seat_held",       "seat_held",
      "token_issued",      "token_activated", "refund_issued",   "hold_expired",
      "hold_expired",      "token_expired",   "token_expired",   "token_expired"};
  CHECK(known.types == expected);
}

// --- verify ---

TEST_CASE("verify replays the whole log, compares the snapshot and prints the live digest") {
  const KnownDir known;
  Outcome o = run({"verify", "--data-dir", known.dir});
  CHECK(o.code == 0);
  CHECK(o.out == verify_ok(24, 24, known.digest, "compared"));
  CHECK(o.err.empty());

  o = run({"verify", "--data-dir", known.dir, "--json"});
  CHECK(o.code == 0);
  CHECK(o.out == "{\"ok\":true,\"events\":24,\"lastSeq\":24,\"digest\":\"" + hex(known.digest) +
                     "\",\"snapshot\":\"compared\"}\n");
}

TEST_CASE("verify --until SEQ and --until TIME give the state as it was then") {
  const KnownDir known;
  // After alice's payment: past the snapshot, which is compared.
  Outcome o = run({"verify", "--data-dir", known.dir, "--until", "14"});
  CHECK(o.code == 0);
  CHECK(o.out == verify_ok(14, 14, known.digest_at.at(14), "compared"));
  // Before the snapshot: not reached.
  o = run({"verify", "--data-dir", known.dir, "--until", "11"});
  CHECK(o.code == 0);
  CHECK(o.out == verify_ok(11, 11, known.digest_at.at(11), "not-reached"));
  // Half a second after the payment, in UTC and with an offset.
  for (const char* instant : {"2027-01-01T00:00:01.500Z", "2027-01-01T09:00:01.5+09:00"}) {
    o = run({"verify", "--data-dir", known.dir, "--until", instant});
    CHECK(o.code == 0);
    CHECK(o.out == verify_ok(14, 14, known.digest_at.at(14), "compared"));
  }
  // The instant of the two holds takes both of them.
  o = run({"verify", "--data-dir", known.dir, "--until", "2027-01-01T00:00:02Z"});
  CHECK(o.out == verify_ok(16, 16, known.digest_at.at(16), "compared"));
  // --until 0: before the first event.
  o = run({"verify", "--data-dir", known.dir, "--until", "0"});
  CHECK(o.code == 0);
  CHECK(has(o.out, "verify: ok events=0 last_seq=0 "));
}

TEST_CASE("verify --until SEQ between two events of one instant is not a violation") {
  // Events 20 and 21 expire two holds with the same deadline: after 20 the
  // other hold is still held at that instant, as the log says it was.
  const KnownDir known;
  const Outcome o = run({"verify", "--data-dir", known.dir, "--until", "20"});
  INFO(o.out);
  CHECK(o.code == 0);
  CHECK(has(o.out, "verify: ok events=20 last_seq=20 "));
}

TEST_CASE("verify fails naming the first bad sequence number") {
  const KnownDir known;
  SUBCASE("an event replaced by garbage") {
    {
      storage::test::RawDb db(known.dir);
      storage::SeqKey key;
      db.put(storage::family_events, storage::test::RawDb::seq_key(9, key),
             rocksdb::Slice("\xee not an event, whatever it is"));
    }
    Outcome o = run({"verify", "--data-dir", known.dir});
    CHECK(o.code == 1);
    CHECK(o.out == "verify: FAILED at seq 9: cannot decode: unknown_type\n");
    o = run({"verify", "--data-dir", known.dir, "--json"});
    CHECK(o.code == 1);
    CHECK(o.out == "{\"ok\":false,\"failedSeq\":9,\"error\":\"cannot decode: unknown_type\"}\n");
    // The log before it is fine.
    o = run({"verify", "--data-dir", known.dir, "--until", "8"});
    CHECK(o.code == 0);
    CHECK(has(o.out, "verify: ok events=8 last_seq=8 "));
  }
  SUBCASE("an event missing") {
    {
      storage::test::RawDb db(known.dir);
      storage::SeqKey key;
      db.del(storage::family_events, storage::test::RawDb::seq_key(9, key));
    }
    const Outcome o = run({"verify", "--data-dir", known.dir});
    CHECK(o.code == 1);
    CHECK(o.out.starts_with("verify: FAILED at seq 9: corruption: "));
    CHECK(has(o.out, "seq 9 is missing"));
  }
  SUBCASE("a snapshot stored under another seq than its own") {
    {
      storage::test::RawDb db(known.dir);
      storage::SeqKey key;
      const std::string envelope =
          db.get(storage::family_snapshots, storage::test::RawDb::seq_key(12, key));
      db.del(storage::family_snapshots, storage::test::RawDb::seq_key(12, key));
      db.put(storage::family_snapshots, storage::test::RawDb::seq_key(11, key), envelope);
    }
    const Outcome o = run({"verify", "--data-dir", known.dir});
    CHECK(o.code == 1);
    CHECK(o.out.starts_with("verify: FAILED at seq 11: snapshot: corruption: "));
  }
  SUBCASE("a snapshot that is not the state at its seq") {
    // The state after event 11 (before alice's hold), stored as the one at 12.
    std::vector<uint8_t> body;
    {
      TempDir other;
      Writer w(other.sub("data"));
      w.run_ok(t0, CreateConcert{"Gala", {{concert_day, 5, 1000}}});
      const TokenId alice = w.run_ok(t0, JoinQueue{UserName::from("alice")}).token.token;
      w.run_ok(t0, JoinQueue{UserName::from("bob")});
      w.run_ok(t0, JoinQueue{UserName::from("carol")});
      w.run_ok(t0, ChargeBalance{alice, 5000, {}});
      REQUIRE(w.last_seq() == 11);
      body = w.snapshot_bytes();
      w.close();
    }
    std::vector<uint8_t> envelope;
    storage::encode_snapshot_envelope(12, body, &envelope);
    {
      storage::test::RawDb db(known.dir);
      storage::SeqKey key;
      db.put(storage::family_snapshots, storage::test::RawDb::seq_key(12, key),
             rocksdb::Slice(reinterpret_cast<const char*>(envelope.data()), envelope.size()));
    }
    Outcome o = run({"verify", "--data-dir", known.dir});
    CHECK(o.code == 1);
    CHECK(o.out == "verify: FAILED at seq 12: differs from the snapshot taken here\n");
    // Stopping before it, the snapshot is not reached and the log is fine.
    o = run({"verify", "--data-dir", known.dir, "--until", "11"});
    CHECK(o.code == 0);
  }
}

TEST_CASE("verify --active-limit checks the tokens active at once") {
  const KnownDir known;
  Outcome o = run({"verify", "--data-dir", known.dir, "--active-limit", "2"});
  CHECK(o.code == 1);
  // carol's activation (seq 10) is the third active token.
  CHECK(o.out == "verify: FAILED at seq 10: active tokens over the limit\n");
  o = run({"verify", "--data-dir", known.dir, "--active-limit", "0"});
  CHECK(o.code == 0);
  o = run({"verify", "--data-dir", known.dir, "--active-limit", "3"});
  CHECK(o.code == 0);
}

// --- audit, dump, stats ---

std::vector<std::string> types_in(const std::vector<std::string>& lines) {
  std::vector<std::string> types;
  for (const std::string& l : lines) {
    // "TIME  #SEQ  TYPE  ..."
    const size_t start = l.find("  ", l.find('#')) + 2;
    types.push_back(l.substr(start, l.find("  ", start) - start));
  }
  return types;
}

TEST_CASE("audit --user prints one user's history, one line per event, with times") {
  const KnownDir known;
  const Outcome o = run({"audit", "--data-dir", known.dir, "--user", "bob"});
  CHECK(o.code == 0);
  const std::vector<std::string> lines = lines_of(o.out);
  REQUIRE(lines.size() == 6);
  CHECK(types_in(lines) == std::vector<std::string>{"user_created", "token_issued",
                                                    "token_activated", "seat_held", "hold_expired",
                                                    "token_expired"});
  CHECK(lines[0].starts_with("2027-01-01T00:00:00.000Z  #5  user_created"));
  CHECK(lines[3].starts_with("2027-01-01T00:00:02.000Z  #15  seat_held"));
  CHECK(lines[4].starts_with("2027-01-01T00:05:02.000Z  #20  hold_expired"));
  CHECK(lines[5].starts_with("2027-01-01T00:10:00.000Z  "));
  for (const std::string& l : lines) CHECK(has(l, "user=bob"));
  CHECK(has(lines[3], "seat=1/2027-02-01/3"));

  // alice's tokens and money: a charge, a payment, a refund.
  const Outcome a = run({"audit", "--data-dir", known.dir, "--user", "alice", "--until", "19"});
  CHECK(types_in(lines_of(a.out)) == std::vector<std::string>{"user_created", "token_issued",
                                                              "token_activated", "balance_charged",
                                                              "seat_held", "payment_completed",
                                                              "token_expired", "token_issued",
                                                              "token_activated", "refund_issued"});

  const Outcome nobody = run({"audit", "--data-dir", known.dir, "--user", "nobody"});
  CHECK(nobody.code == 0);
  CHECK(nobody.out.empty());
  CHECK(has(nobody.err, "no event concerns user 'nobody'"));
}

TEST_CASE("audit --seat prints one seat's history, also as it was then") {
  const KnownDir known;
  Outcome o = run({"audit", "--data-dir", known.dir, "--seat", "1/2027-02-01/2"});
  CHECK(o.code == 0);
  std::vector<std::string> lines = lines_of(o.out);
  CHECK(types_in(lines) ==
        std::vector<std::string>{"seat_held", "payment_completed", "refund_issued"});
  for (const std::string& l : lines) CHECK(has(l, "user=alice  seat=1/2027-02-01/2"));
  CHECK(lines.at(0).starts_with("2027-01-01T00:00:00.000Z  #12  seat_held"));

  o = run({"audit", "--data-dir", known.dir, "--seat", "1/2027-02-01/2", "--until",
           "2027-01-01T00:00:01Z"});
  CHECK(types_in(lines_of(o.out)) == std::vector<std::string>{"seat_held", "payment_completed"});

  o = run({"audit", "--data-dir", known.dir, "--seat", "1/2027-02-01/4"});
  lines = lines_of(o.out);
  CHECK(types_in(lines) == std::vector<std::string>{"seat_held", "hold_expired"});
  CHECK(has(lines.at(1), "#21  hold_expired  user=carol"));
}

TEST_CASE("dump prints one JSON object per line, bounded by --from and --until") {
  const KnownDir known;
  Outcome o = run({"dump", "--data-dir", known.dir});
  CHECK(o.code == 0);
  std::vector<std::string> lines = lines_of(o.out);
  REQUIRE(lines.size() == 24);
  for (size_t i = 0; i < lines.size(); i++) {
    CAPTURE(lines[i]);
    CHECK(lines[i].starts_with("{\"seq\":" + std::to_string(i + 1) + ",\"time\":\"2027-01-01T"));
    CHECK(has(lines[i], "\"type\":\"" + known.types[i] + "\""));
    CHECK(lines[i].ends_with("}"));
  }
  CHECK(lines[1] ==
        "{\"seq\":2,\"time\":\"2027-01-01T00:00:00.000Z\",\"type\":\"user_created\",\"user\":1,"
        "\"userId\":\"alice\"}");

  o = run({"dump", "--data-dir", known.dir, "--from", "3", "--until", "6"});
  lines = lines_of(o.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines.front().starts_with("{\"seq\":3,"));
  CHECK(lines.back().starts_with("{\"seq\":6,"));

  o = run({"dump", "--data-dir", known.dir, "--from", "15", "--until", "2027-01-01T00:00:02.999Z"});
  lines = lines_of(o.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].starts_with("{\"seq\":15,"));
  CHECK(lines[1].starts_with("{\"seq\":16,"));
}

TEST_CASE("stats shows the counts, the ranges and the snapshots") {
  const KnownDir known;
  Outcome o = run({"stats", "--data-dir", known.dir});
  CHECK(o.code == 0);
  const std::vector<std::string> lines = lines_of(o.out);
  std::map<std::string, std::string> by_type;
  for (const std::string& l : lines) {
    std::istringstream words(l);
    std::string type, count;
    if (l.starts_with("  ") && (words >> type >> count)) by_type[type] = count;
  }
  CHECK(has(o.out, "events: 24 (seq 1 to 24)\n"));
  CHECK(has(o.out, "time: 2027-01-01T00:00:00.000Z to 2027-01-01T00:10:03.000Z\n"));
  CHECK(by_type["seat_held"] == "3");
  CHECK(by_type["hold_expired"] == "2");
  CHECK(by_type["token_expired"] == "4");
  CHECK(by_type["token_issued"] == "4");
  CHECK(by_type["user_created"] == "3");
  CHECK(by_type["refund_issued"] == "1");
  CHECK(has(o.out, "snapshots: 1 (oldest first)\n  seq 12: "));
  CHECK(has(o.out, "bytes in the directory"));

  o = run({"stats", "--data-dir", known.dir, "--json"});
  CHECK(o.code == 0);
  CHECK(
      o.out.starts_with("{\"events\":24,\"firstSeq\":1,\"lastSeq\":24,"
                        "\"firstTime\":\"2027-01-01T00:00:00.000Z\","
                        "\"lastTime\":\"2027-01-01T00:10:03.000Z\","));
  CHECK(has(o.out, "\"seat_held\":3"));
  CHECK(has(o.out, "\"snapshots\":[{\"seq\":12,\"storedBytes\":"));
  CHECK(lines_of(o.out).size() == 1);
}

// --- checkpoint ---

TEST_CASE("checkpoint makes a copy that verify accepts with the same digest") {
  const KnownDir known;
  const std::string copy = known.tmp.sub("copy");
  Outcome o = run({"checkpoint", copy, "--data-dir", known.dir});
  CHECK(o.code == 0);
  CHECK(o.out == "checkpoint: " + copy + " last_seq=24\n");
  CHECK_FALSE(std::filesystem::exists(copy + "/token-secret"));  // none to copy
  o = run({"verify", "--data-dir", copy});
  CHECK(o.code == 0);
  CHECK(o.out == verify_ok(24, 24, known.digest, "compared"));
  // The target must be new.
  o = run({"checkpoint", copy, "--data-dir", known.dir});
  CHECK(o.code == 1);
  CHECK(has(o.err, "already exists"));
}

TEST_CASE("checkpoint copies the server's token secret, owner-only") {
  const KnownDir known;
  const std::string secret = known.dir + "/token-secret";
  {
    std::FILE* f = std::fopen(secret.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("0123456789abcdef0123456789abcdef", f);
    std::fclose(f);
  }
  std::filesystem::permissions(
      secret, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string copy = known.tmp.sub("copy");
  const Outcome o = run({"checkpoint", copy, "--data-dir", known.dir});
  CHECK(o.code == 0);
  std::FILE* f = std::fopen((copy + "/token-secret").c_str(), "r");
  REQUIRE(f != nullptr);
  char text[64] = {};
  CHECK(std::fread(text, 1, sizeof text, f) == 32);
  std::fclose(f);
  CHECK(std::string(text) == "0123456789abcdef0123456789abcdef");
  CHECK(std::filesystem::status(copy + "/token-secret").permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

// --- beside a running server ---

TEST_CASE("verify and checkpoint work beside a writer that keeps appending") {
  TempDir tmp;
  Writer w(tmp.sub("data"));
  write_known_log(w);
  const uint64_t before = w.last_seq();
  Process verify({"verify", "--data-dir", tmp.sub("data")});
  Process checkpoint({"checkpoint", tmp.sub("copy"), "--data-dir", tmp.sub("data")});
  // More users join while they read (two or three events each); bounded.
  for (uint32_t i = 0; i < 2000 && (verify.running() || checkpoint.running()); i++) {
    w.run_ok(t0 + 800 * 1000 + i, JoinQueue{UserName::from("late" + std::to_string(i))});
  }
  const Outcome v = verify.wait();
  const Outcome c = checkpoint.wait();
  INFO(v.out << v.err << c.out << c.err);
  REQUIRE(v.code == 0);
  uint64_t seen = 0;
  REQUIRE(std::sscanf(v.out.c_str(), "verify: ok events=%*u last_seq=%" SCNu64, &seen) == 1);
  CHECK(seen >= before);
  CHECK(seen <= w.last_seq());
  REQUIRE(w.digest_at.count(seen) == 1);  // a whole batch, never part of one
  CHECK(v.out == verify_ok(seen, seen, w.digest_at.at(seen), "compared"));
  REQUIRE(c.code == 0);
  uint64_t copied = 0;
  REQUIRE(std::sscanf(c.out.c_str(),
                      ("checkpoint: " + tmp.sub("copy") + " last_seq=%" SCNu64).c_str(),
                      &copied) == 1);
  const Outcome copy = run({"verify", "--data-dir", tmp.sub("copy")});
  CHECK(copy.out == verify_ok(copied, copied, w.digest_at.at(copied), "compared"));

  // The writer is still open: a later run sees everything appended.
  const Outcome later = run({"verify", "--data-dir", tmp.sub("data")});
  CHECK(later.out == verify_ok(w.last_seq(), w.last_seq(), w.digest(), "compared"));
}

TEST_CASE("--data-dir comes from BOXOFFICE_DATA_DIR when the flag is not given") {
  const KnownDir known;
  Outcome o = run({"verify"}, {"BOXOFFICE_DATA_DIR=" + known.dir});
  CHECK(o.code == 0);
  CHECK(o.out == verify_ok(24, 24, known.digest, "compared"));
  // The flag wins.
  o = run({"verify", "--data-dir", known.tmp.sub("none")}, {"BOXOFFICE_DATA_DIR=" + known.dir});
  CHECK(o.code == 1);
}

// --- errors and help ---

TEST_CASE("a failed write on stdout stops the run with exit code 1") {
  const KnownDir known;
  Process dump({"dump", "--data-dir", known.dir}, {}, "/dev/full");
  const Outcome o = dump.wait();
  CHECK(o.code == 1);
  CHECK(has(o.err, "cannot write the output"));
}

TEST_CASE("a missing or non-boxoffice directory exits 1 saying so") {
  TempDir tmp;
  Outcome o = run({"verify", "--data-dir", tmp.sub("missing")});
  CHECK(o.code == 1);
  CHECK(o.out.empty());
  CHECK(has(o.err, "no data directory at " + tmp.sub("missing")));

  fs::create_directories(tmp.sub("other"));
  std::ofstream(tmp.sub("other/notes.txt")) << "mine";
  for (const char* command : {"verify", "stats", "dump"}) {
    o = run({command, "--data-dir", tmp.sub("other")});
    CHECK(o.code == 1);
    CHECK(has(o.err, "not a boxoffice data directory"));
  }
  CHECK(fs::exists(tmp.sub("other/notes.txt")));
  CHECK(!fs::exists(tmp.sub("other/CURRENT")));
}

TEST_CASE("usage errors exit 2 naming the command or flag") {
  const KnownDir known;
  const auto usage = [&](const std::vector<std::string>& args, std::string_view named) {
    const Outcome o = run(args);
    CAPTURE(o.err);
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(has(o.err, named));
  };
  usage({}, "no command");
  usage({"frobnicate", "--data-dir", known.dir}, "unknown command 'frobnicate'");
  usage({"--data-dir", known.dir, "verify"}, "the command comes first");
  usage({"verify", "--data-dir", known.dir, "--bogus"}, "--bogus");
  usage({"stats", "--data-dir", known.dir, "--until", "5"}, "--until");  // not a stats flag
  usage({"verify", "--data-dir", known.dir, "--until", "yesterday"}, "--until");
  usage({"verify", "--data-dir", known.dir, "--until", "2027-01-01"}, "--until");
  usage({"verify", "--data-dir", known.dir, "--until", "99999999999999999999"}, "--until");
  usage({"verify", "--data-dir", known.dir, "--until"}, "--until");
  usage({"verify", "--data-dir", known.dir, "--active-limit", "-1"}, "--active-limit");
  usage({"verify", "--data-dir", known.dir, "stray"}, "unexpected argument 'stray'");
  usage({"audit", "--data-dir", known.dir}, "--user ID or --seat");
  usage({"audit", "--data-dir", known.dir, "--user", "bob", "--seat", "1/2027-02-01/2"},
        "not both");
  usage({"audit", "--data-dir", known.dir, "--seat", "1/2027-02-30/2"}, "--seat");
  usage({"audit", "--data-dir", known.dir, "--seat", "0/2027-02-01/2"}, "--seat");
  usage({"dump", "--data-dir", known.dir, "--from", "x"}, "--from");
  usage({"checkpoint", "--data-dir", known.dir}, "checkpoint TARGET");
}

TEST_CASE("--help exits 0 for the program and every command") {
  Outcome o = run({"--help"});
  CHECK(o.code == 0);
  for (const char* command : {"verify", "audit", "dump", "stats", "checkpoint"}) {
    CHECK(has(o.out, std::string("  ") + command));
  }
  CHECK(has(o.out, "Exit codes"));
  for (const char* command : {"verify", "audit", "dump", "stats", "checkpoint"}) {
    CAPTURE(command);
    o = run({command, "--help"});
    CHECK(o.code == 0);
    CHECK(has(o.out, std::string("usage: boxoffice-replay ") + command));
    CHECK(has(o.out, "--data-dir DIR"));
    for (const std::string& line : lines_of(o.out)) CHECK(line.size() <= 100);
  }
  CHECK(has(run({"verify", "--help"}).out, "--active-limit N"));
  CHECK(has(run({"audit", "--help"}).out, "--seat CONCERT/DATE/SEAT"));
  CHECK(has(run({"dump", "--help"}).out, "--from SEQ"));
}

}  // namespace
}  // namespace boxoffice::test
