// boxoffice-replay: reads a data directory's log without changing it, also
// beside a running server. Commands: verify, audit, dump, stats, checkpoint;
// see `boxoffice-replay --help` and tools/replay/replay_options.hpp.
//
// Exit codes: 0 success; 1 a verification failure, corruption, or a data
// directory that cannot be opened or is not a boxoffice one; 2 a usage
// error; 128 + N when stopped by signal N (SIGINT, SIGTERM), after removing
// the reader's own directory. A write error on stdout (a closed pipe) stops
// the run with exit code 1.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/civil_date.hpp"
#include "storage/log_format.hpp"
#include "tools/replay/event_format.hpp"
#include "tools/replay/log_view.hpp"
#include "tools/replay/replay_options.hpp"
#include "tools/replay/replayer.hpp"

namespace boxoffice::replay {
namespace {

namespace fs = std::filesystem;
using storage::Status;

// A checkpoint beside a running writer fails when the writer deletes a file
// the copy needs meanwhile; it is tried again this many times in all.
constexpr uint32_t checkpoint_attempts_max = 5;

volatile std::sig_atomic_t signal_received = 0;

void on_signal(int sig) { signal_received = sig; }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = static_cast<int>(SA_RESETHAND);  // a second signal ends the program at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is a write error, reported
}

// Lines on stdout. The first failed write is kept; the run stops at it.
class Output {
 public:
  void line(std::string_view text) {
    if (error_ != 0) return;
    errno = 0;
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        std::fputc('\n', stdout) == EOF) {
      error_ = errno != 0 ? errno : EIO;
    }
  }
  bool failed() const { return error_ != 0; }
  // Flushes; false, after saying why on stderr, when a write failed.
  bool finish() {
    errno = 0;
    if (error_ == 0 && std::fflush(stdout) != 0) error_ = errno != 0 ? errno : EIO;
    if (error_ != 0) {
      std::fprintf(stderr, "boxoffice-replay: cannot write the output: %s\n",
                   std::strerror(error_));
    }
    return error_ == 0;
  }

 private:
  int error_ = 0;
};

// One command's run: its options, the log, the output.
struct Run {
  const ReplayOptions& options;
  LogView& view;
  Output out;

  bool stopped() const { return signal_received != 0 || out.failed(); }
  EventSource source() const {
    return view.source([this] { return stopped(); });
  }
  uint64_t replay_end() const { return std::min(options.until.seq, view.log().last_seq()); }
  // An operating failure: a message on stderr and exit code 1.
  int fail(const std::string& what) const {
    std::fprintf(stderr, "boxoffice-replay: %s: %s\n", subcommand_name(options.command),
                 what.c_str());
    return 1;
  }
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string hex_digest(uint64_t digest) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, digest);
  return buf;
}

// --- verify ---

struct SnapshotLoad {
  bool present = false;
  uint64_t seq = 0;
  std::vector<uint8_t> bytes;
  std::string error;  // set: the newest snapshot is there but unreadable
};

SnapshotLoad load_snapshot(const storage::EventLog& log) {
  SnapshotLoad out;
  const Status s = log.load_newest_snapshot(&out.seq, &out.bytes);
  if (s.code == Status::Code::not_found) return out;
  out.present = true;
  if (!s.is_ok()) {
    out.error = "snapshot: " + s.to_string();
    std::vector<storage::SnapshotInfo> stored;
    if (log.list_snapshots(&stored).is_ok() && !stored.empty()) out.seq = stored.back().seq;
  }
  return out;
}

struct Failure {
  uint64_t seq = 0;
  std::string what;
};

// The replayer names where it failed: "event N: ...", "after event N: ..."
// (the checks over the whole state at the end) or "snapshot N: ...".
Failure split_failure(const std::string& failure, uint64_t fallback_seq) {
  for (const std::string_view prefix : {"after event ", "event ", "snapshot "}) {
    if (!std::string_view(failure).starts_with(prefix)) continue;
    const char* end = failure.data() + failure.size();
    uint64_t seq = 0;
    const auto [ptr, ec] = std::from_chars(failure.data() + prefix.size(), end, seq);
    if (ec != std::errc() ||
        !std::string_view(ptr, static_cast<size_t>(end - ptr)).starts_with(": ")) {
      break;
    }
    std::string what(ptr + 2, end);
    if (prefix == "snapshot ") what = "snapshot: " + what;
    return Failure{seq, what};
  }
  return Failure{fallback_seq, failure};
}

int verify_failed(Run& run, const Failure& f) {
  if (run.options.json) {
    run.out.line("{\"ok\":false,\"failedSeq\":" + std::to_string(f.seq) +
                 ",\"error\":" + json_string(f.what) + "}");
  } else {
    run.out.line("verify: FAILED at seq " + std::to_string(f.seq) + ": " + f.what);
  }
  return 1;
}

