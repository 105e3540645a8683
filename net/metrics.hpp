// Metrics: counters, gauges and histograms, rendered in the Prometheus text
// format (version 0.0.4) for GET /metrics.
//
// Contract: every metric has exactly one writing thread (an I/O thread owns
// its IoMetrics; the core thread and the commit callback own their parts of
// CoreMetrics), so a write is a relaxed load and store, never a locked
// read-modify-write; any thread may read at any time and sees each value
// torn-free (a scrape is not an atomic snapshot across metrics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/router.hpp"

namespace boxoffice::net {

// A counter with a single writer.
class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  int64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// A histogram over fixed upper bounds (in the unit the caller observes in),
// with a single writer.
class Histogram {
 public:
  static constexpr size_t buckets_max = 16;
  explicit Histogram(std::span<const uint64_t> bounds);
  void observe(uint64_t value);

  // Adds this histogram's counts into `sum_buckets` (size bounds + 1), etc.
  void accumulate(std::vector<uint64_t>& buckets, uint64_t& sum, uint64_t& count) const;
  std::span<const uint64_t> bounds() const { return bounds_; }

 private:
  std::span<const uint64_t> bounds_;
  std::array<Counter, buckets_max + 1> counts_;
  Counter sum_;
  Counter count_;
};

// Bucket bounds, in the unit of each histogram.
inline constexpr std::array<uint64_t, 14> latency_bounds_us = {
    50, 100, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};
inline constexpr std::array<uint64_t, 12> batch_size_bounds = {1,  2,   4,   8,   16,   32,
                                                               64, 128, 256, 512, 1024, 4096};

// The HTTP statuses the server answers with, as metric label values.
inline constexpr std::array<uint16_t, 14> metric_statuses = {200, 201, 204, 400, 401, 402, 403,
                                                             404, 405, 409, 413, 429, 500, 503};

// What one I/O thread counts.
struct IoMetrics {
  // Requests by route (route_count: not routed) and status.
  std::array<std::array<Counter, metric_statuses.size()>, route_count + 1> requests;
  Histogram latency_us{latency_bounds_us};  // request read to response written
  Counter overloaded;                       // 503: the ingress queue was full
  Counter bad_http;                         // unparseable HTTP (400 and close)
  Counter connections_refused;              // beyond --connections-max, none idle
  Counter connections_evicted;              // idle, closed at --connections-max for a new one

  void count_request(bool routed, Route route, uint16_t status);
};

// What the core thread and the commit callback count.
struct CoreMetrics {
  Histogram batch_commands{batch_size_bounds};  // commands decided per batch
  Histogram batch_events{batch_size_bounds};    // events committed per batch
  Histogram commit_latency_us{latency_bounds_us};
  Gauge ingress_depth;  // commands drained by the last batch
  Gauge active_tokens;
  Gauge waiting_tokens;
  Gauge live_reservations;  // held or confirmed
  Counter holds;            // successful holds
  Counter seat_conflicts;   // 409 SEAT_UNAVAILABLE
  Gauge last_seq;           // last durable event sequence number
  Counter commit_failures;
  Counter commits_on_core;       // batches committed on the core thread itself
  Counter commits_on_committer;  // batches handed to the commit thread
};

// Renders every metric. `connections` is the number of open connections.
void render_metrics(std::span<const IoMetrics* const> io, const CoreMetrics& core,
                    int64_t connections, std::string& out);

}  // namespace boxoffice::net
