#include "bench/load/report.hpp"

#include <fmt/format.h>

namespace boxoffice::load {
namespace {

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

double per_s(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

std::string describe_load(const Options& o) {
  std::string loop =
      o.rate_per_s == 0 ? "closed loop" : fmt::format("open loop at {} requests/s", o.rate_per_s);
  return fmt::format("{} connections, {} thread{}, {}, seed {}", o.connections, o.threads,
                     o.threads == 1 ? "" : "s", loop, o.seed);
}

void print_statuses(const Stats& s, std::FILE* out) {
  for (unsigned status = 0; status <= status_max; ++status) {
    if (s.by_status[status] == 0) continue;
    if (status == 0) {
      fmt::print(out, "  no answer  {:>12}  ({} timed out)\n", s.by_status[0], s.timeouts);
    } else {
      fmt::print(out, "  status {}  {:>12}\n", status, s.by_status[status]);
    }
  }
  for (size_t c = 1; c < error_code_count; ++c) {
    if (s.by_code[c] == 0) continue;
    fmt::print(out, "    {:<24} {:>10}\n", error_code_name(static_cast<ErrorCode>(c)),
               s.by_code[c]);
  }
}

void print_kinds(const Stats& s, double seconds, std::FILE* out) {
  fmt::print(out, "  {:<8} {:>12} {:>12} {:>12} {:>9} {:>9} {:>9}\n", "kind", "requests", "2xx",
             "2xx/s", "p50 ms", "p99 ms", "max ms");
  for (size_t k = 0; k < kind_count; ++k) {
    const KindStats& ks = s.by_kind[k];
    if (ks.requests == 0) continue;
    fmt::print(out, "  {:<8} {:>12} {:>12} {:>12.1f} {:>9.3f} {:>9.3f} {:>9.3f}\n",
               kind_name(static_cast<Kind>(k)), ks.requests, ks.accepted,
               per_s(ks.accepted, seconds), ms(ks.latency_ns.percentile(50)),
               ms(ks.latency_ns.percentile(99)), ms(ks.latency_ns.max()));
  }
}

void print_sale_open(const SaleOpenResult& r, std::FILE* out) {
  fmt::print(out, "sale-open: {} users for {} seats: {} bought one, {} left when none was free\n",
             r.users, r.seats, r.winners, r.gave_up);
  if (r.sold_out_s >= 0) {
    fmt::print(out, "  sold out {:.3f} s after the first arrival\n", r.sold_out_s);
  } else {
    fmt::print(out, "  not sold out ({} of {} seats paid)\n", r.winners, r.seats);
  }
  fmt::print(out, "  failed holds (seat taken): {}\n", r.failed_holds);
  fmt::print(out,
             "  first come, first served: {:.1f} % of the buyers were among the first {} "
             "to arrive\n",
             r.first_come_share * 100, r.winners);
}

std::string kinds_json(const Stats& s, double seconds) {
  std::string json = "{";
  for (size_t k = 0; k < kind_count; ++k) {
    const KindStats& ks = s.by_kind[k];
    if (ks.requests == 0) continue;
    fmt::format_to(
        std::back_inserter(json),
        R"({}"{}":{{"requests":{},"accepted":{},"accepted_per_s":{:.1f},"p50_ms":{:.3f},"p99_ms":{:.3f},"p999_ms":{:.3f},"max_ms":{:.3f}}})",
        json.size() > 1 ? "," : "", kind_name(static_cast<Kind>(k)), ks.requests, ks.accepted,
        per_s(ks.accepted, seconds), ms(ks.latency_ns.percentile(50)),
        ms(ks.latency_ns.percentile(99)), ms(ks.latency_ns.percentile(99.9)),
        ms(ks.latency_ns.max()));
  }
  return json + "}";
}

std::string statuses_json(const Stats& s) {
  std::string status = "{";
  for (unsigned st = 0; st <= status_max; ++st) {
    if (s.by_status[st] == 0) continue;
    fmt::format_to(std::back_inserter(status), R"({}"{}":{})", status.size() > 1 ? "," : "", st,
                   s.by_status[st]);
  }
  std::string codes = "{";
  for (size_t c = 1; c < error_code_count; ++c) {
    if (s.by_code[c] == 0) continue;
    fmt::format_to(std::back_inserter(codes), R"({}"{}":{})", codes.size() > 1 ? "," : "",
                   error_code_name(static_cast<ErrorCode>(c)), s.by_code[c]);
  }
  return fmt::format(R"("status":{}}},"codes":{}}})", status, codes);
}

std::string verdict_json(const Verdict& v) {
  if (!v.checked) return fmt::format(R"({{"checked":false,"skipped":"{}"}})", v.skipped);
  return fmt::format(
      R"({{"checked":true,"ok":{},"server_held":{},"server_sold":{},"expected_held":{},"expected_sold":{},"granted":{},"cancelled":{},"ended":{},"expired":{},"uncertain":{},"unknown_outcomes":{},"mismatched_seats":{},"double_booked":{}}})",
      v.ok, v.server_held, v.server_sold, v.expected_held, v.expected_sold, v.granted, v.cancelled,
      v.ended, v.expired, v.uncertain, v.unknown_outcomes, v.mismatched_seats, v.double_booked);
}

}  // namespace

void print_table(const RunReport& r, std::FILE* out) {
  const Options& o = r.options;
  const Stats& s = r.stats;
  fmt::print(out, "boxoffice-load {} against http://{}:{}: {}\n", scenario_name(o.scenario), o.host,
             o.port, describe_load(o));
  fmt::print(out, "  {} users set up in {:.2f} s; measured {:.2f} s after {} s of warm-up\n",
             r.users, r.setup_s, r.measured_s, o.scenario == Scenario::sale_open ? 0 : o.warmup_s);
  fmt::print(out, "  requests   {:>12}  {:>12.1f}/s\n", s.requests,
             per_s(s.requests, r.measured_s));
  fmt::print(out, "  accepted   {:>12}  {:>12.1f}/s  (2xx)\n", s.accepted,
             per_s(s.accepted, r.measured_s));
  fmt::print(out, "  errors     {:>12}  (no answer, or 5xx; {} failed connection attempts)\n",
             s.errors(), r.connect_errors);
  print_statuses(s, out);
  const Histogram& h = s.latency_ns;
  fmt::print(out, "  latency ms  p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}\n",
             ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)),
             ms(h.percentile(99.9)), ms(h.max()));
  print_kinds(s, r.measured_s, out);
  fmt::print(out, "  client CPU {:.2f} s in {:.2f} s ({:.0f} % of one core)\n", r.client_cpu_s,
             r.run_s, r.run_s > 0 ? 100 * r.client_cpu_s / r.run_s : 0.0);
  if (r.sale_open) print_sale_open(*r.sale_open, out);
  fmt::print(out, "{}\n", describe(r.verdict));
}

