// boxoffice-bench: in-process benchmarks.
//
//   boxoffice-bench core [--json] [--holds N] [--mixed N] [--users N]
//                                   one thread: holds/s, mixed commands/s,
//                                   apply events/s, bytes per seat
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/core_bench.hpp"

namespace {

uint64_t flag_u64(int argc, char** argv, const char* flag, uint64_t fallback) {
  for (int i = 2; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], flag) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
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
  const auto r = boxoffice::bench::run_core_bench(options);
  if (!json) {
    std::printf("  hold storm:   %12.0f holds/s (decided + applied + encoded), %.1f%% accepted\n",
                r.holds_per_s, 100 * r.holds_accepted);
    std::printf("  mixed:        %12.0f commands/s\n", r.mixed_per_s);
    std::printf("  replay:       %12.0f events/s (decoded + applied), %llu events\n",
                r.apply_events_per_s, static_cast<unsigned long long>(r.events));
    std::printf("  memory:       %12.2f bytes per seat\n", r.bytes_per_seat);
  }
  std::printf("%s\n", boxoffice::bench::to_json(r).c_str());
  return 0;
}

void usage() { std::fprintf(stderr, "usage: boxoffice-bench core [--json]\n"); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "core") return core(argc, argv);
  usage();
  return 2;
}
