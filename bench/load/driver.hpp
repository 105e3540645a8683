// One thread's share of a phase: its own io_context, its keep-alive
// connections, and the agents it serves.
//
// Closed loop: an idle connection sends the next ready agent's request at once.
// Open loop (rate_per_s > 0): requests go out on a fixed schedule of tickets;
// a ticket due while no connection or agent is free waits, and its latency is
// measured from the ticket's time, so the wait is counted (no coordinated
// omission).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/load/agent.hpp"
#include "bench/load/stats.hpp"

namespace boxoffice::load {

struct DriverConfig {
  std::string address;  // numeric IPv4 or IPv6 address of the server
  uint16_t port = 0;
  std::string host_header;  // the Host header, "host:port"
  uint32_t connections = 1;
  double rate_per_s = 0;        // this driver's open-loop rate; 0: closed loop
  double ticket_offset = 0;     // in [0, 1): this driver's place among the others' tickets
  int64_t start_ns = 0;         // steady clock: no request before this
  int64_t measure_from_ns = 0;  // requests intended before this are not recorded
  int64_t stop_ns = INT64_MAX;  // no request starts at or after this
  int64_t request_timeout_ns = 30'000'000'000;
  int64_t retry_ns = 20'000'000;  // an agent waits this long after no answer or a 503
};

// Nanoseconds on the steady clock the drivers use.
int64_t steady_now_ns();

class Driver {
 public:
  Driver(DriverConfig config, std::vector<Agent*> agents);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Runs on the calling thread until every agent is done, or stop_ns has passed,
  // and no request is in flight.
  void run();
  // REQUIRES: run() has returned.
  const Stats& stats() const;
  // Steady time of the last answer (0: none).
  int64_t last_answer_ns() const;
  uint64_t connect_errors() const;
  // Safe from any thread: the counts as of the last second.
  Progress progress() const;
  // Why the last connection attempt failed (empty: none failed).
  std::string last_connect_error() const;

  struct Impl;  // public only so that driver.cpp's Connection can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace boxoffice::load
