// boxoffice: the server program. Flags: see `boxoffice --help` and
// docs/API.md ("Running the server").
#include <cstdio>
#include <cstdlib>

#include "net/options.hpp"
#include "net/server.hpp"

int main(int argc, char** argv) {
  const boxoffice::net::OptionsOutcome outcome =
      boxoffice::net::parse_options(argc, argv, [](const char* name) { return std::getenv(name); });
  if (!outcome.options.has_value()) {
    std::fputs(outcome.message.c_str(), outcome.exit_code == 0 ? stdout : stderr);
    std::fputs("\n", outcome.exit_code == 0 ? stdout : stderr);
    return outcome.exit_code;
  }
  return boxoffice::net::run_server(*outcome.options);
}
