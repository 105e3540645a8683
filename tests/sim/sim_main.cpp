// boxoffice-sim: runs the seeded simulator over a range of seeds.
//
//   boxoffice-sim [--seed S] [--seeds N] [--commands M] [--verbose 1]
//
// Runs seeds S, S+1, ..., S+N-1 with M commands each; prints two lines per
// seed (what ran; the faults, clock stalls and ledger checks) and a summary
// with the faults injected, by kind; exits 1 on the first failure, naming
// the seed that reproduces it. An assertion failure inside the engine
// aborts; the abort handler prints the seed first.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/simulator.hpp"

namespace {

volatile uint64_t current_seed = 0;
volatile uint64_t current_commands = 0;

void on_abort(int) {
  char line[128];
  const int n = std::snprintf(
      line, sizeof line,
      "boxoffice-sim: aborted; reproduce with --seed %llu --seeds 1 --commands %llu\n",
      static_cast<unsigned long long>(current_seed),
      static_cast<unsigned long long>(current_commands));
  if (n > 0) (void)!write(2, line, static_cast<size_t>(n));
}

uint64_t arg_u64(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

void print_seed(uint64_t seed, const boxoffice::sim::SimReport& r) {
  std::printf(
      "seed %llu: %llu commands, %llu events, %llu holds, %llu payments, %llu refunds, "
      "%llu expiries (at most %llu at one instant), digest %016llx%s\n",
      ull(seed), ull(r.commands), ull(r.events), ull(r.holds_ok), ull(r.payments_ok),
      ull(r.refunds_ok), ull(r.expiries), ull(r.expiries_at_one_instant_max), ull(r.digest),
      r.failure ? " FAILED" : "");
  std::printf(
      "  faults: %llu torn, %llu unacknowledged, %llu write failed (%llu kept in the log); "
      "%llu clock stalls (%llu commands); %llu acknowledged facts, %llu checks of them\n",
      ull(r.torn), ull(r.unacknowledged), ull(r.write_failed), ull(r.write_failed_kept),
      ull(r.stalls), ull(r.stalled_commands), ull(r.facts_acknowledged), ull(r.facts_checked));
}

// Sums over the seeds run, for the last line.
struct Totals {
  uint64_t commands = 0;
  uint64_t torn = 0;
  uint64_t unacknowledged = 0;
  uint64_t write_failed = 0;
  uint64_t write_failed_kept = 0;
  uint64_t stalls = 0;
  uint64_t facts_checked = 0;

  void add(const boxoffice::sim::SimReport& r) {
    commands += r.commands;
    torn += r.torn;
    unacknowledged += r.unacknowledged;
    write_failed += r.write_failed;
    write_failed_kept += r.write_failed_kept;
    stalls += r.stalls;
    facts_checked += r.facts_checked;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGABRT, on_abort);
  const uint64_t first = arg_u64(argc, argv, "--seed", 1);
  const uint64_t seeds = arg_u64(argc, argv, "--seeds", 4);
  const uint64_t commands = arg_u64(argc, argv, "--commands", 100000);
  const bool verbose = arg_u64(argc, argv, "--verbose", 0) != 0;
  current_commands = commands;
  Totals totals;
  for (uint64_t seed = first; seed < first + seeds; seed++) {
    current_seed = seed;
    boxoffice::sim::SimOptions options;
    options.seed = seed;
    options.commands = commands;
    const auto report = boxoffice::sim::run_simulation(options);
    totals.add(report);
    print_seed(seed, report);
    if (verbose) {
      for (int c = 0; c < 32; c++) {
        if (report.codes[c] != 0) std::printf("  code %d: %llu\n", c, ull(report.codes[c]));
      }
    }
    if (report.failure) {
      std::printf(
          "boxoffice-sim: FAILED at %s; reproduce with --seed %llu --seeds 1 --commands %llu\n",
          report.failure->c_str(), ull(seed), ull(commands));
      return 1;
    }
  }
  std::printf(
      "boxoffice-sim: %llu commands over %llu seeds, all invariants held; faults: %llu torn, "
      "%llu unacknowledged, %llu write failed (%llu kept in the log), %llu clock stalls; "
      "%llu checks of acknowledged facts after recoveries\n",
      ull(totals.commands), ull(seeds), ull(totals.torn), ull(totals.unacknowledged),
      ull(totals.write_failed), ull(totals.write_failed_kept), ull(totals.stalls),
      ull(totals.facts_checked));
  return 0;
}