std::string to_json(const RunReport& r) {
  const Options& o = r.options;
  const Stats& s = r.stats;
  const Histogram& h = s.latency_ns;
  const double t = r.measured_s;
  std::string json = fmt::format(
      R"({{"scenario":"{}","url":"http://{}:{}","connections":{},"threads":{},"rate":{},"duration_s":{},"warmup_s":{},"seed":{},"users":{},"setup_s":{:.3f},"measured_s":{:.3f},)",
      scenario_name(o.scenario), o.host, o.port, o.connections, o.threads, o.rate_per_s,
      o.duration_s, o.warmup_s, o.seed, r.users, r.setup_s, t);
  fmt::format_to(
      std::back_inserter(json),
      R"("requests":{},"accepted":{},"requests_per_s":{:.1f},"accepted_per_s":{:.1f},"holds_per_s":{:.1f},"purchases_per_s":{:.1f},"errors":{},"timeouts":{},"connect_errors":{},"client_cpu_share":{:.3f},)",
      s.requests, s.accepted, per_s(s.requests, t), per_s(s.accepted, t),
      per_s(s.by_kind[static_cast<size_t>(Kind::hold)].accepted, t),
      per_s(s.by_kind[static_cast<size_t>(Kind::pay)].accepted, t), s.errors(), s.timeouts,
      r.connect_errors, r.run_s > 0 ? r.client_cpu_s / r.run_s : 0.0);
  fmt::format_to(
      std::back_inserter(json),
      R"("p50_ms":{:.3f},"p90_ms":{:.3f},"p99_ms":{:.3f},"p999_ms":{:.3f},"max_ms":{:.3f},{},"kinds":{},"verify":{})",
      ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)),
      ms(h.max()), statuses_json(s), kinds_json(s, t), verdict_json(r.verdict));
  if (r.sale_open) {
    const SaleOpenResult& so = *r.sale_open;
    fmt::format_to(
        std::back_inserter(json),
        R"(,"sale_open":{{"users":{},"seats":{},"winners":{},"gave_up":{},"failed_holds":{},"sold_out_s":{:.3f},"first_come_share":{:.4f}}})",
        so.users, so.seats, so.winners, so.gave_up, so.failed_holds, so.sold_out_s,
        so.first_come_share);
  }
  return json + "}";
}

}  // namespace boxoffice::load