int run_verify(Run& run) {
  const SnapshotLoad snapshot = load_snapshot(run.view.log());
  if (!snapshot.error.empty()) return verify_failed(run, Failure{snapshot.seq, snapshot.error});
  std::optional<SnapshotRef> ref;
  if (snapshot.present) ref = SnapshotRef{snapshot.seq, snapshot.bytes};
  set_progress(run.options.progress, run.replay_end());
  State state;
  const VerifyReport r =
      verify(run.source(), run.options.until, ref, run.options.active_limit, state);
  if (run.stopped()) return 1;
  if (r.failure.has_value()) {
    return verify_failed(run, split_failure(*r.failure, state.last_seq() + 1));
  }
  const char* compared = !snapshot.present     ? "none"
                         : r.snapshot_compared ? "compared"
                                               : "not-reached";
  if (run.options.json) {
    run.out.line("{\"ok\":true,\"events\":" + std::to_string(r.events) +
                 ",\"lastSeq\":" + std::to_string(r.last_seq) + ",\"digest\":\"" +
                 hex_digest(r.digest) + "\",\"snapshot\":\"" + compared + "\"}");
  } else {
    run.out.line("verify: ok events=" + std::to_string(r.events) +
                 " last_seq=" + std::to_string(r.last_seq) + " digest=" + hex_digest(r.digest) +
                 " snapshot=" + compared);
  }
  return 0;
}

// --- audit, dump ---

std::string filter_text(const AuditFilter& f) {
  if (!f.user.empty()) return "user '" + f.user + "'";
  char day[11] = {};
  format_day(f.day, day);
  return "seat " + std::to_string(f.concert) + "/" + day + "/" + std::to_string(f.seat);
}

int run_audit(Run& run) {
  set_progress(run.options.progress, run.replay_end());
  uint64_t lines = 0;
  const std::string error =
      audit(run.source(), run.options.until, run.options.filter, [&](const std::string& l) {
        run.out.line(l);
        lines++;
      });
  if (run.stopped()) return 1;
  if (!error.empty()) return run.fail(error);
  if (lines == 0) {
    std::fprintf(stderr, "boxoffice-replay: audit: no event concerns %s\n",
                 filter_text(run.options.filter).c_str());
  }
  return 0;
}

int run_dump(Run& run) {
  const std::string error = dump(run.source(), run.options.from_seq, run.options.until,
                                 [&](const std::string& l) { run.out.line(l); });
  if (run.stopped()) return 1;
  if (!error.empty()) return run.fail(error);
  return 0;
}

// --- stats ---

struct DiskView {
  storage::LogStats disk;
  std::vector<storage::SnapshotInfo> snapshots;
};

void print_stats_text(Output& out, const Stats& s, const DiskView& d) {
  const std::string n = std::to_string(s.events);
  if (s.events == 0) {
    out.line("events: 0");
  } else {
    out.line("events: " + n + " (seq " + std::to_string(s.first_seq) + " to " +
             std::to_string(s.last_seq) + ")");
    out.line("time: " + format_instant(s.first_ms) + " to " + format_instant(s.last_ms));
  }
  out.line("event bytes: " + std::to_string(s.bytes) + " (encoded, before compression)");
  out.line("by type:");
  for (const auto& [type, count] : s.by_type) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %-22s %" PRIu64, type.c_str(), count);
    out.line(buf);
  }
  out.line("disk: " + std::to_string(d.disk.dir_bytes) + " bytes in the directory (event tables " +
           std::to_string(d.disk.events_sst_bytes) + ", snapshot tables " +
           std::to_string(d.disk.snapshots_sst_bytes) + ", not yet in tables " +
           std::to_string(d.disk.memtable_bytes) + ")");
  out.line("snapshots: " + std::to_string(d.snapshots.size()) + " (oldest first)");
  for (const storage::SnapshotInfo& info : d.snapshots) {
    out.line("  seq " + std::to_string(info.seq) + ": " + std::to_string(info.stored_bytes) +
             " bytes");
  }
}

void print_stats_json(Output& out, const Stats& s, const DiskView& d) {
  const auto instant = [&](TimeMs ms) {
    return s.events == 0 ? std::string("null") : "\"" + format_instant(ms) + "\"";
  };
  std::string j = "{\"events\":" + std::to_string(s.events) +
                  ",\"firstSeq\":" + std::to_string(s.first_seq) +
                  ",\"lastSeq\":" + std::to_string(s.last_seq) +
                  ",\"firstTime\":" + instant(s.first_ms) + ",\"lastTime\":" + instant(s.last_ms) +
                  ",\"eventBytes\":" + std::to_string(s.bytes) + ",\"byType\":{";
  bool first = true;
  for (const auto& [type, count] : s.by_type) {
    j += (first ? "" : ",") + json_string(type) + ":" + std::to_string(count);
    first = false;
  }
  j += "},\"disk\":{\"dirBytes\":" + std::to_string(d.disk.dir_bytes) +
       ",\"eventsSstBytes\":" + std::to_string(d.disk.events_sst_bytes) +
       ",\"snapshotsSstBytes\":" + std::to_string(d.disk.snapshots_sst_bytes) +
       ",\"memtableBytes\":" + std::to_string(d.disk.memtable_bytes) + "},\"snapshots\":[";
  first = true;
  for (const storage::SnapshotInfo& info : d.snapshots) {
    j += std::string(first ? "" : ",") + "{\"seq\":" + std::to_string(info.seq) +
         ",\"storedBytes\":" + std::to_string(info.stored_bytes) + "}";
    first = false;
  }
  out.line(j + "]}");
}

