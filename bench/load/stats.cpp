#include "bench/load/stats.hpp"

#include <algorithm>

namespace boxoffice::load {

void Stats::record(Kind kind, unsigned status, ErrorCode code, uint64_t latency_ns_value) {
  const bool ok = status >= 200 && status < 300;
  ++requests;
  accepted += ok ? 1 : 0;
  if (status == 0) ++transport_errors;
  ++by_status[std::min(status, status_max)];
  ++by_code[static_cast<size_t>(code)];
  KindStats& k = by_kind[static_cast<size_t>(kind)];
  ++k.requests;
  k.accepted += ok ? 1 : 0;
  k.latency_ns.record(latency_ns_value);
  latency_ns.record(latency_ns_value);
}

void Stats::merge(const Stats& other) {
  requests += other.requests;
  accepted += other.accepted;
  transport_errors += other.transport_errors;
  timeouts += other.timeouts;
  for (size_t i = 0; i < by_status.size(); ++i) by_status[i] += other.by_status[i];
  for (size_t i = 0; i < by_code.size(); ++i) by_code[i] += other.by_code[i];
  for (size_t i = 0; i < by_kind.size(); ++i) {
    by_kind[i].requests += other.by_kind[i].requests;
    by_kind[i].accepted += other.by_kind[i].accepted;
    by_kind[i].latency_ns.merge(other.by_kind[i].latency_ns);
  }
  latency_ns.merge(other.latency_ns);
}

uint64_t Stats::errors() const {
  uint64_t server_errors = 0;
  for (unsigned s = 500; s <= status_max; ++s) server_errors += by_status[s];
  return transport_errors + server_errors;
}

}  // namespace boxoffice::load
