#include "net/metrics.hpp"

#include <charconv>

#include "engine/assert.hpp"

namespace boxoffice::net {

Histogram::Histogram(std::span<const uint64_t> bounds) : bounds_(bounds) {
  BOXOFFICE_ASSERT(bounds.size() <= buckets_max);
}

void Histogram::observe(uint64_t value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) i++;
  counts_[i].add();
  sum_.add(value);
  count_.add();
}

void Histogram::accumulate(std::vector<uint64_t>& buckets, uint64_t& sum, uint64_t& count) const {
  buckets.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); i++) buckets[i] += counts_[i].get();
  sum += sum_.get();
  count += count_.get();
}

void IoMetrics::count_request(bool routed, Route route, uint16_t status) {
  size_t s = 0;
  while (s < metric_statuses.size() && metric_statuses[s] != status) s++;
  static_assert(metric_statuses[12] == 500);
  if (s == metric_statuses.size()) s = 12;  // anything else counts as 500
  requests[routed ? static_cast<size_t>(route) : route_count][s].add();
}

namespace {

class Text {
 public:
  explicit Text(std::string& out) : out_(out) {}
  Text& operator<<(std::string_view s) {
    out_ += s;
    return *this;
  }
  Text& operator<<(uint64_t v) {
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  Text& operator<<(int64_t v) {
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  // A value in micro-units as a decimal in units (for seconds).
  Text& micros(uint64_t v) {
    *this << v / 1000000 << ".";
    char frac[7];
    uint64_t f = v % 1000000;
    for (int i = 5; i >= 0; i--) frac[i] = static_cast<char>('0' + f % 10), f /= 10;
    frac[6] = '\0';
    out_ += frac;
    return *this;
  }
  void head(std::string_view name, std::string_view type, std::string_view help) {
    *this << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }

 private:
  std::string& out_;
};

void histogram(Text& t, std::string_view name, std::string_view help, bool seconds,
               std::span<const Histogram* const> parts) {
  t.head(name, "histogram", help);
  std::vector<uint64_t> buckets;
  uint64_t sum = 0, count = 0;
  for (const Histogram* h : parts) h->accumulate(buckets, sum, count);
  const std::span<const uint64_t> bounds = parts.front()->bounds();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); i++) {
    cumulative += buckets[i];
    t << name << "_bucket{le=\"";
    if (seconds) {
      t.micros(bounds[i]);
    } else {
      t << bounds[i];
    }
    t << "\"} " << cumulative << "\n";
  }
  t << name << "_bucket{le=\"+Inf\"} " << count << "\n" << name << "_sum ";
  if (seconds) {
    t.micros(sum);
  } else {
    t << sum;
  }
  t << "\n" << name << "_count " << count << "\n";
}

void gauge(Text& t, std::string_view name, std::string_view help, int64_t v) {
  t.head(name, "gauge", help);
  t << name << " " << v << "\n";
}

void counter(Text& t, std::string_view name, std::string_view help, uint64_t v) {
  t.head(name, "counter", help);
  t << name << " " << v << "\n";
}

}  // namespace

void render_metrics(std::span<const IoMetrics* const> io, const CoreMetrics& core,
                    int64_t connections, std::string& out) {
  Text t(out);
  t.head("boxoffice_http_requests_total", "counter", "HTTP requests answered, by route and status");
  for (size_t r = 0; r <= route_count; r++) {
    for (size_t s = 0; s < metric_statuses.size(); s++) {
      uint64_t n = 0;
      for (const IoMetrics* m : io) n += m->requests[r][s].get();
      if (n == 0) continue;
      const std::string_view route =
          r == route_count ? std::string_view("none") : route_spec(static_cast<Route>(r)).name;
      t << "boxoffice_http_requests_total{route=\"" << route << "\",status=\""
        << uint64_t{metric_statuses[s]} << "\"} " << n << "\n";
    }
  }
  std::vector<const Histogram*> latency;
  uint64_t overloaded = 0, bad_http = 0, refused = 0, evicted = 0;
  for (const IoMetrics* m : io) {
    latency.push_back(&m->latency_us);
    overloaded += m->overloaded.get();
    bad_http += m->bad_http.get();
    refused += m->connections_refused.get();
    evicted += m->connections_evicted.get();
  }
  histogram(t, "boxoffice_http_request_duration_seconds",
            "time from a request read to its response written", true, latency);
  counter(t, "boxoffice_http_overloaded_total", "requests refused with 503: ingress queue full",
          overloaded);
  counter(t, "boxoffice_http_bad_requests_total",
          "unparseable HTTP requests (400 and connection closed)", bad_http);
  counter(t, "boxoffice_http_connections_refused_total",
          "connections closed at once at --connections-max, with none idle to close", refused);
  counter(t, "boxoffice_http_connections_evicted_total",
          "idle connections closed at --connections-max to admit a new one", evicted);
  gauge(t, "boxoffice_http_connections", "open client connections", connections);
  gauge(t, "boxoffice_ingress_queue_depth", "commands the core drained in its last batch",
        core.ingress_depth.get());
  const Histogram* commands[] = {&core.batch_commands};
  histogram(t, "boxoffice_core_batch_commands", "commands decided per core batch", false, commands);
  const Histogram* events[] = {&core.batch_events};
  histogram(t, "boxoffice_commit_batch_events", "events appended per group commit", false, events);
  const Histogram* commit[] = {&core.commit_latency_us};
  histogram(t, "boxoffice_commit_duration_seconds",
            "time from a batch handed to the log to it being durable", true, commit);
  t.head("boxoffice_commits_total", "counter",
         "batches handed to the log, by the thread that commits them");
  t << "boxoffice_commits_total{thread=\"core\"} " << core.commits_on_core.get() << "\n";
  t << "boxoffice_commits_total{thread=\"committer\"} " << core.commits_on_committer.get() << "\n";
  counter(t, "boxoffice_commit_failures_total", "failed commits (the server stops writing)",
          core.commit_failures.get());
  gauge(t, "boxoffice_active_tokens", "tokens active now", core.active_tokens.get());
  gauge(t, "boxoffice_queue_length", "tokens waiting in line", core.waiting_tokens.get());
  gauge(t, "boxoffice_live_reservations", "reservations held or confirmed",
        core.live_reservations.get());
  counter(t, "boxoffice_holds_total", "seats held", core.holds.get());
  counter(t, "boxoffice_seat_conflicts_total", "holds refused with 409 SEAT_UNAVAILABLE",
          core.seat_conflicts.get());
  gauge(t, "boxoffice_event_log_last_seq", "sequence number of the last durable event",
        core.last_seq.get());
}

}  // namespace boxoffice::net