int run_stats(Run& run) {
  Stats s;
  const std::string error = stats(run.source(), &s);
  if (run.stopped()) return 1;
  if (!error.empty()) return run.fail(error);
  DiskView d;
  if (Status st = run.view.log().stats(&d.disk); !st.is_ok()) return run.fail(st.to_string());
  if (Status st = run.view.log().list_snapshots(&d.snapshots); !st.is_ok()) {
    return run.fail(st.to_string());
  }
  if (run.options.json) {
    print_stats_json(run.out, s, d);
  } else {
    print_stats_text(run.out, s, d);
  }
  return 0;
}

// --- checkpoint ---

// Makes the copy, trying again from a fresh view into a fresh target when
// the writer deleted a file the copy needed (io_error).
Status make_checkpoint(Run& run, const std::string& target, uint32_t* attempts) {
  Status s;
  for (*attempts = 1;; (*attempts)++) {
    s = run.view.log().checkpoint(target);
    if (s.is_ok() || s.code != Status::Code::io_error || *attempts == checkpoint_attempts_max ||
        run.stopped()) {
      return s;
    }
    std::error_code ec;
    fs::remove_all(target, ec);  // what the failed attempt left: the target did not exist
    if (Status c = run.view.log().catch_up(); !c.is_ok()) return c;
  }
}

// RocksDB's checkpoint copies the database only: the server's token secret
// beside it is copied too (owner-only), so tokens stay valid on a restore.
// "" or what went wrong; a directory without a secret is not an error.
std::string copy_token_secret(const std::string& data_dir, const std::string& target) {
  const fs::path from = fs::path(data_dir) / storage::token_secret_file_name;
  const fs::path to = fs::path(target) / storage::token_secret_file_name;
  std::error_code ec;
  if (!fs::exists(from, ec)) return "";
  fs::copy_file(from, to, ec);
  if (!ec) fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (ec) return "cannot copy " + from.string() + " to " + to.string() + ": " + ec.message();
  return "";
}

int run_checkpoint(Run& run) {
  const std::string& target = run.options.checkpoint_dir;
  std::error_code ec;
  if (fs::exists(target, ec) || ec) {
    return run.fail(target + " already exists: the copy goes into a new directory");
  }
  uint32_t attempts = 0;
  if (Status s = make_checkpoint(run, target, &attempts); !s.is_ok()) {
    return run.fail("no copy made (" + std::to_string(attempts) + " attempts): " + s.to_string());
  }
  // The copy must open as a data directory; nothing writes to it, so
  // read-only is enough.
  storage::EventLogOptions o;
  o.dir = target;
  o.mode = storage::OpenMode::read_only;
  std::unique_ptr<storage::EventLog> copy;
  if (Status s = storage::EventLog::open(o, &copy); !s.is_ok()) {
    return run.fail("the copy in " + target + " does not open: " + s.to_string());
  }
  if (const std::string error = copy_token_secret(run.options.data_dir, target); !error.empty()) {
    return run.fail(error);
  }
  run.out.line("checkpoint: " + target + " last_seq=" + std::to_string(copy->last_seq()));
  return 0;
}

// --- the program ---

int run_command(const ReplayOptions& options) {
  LogView view;
  if (Status s = view.open(options.data_dir); !s.is_ok()) {
    std::fprintf(stderr, "boxoffice-replay: %s: cannot open --data-dir %s: %s\n",
                 subcommand_name(options.command), options.data_dir.c_str(), s.to_string().c_str());
    return 1;
  }
  Run run{options, view, Output{}};
  int code = 1;
  switch (options.command) {
    case Subcommand::verify:
      code = run_verify(run);
      break;
    case Subcommand::audit:
      code = run_audit(run);
      break;
    case Subcommand::dump:
      code = run_dump(run);
      break;
    case Subcommand::stats:
      code = run_stats(run);
      break;
    case Subcommand::checkpoint:
      code = run_checkpoint(run);
      break;
  }
  return run.out.finish() ? code : 1;
}

int program(int argc, char** argv) {
  const ReplayOptionsOutcome outcome =
      parse_replay_options(argc, argv, [](const char* name) { return std::getenv(name); });
  if (!outcome.options.has_value()) {
    std::FILE* to = outcome.exit_code == 0 ? stdout : stderr;
    std::fputs(outcome.message.c_str(), to);
    if (!outcome.message.ends_with('\n')) std::fputs("\n", to);
    return outcome.exit_code;
  }
  install_signal_handlers();
  const int code = run_command(*outcome.options);  // the reader's directory is removed here
  if (const int sig = signal_received; sig != 0) {
    std::fprintf(stderr, "boxoffice-replay: stopped by signal %d\n", sig);
    return 128 + sig;
  }
  return code;
}

}  // namespace
}  // namespace boxoffice::replay

int main(int argc, char** argv) {
  try {
    return boxoffice::replay::program(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "boxoffice-replay: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "boxoffice-replay: unknown error\n");
  }
  return 1;
}
