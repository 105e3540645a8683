// CpuSteal: how much of the machine's CPU time the hypervisor took for
// something else during a run (the steal column of /proc/stat), so that a
// disturbed run shows in its own figures. bench/cpu_steal.bash is the same
// for the bench scripts.
#pragma once

#include <cstdint>
#include <string_view>

namespace boxoffice::bench {

// The machine's CPU time, in clock ticks: all of it (user through steal) and
// the stolen part.
struct CpuCounters {
  uint64_t total = 0;
  uint64_t steal = 0;
};

// Parses the aggregate "cpu " line of /proc/stat; false if `line` is not one.
bool parse_cpu_line(std::string_view line, CpuCounters* out);

// The counters now; zeros where /proc/stat cannot be read.
CpuCounters read_cpu_counters();

// The share (0 to 1) of CPU time stolen between two readings; 0 when no time
// passed or a reading failed.
double cpu_stolen_share(const CpuCounters& before, const CpuCounters& after);

}  // namespace boxoffice::bench
