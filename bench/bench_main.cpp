// boxoffice-bench: in-process benchmarks.
//
//   boxoffice-bench core [--json] [--holds N] [--mixed N] [--users N]
//                                   one thread: holds/s, mixed commands/s,
//                                   apply events/s, bytes per seat
//   boxoffice-bench commit [--json] [--producers N] [--seconds S | --holds N]
//                          [--fsync on|off] [--dir PATH] [--users N] [--dates N]
//                                   holds decided by the core and made durable
//                                   by the group committer: durable holds/s,
//                                   commits/s, commands and events per commit
//   boxoffice-bench replay [--json] [--events N] [--dir PATH] [--runs N] [--cold]
//                                   a log of N events (built once, then reused):
//                                   full replay events/s, restart with a
//                                   snapshot in s
//
// Each prints a summary and, as its last line (with --json, its only line),
// one JSON object; both include the share of the machine's CPU time the
// hypervisor stole during the run (`cpu_stolen_share`; a run with more than
// a few % stolen was disturbed and should be repeated).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/commit_bench.hpp"
#include "bench/core_bench.hpp"
#include "bench/cpu_steal.hpp"
#include "bench/replay_bench.hpp"
#include "engine/limits.hpp"

namespace {

const char* flag_value(int argc, char** argv, const char* flag) {
  for (int i = 2; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  }
  return nullptr;
}

uint64_t flag_u64(int argc, char** argv, const char* flag, uint64_t fallback) {
  const char* value = flag_value(argc, argv, flag);
  return value == nullptr ? fallback : std::strtoull(value, nullptr, 10);
}

double flag_double(int argc, char** argv, const char* flag, double fallback) {
  const char* value = flag_value(argc, argv, flag);
  return value == nullptr ? fallback : std::strtod(value, nullptr);
}

std::string flag_string(int argc, char** argv, const char* flag, const std::string& fallback) {
  const char* value = flag_value(argc, argv, flag);
  return value == nullptr ? fallback : std::string(value);
}

// Prints the summary's steal line (without --json), then `object` (one
// JSON object) with "cpu_stolen_share" added as its last field.
void print_result(bool json, std::string object, const boxoffice::bench::CpuCounters& before) {
  const double share =
      boxoffice::bench::cpu_stolen_share(before, boxoffice::bench::read_cpu_counters());
  if (!json) std::printf("  CPU stolen:     %12.1f %% of the machine's CPU time\n", 100 * share);
  if (!object.empty() && object.back() == '}') {
    char field[48];
    std::snprintf(field, sizeof field, ", \"cpu_stolen_share\": %.3f}", share);
    object.pop_back();
    object += field;
  }
  std::printf("%s\n", object.c_str());
}

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 2; i < argc; i++) {
    if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

int core(int argc, char** argv) {
  const bool json = has_flag(argc, argv, "--json");
  boxoffice::bench::CoreBenchOptions options;
  options.holds = flag_u64(argc, argv, "--holds", options.holds);
  options.mixed = flag_u64(argc, argv, "--mixed", options.mixed);
  options.users = static_cast<uint32_t>(flag_u64(argc, argv, "--users", options.users));
  options.sequential = has_flag(argc, argv, "--sequential");
  if (!json) {
    std::printf("core: one thread, %u dates x %u seats, %u active users\n", options.dates,
                options.seats_per_date, options.users);
  }
  const auto cpu_before = boxoffice::bench::read_cpu_counters();
  const auto r = boxoffice::bench::run_core_bench(options);
  if (!json) {
    std::printf("  hold storm:   %12.0f holds/s (decided + applied + encoded), %.1f%% accepted\n",
                r.holds_per_s, 100 * r.holds_accepted);
    std::printf("  mixed:        %12.0f commands/s\n", r.mixed_per_s);
    std::printf("  replay:       %12.0f events/s (decoded + applied), %llu events\n",
                r.apply_events_per_s, static_cast<unsigned long long>(r.events));
    std::printf("  memory:       %12.2f bytes per seat\n", r.bytes_per_seat);
    std::printf("  name hash:    %12.2f ns per user name (keyed, 6 to 11 bytes)\n", r.name_hash_ns);
  }
  print_result(json, boxoffice::bench::to_json(r), cpu_before);
  return 0;
}

void print_distribution(const char* name, const boxoffice::bench::Distribution& d) {
  std::printf("  %-22s mean %9.1f  p50 %7llu  p90 %7llu  p99 %7llu  max %7llu\n", name, d.mean,
              static_cast<unsigned long long>(d.p50), static_cast<unsigned long long>(d.p90),
              static_cast<unsigned long long>(d.p99), static_cast<unsigned long long>(d.max));
}

int commit(int argc, char** argv) {
  const bool json = has_flag(argc, argv, "--json");
  boxoffice::bench::CommitBenchOptions options;
  options.producers = static_cast<uint32_t>(flag_u64(argc, argv, "--producers", options.producers));
  options.seconds = flag_double(argc, argv, "--seconds", options.seconds);
  options.holds = flag_u64(argc, argv, "--holds", options.holds);
  options.dir = flag_string(argc, argv, "--dir", options.dir);
  options.users = static_cast<uint32_t>(flag_u64(argc, argv, "--users", options.users));
  options.dates = static_cast<uint32_t>(flag_u64(argc, argv, "--dates", options.dates));
  const std::string fsync = flag_string(argc, argv, "--fsync", "on");
  if ((fsync != "on" && fsync != "off") || options.producers < 1 || options.producers > 64 ||
      options.users < 1 || options.users > boxoffice::limits::active_limit_max ||
      options.dates < 1 || options.dates > boxoffice::limits::dates_per_concert_max ||
      (options.holds == 0 && !(options.seconds > 0))) {
    std::fprintf(stderr,
                 "commit: --fsync on|off, --producers 1..64, --users 1..1000000, "
                 "--dates 1..1000, --seconds > 0 or --holds > 0\n");
    return 2;
  }
  options.fsync = fsync == "on";
  if (!json) {
    char run[64];
    if (options.holds != 0) {
      std::snprintf(run, sizeof run, "%llu holds", static_cast<unsigned long long>(options.holds));
    } else {
      std::snprintf(run, sizeof run, "%.1f s", options.seconds);
    }
    std::printf(
        "commit: %u producers -> ingress -> core -> group commit, fsync %s, "
        "%u dates x %u seats, %u active users, %s\n",
        options.producers, fsync.c_str(), options.dates, options.seats_per_date, options.users,
        run);
  }
  const auto cpu_before = boxoffice::bench::read_cpu_counters();
  boxoffice::bench::CommitBenchResult r;
  if (const std::string error = boxoffice::bench::run_commit_bench(options, &r); !error.empty()) {
    std::fprintf(stderr, "commit: %s\n", error.c_str());
    return 1;
  }
  if (!json) {
    std::printf("  durable holds:  %12.0f holds/s (%llu in %.2f s)\n", r.durable_holds_per_s,
                static_cast<unsigned long long>(r.holds_durable), r.seconds);
    std::printf("  accepted:       %12.0f holds/s (%llu accepted, %llu rejected)\n",
                r.accepted_holds_per_s, static_cast<unsigned long long>(r.holds_accepted),
                static_cast<unsigned long long>(r.holds_rejected));
    std::printf("  commits:        %12.0f commits/s (%llu, %.2f core batches each)\n",
                r.commits_per_s, static_cast<unsigned long long>(r.commits), r.batches_per_commit);
    print_distribution("commands per commit", r.commands_per_commit);
    print_distribution("events per commit", r.events_per_commit);
    print_distribution("durable latency (us)", r.durable_latency_us);
    std::printf("  ring full:      %12llu waits; log %.1f MiB on disk\n",
                static_cast<unsigned long long>(r.ring_full_waits),
                static_cast<double>(r.log_bytes) / (1 << 20));
  }
  print_result(json, boxoffice::bench::to_json(r), cpu_before);
  return 0;
}

int replay(int argc, char** argv) {
  const bool json = has_flag(argc, argv, "--json");
  boxoffice::bench::ReplayBenchOptions options;
  options.events = flag_u64(argc, argv, "--events", options.events);
  options.dir = flag_string(argc, argv, "--dir", options.dir);
  options.runs = static_cast<uint32_t>(flag_u64(argc, argv, "--runs", options.runs));
  options.cold = has_flag(argc, argv, "--cold");
  if (options.events < 1000 || options.events > 1000000000 || options.runs < 1 ||
      options.runs > 100) {
    std::fprintf(stderr, "replay: --events 1000..1000000000, --runs 1..100\n");
    return 2;
  }
  if (!json) {
    std::printf("replay: a log of %llu events, %u runs each, page cache %s\n",
                static_cast<unsigned long long>(options.events), options.runs,
                options.cold ? "dropped before each run" : "warm");
  }
  const auto cpu_before = boxoffice::bench::read_cpu_counters();
  boxoffice::bench::ReplayBenchResult r;
  if (const std::string error = boxoffice::bench::run_replay_bench(options, &r); !error.empty()) {
    std::fprintf(stderr, "replay: %s\n", error.c_str());
    return 1;
  }
  if (!json) {
    if (r.built) {
      std::printf("  built %s in %.1f s\n", r.dir.c_str(), r.build_s);
    } else {
      std::printf("  reused %s\n", r.dir.c_str());
    }
    std::printf("  events:         %s\n", r.mix.c_str());
    std::printf(
        "  log:            %.1f MiB on disk (event tables %.1f MiB), snapshot %.1f MiB at "
        "seq %llu\n",
        static_cast<double>(r.log_bytes) / (1 << 20),
        static_cast<double>(r.events_sst_bytes) / (1 << 20),
        static_cast<double>(r.snapshot_bytes) / (1 << 20),
        static_cast<unsigned long long>(r.snapshot_seq));
    std::printf(
        "  full replay:    %12.0f events/s (%llu events in %.2f s after a %.3f s open, "
        "median)\n",
        r.replay_events_per_s, static_cast<unsigned long long>(r.events), r.replay_s,
        r.replay_open_s);
    std::printf("  restart:        %12.3f s (open + snapshot + %llu events, median)\n",
                r.recovery_s, static_cast<unsigned long long>(r.recovery_events));
  }
  print_result(json, boxoffice::bench::to_json(r), cpu_before);
  return 0;
}

void usage() {
  std::fprintf(stderr, "usage: boxoffice-bench core|commit|replay [--json] [flags]\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "core") return core(argc, argv);
  if (command == "commit") return commit(argc, argv);
  if (command == "replay") return replay(argc, argv);
  usage();
  return 2;
}
