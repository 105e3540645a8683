// Counts and latencies of the requests of one phase: by status, by error code
// and by kind. One Stats per driver thread, merged after the phase.
#pragma once

#include <array>
#include <cstdint>

#include "bench/load/api.hpp"
#include "bench/load/histogram.hpp"

namespace boxoffice::load {

inline constexpr unsigned status_max = 599;

struct KindStats {
  uint64_t requests = 0;
  uint64_t accepted = 0;  // 2xx
  Histogram latency_ns;
};

struct Stats {
  uint64_t requests = 0;          // answered, or failed without an answer
  uint64_t accepted = 0;          // 2xx
  uint64_t transport_errors = 0;  // no answer: connection failed, reset or timed out
  uint64_t timeouts = 0;          // of which the request timed out
  std::array<uint64_t, status_max + 1> by_status{};
  std::array<uint64_t, error_code_count> by_code{};
  std::array<KindStats, kind_count> by_kind;
  Histogram latency_ns;

  // `status` 0 means no answer. Statuses above status_max count as status_max.
  void record(Kind kind, unsigned status, ErrorCode code, uint64_t latency_ns);
  void merge(const Stats& other);
  // No answer, or a 5xx.
  uint64_t errors() const;
};

// What a driver publishes every second for the progress line.
struct Progress {
  uint64_t requests = 0;
  uint64_t accepted = 0;
  uint64_t errors = 0;
  Histogram latency_ns;  // of the measured window so far (of the warm-up during it)
};

}  // namespace boxoffice::load
