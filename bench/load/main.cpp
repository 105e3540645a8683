// boxoffice-load: the HTTP load generator. Exit codes: 0 the run and its check
// succeeded, 1 the run or its check failed, 2 a bad command line.
#include <fmt/format.h>

#include <cstdlib>

#include "bench/load/options.hpp"
#include "bench/load/runner.hpp"

int main(int argc, char** argv) {
  using namespace boxoffice::load;
  const ParseResult parsed = parse_options(argc, argv, std::getenv("BOXOFFICE_ADMIN_KEY"));
  if (!parsed.help.empty()) {
    fmt::print("{}", parsed.help);
    return 0;
  }
  if (!parsed.options) {
    fmt::print(stderr, "boxoffice-load: {}\n(see boxoffice-load --help)\n", parsed.error);
    return 2;
  }
  return run_load(*parsed.options);
}
