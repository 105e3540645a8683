# Sourced by the bench scripts: how much of the machine's CPU time the
# hypervisor took for something else while a run wanted it (the steal column
# of /proc/stat). A run with more than a few % stolen was disturbed and
# should be repeated.
#
#   before=$(cpu_counters); ...the run...; share=$(cpu_stolen_since "$before")

# Prints the machine's CPU time counters: total and steal, in clock ticks.
cpu_counters() {
  awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9 }' /proc/stat
}

# Prints the share (0 to 1) of CPU time stolen since `cpu_counters` printed $1.
cpu_stolen_since() {
  echo "$1 $(cpu_counters)" | awk '{ d = $3 - $1; print (d > 0 ? ($4 - $2) / d : 0) }'
}
