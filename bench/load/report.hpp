// The end of a run: the table for people and the JSON object for scripts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "bench/load/options.hpp"
#include "bench/load/stats.hpp"
#include "bench/load/verify.hpp"

namespace boxoffice::load {

struct SaleOpenResult {
  uint64_t users = 0;
  uint64_t seats = 0;
  uint64_t winners = 0;         // users who paid for a seat
  uint64_t failed_holds = 0;    // holds refused as SEAT_UNAVAILABLE
  uint64_t gave_up = 0;         // users who saw no free seat left and left
  double sold_out_s = -1;       // first arrival to the last seat's payment; -1: never sold out
  double first_come_share = 0;  // winners among the first `winners` arrivals / winners
};

struct RunReport {
  Options options;
  uint32_t users = 0;
  double setup_s = 0;
  double measured_s = 0;
  Stats stats;
  uint64_t connect_errors = 0;
  double client_cpu_s = 0;  // this process's CPU time during the scenario (all threads)
  double run_s = 0;         // wall time of the scenario, warm-up included
  Verdict verdict;
  std::optional<SaleOpenResult> sale_open;
};

void print_table(const RunReport& report, std::FILE* out);
std::string to_json(const RunReport& report);

}  // namespace boxoffice::load
