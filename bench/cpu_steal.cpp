#include "bench/cpu_steal.hpp"

#include <charconv>
#include <cstdio>

namespace boxoffice::bench {

namespace {
// user nice system idle iowait irq softirq steal: the first eight fields
// (guest time is already counted in user).
constexpr int fields_counted = 8;
constexpr int steal_field = 7;  // zero-based
constexpr size_t stat_line_bytes_max = 512;
}  // namespace

bool parse_cpu_line(std::string_view line, CpuCounters* out) {
  constexpr std::string_view prefix = "cpu ";
  if (line.substr(0, prefix.size()) != prefix) return false;
  const char* p = line.data() + prefix.size();
  const char* end = line.data() + line.size();
  CpuCounters c;
  for (int i = 0; i < fields_counted; i++) {
    while (p < end && *p == ' ') p++;
    uint64_t v = 0;
    const auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || next == p) return false;
    p = next;
    c.total += v;
    if (i == steal_field) c.steal = v;
  }
  *out = c;
  return true;
}

CpuCounters read_cpu_counters() {
  CpuCounters c;
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return c;
  char line[stat_line_bytes_max];
  if (std::fgets(line, sizeof line, f) != nullptr) parse_cpu_line(line, &c);
  std::fclose(f);
  return c;
}

double cpu_stolen_share(const CpuCounters& before, const CpuCounters& after) {
  if (after.total <= before.total || after.steal < before.steal) return 0;
  return static_cast<double>(after.steal - before.steal) /
         static_cast<double>(after.total - before.total);
}

}  // namespace boxoffice::bench
