// A whole run of boxoffice-load: reach the server, set up through the API,
// run the scenario with a progress line per second, check the seat maps,
// give the tokens back, and report. Returns the process's exit code: 0 when
// the run and its check succeeded, 1 otherwise (the reason is on stderr).
#pragma once

#include "bench/load/options.hpp"

namespace boxoffice::load {

int run_load(const Options& options);

}  // namespace boxoffice::load
