// boxoffice-sim: runs the seeded simulator over a range of seeds.
//
//   boxoffice-sim [--seed S] [--seeds N] [--commands M]
//
// Runs seeds S, S+1, ..., S+N-1 with M commands each; prints one line per
// seed and a summary; exits 1 on the first failure, naming the seed that
// reproduces it. An assertion failure inside the engine aborts; the abort
// handler prints the seed and command first.
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/simulator.hpp"

namespace {

volatile uint64_t current_seed = 0;

void on_abort(int) {
  char line[96];
  const int n = std::snprintf(line, sizeof line,
                              "boxoffice-sim: aborted; reproduce with --seed %llu --seeds 1\n",
                              static_cast<unsigned long long>(current_seed));
  if (n > 0) (void)!write(2, line, static_cast<size_t>(n));
}

uint64_t arg_u64(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGABRT, on_abort);
  const uint64_t first = arg_u64(argc, argv, "--seed", 1);
  const uint64_t seeds = arg_u64(argc, argv, "--seeds", 4);
  const uint64_t commands = arg_u64(argc, argv, "--commands", 100000);
  uint64_t total = 0;
  const bool verbose = arg_u64(argc, argv, "--verbose", 0) != 0;
  for (uint64_t seed = first; seed < first + seeds; seed++) {
    current_seed = seed;
    boxoffice::sim::SimOptions options;
    options.seed = seed;
    options.commands = commands;
    const auto report = boxoffice::sim::run_simulation(options);
    total += report.commands;
    std::printf(
        "seed %llu: %llu commands, %llu events, %llu holds, %llu payments, %llu refunds, "
        "%llu expiries, %llu crashes, digest %016llx%s\n",
        static_cast<unsigned long long>(seed), static_cast<unsigned long long>(report.commands),
        static_cast<unsigned long long>(report.events),
        static_cast<unsigned long long>(report.holds_ok),
        static_cast<unsigned long long>(report.payments_ok),
        static_cast<unsigned long long>(report.refunds_ok),
        static_cast<unsigned long long>(report.expiries),
        static_cast<unsigned long long>(report.crashes),
        static_cast<unsigned long long>(report.digest), report.failure ? " FAILED" : "");
    if (verbose) {
      for (int c = 0; c < 32; c++) {
        if (report.codes[c] != 0)
          std::printf("  code %d: %llu\n", c, static_cast<unsigned long long>(report.codes[c]));
      }
    }
    if (report.failure) {
      std::printf(
          "boxoffice-sim: FAILED at %s; reproduce with --seed %llu --seeds 1 --commands %llu\n",
          report.failure->c_str(), static_cast<unsigned long long>(seed),
          static_cast<unsigned long long>(commands));
      return 1;
    }
  }
  std::printf("boxoffice-sim: %llu commands over %llu seeds, all invariants held\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(seeds));
  return 0;
}
