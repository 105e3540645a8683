// ReplayOptions: boxoffice-replay's command line.
//
// Contract of parse_replay_options:
// - The form is `boxoffice-replay COMMAND [options]`, COMMAND one of verify,
//   audit, dump, stats, checkpoint (which also takes a target directory).
// - --data-dir defaults to ./data; when it is not given, the environment
//   variable BOXOFFICE_DATA_DIR is used, as the server does.
// - `--help` alone prints the overview, `COMMAND --help` that command's
//   flags; both to stdout with exit code 0.
// - A usage error (no command or an unknown one, an unknown or repeated flag,
//   a bad value, a missing required option or argument, a stray argument)
//   gives exit code 2 and a message naming the command and the flag.
// - --until takes a sequence number (digits only) or an RFC 3339 instant;
//   anything else is a usage error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tools/replay/replayer.hpp"

namespace boxoffice::replay {

enum class Subcommand : uint8_t { verify = 0, audit = 1, dump = 2, stats = 3, checkpoint = 4 };

const char* subcommand_name(Subcommand command);

// The server's default --active-limit, which verify checks by default.
inline constexpr uint32_t verify_active_limit_default = 1000;

struct ReplayOptions {
  Subcommand command = Subcommand::verify;
  std::string data_dir = "./data";
  Until until;                                          // verify, audit, dump
  uint64_t from_seq = 1;                                // dump
  AuditFilter filter;                                   // audit: by user or by seat, never both
  uint32_t active_limit = verify_active_limit_default;  // verify; 0: not checked
  bool json = false;                                    // verify, stats
  bool progress = true;                                 // verify, audit: progress lines on stderr
  std::string checkpoint_dir;  // checkpoint: the copy to make, not existing yet
};

struct ReplayOptionsOutcome {
  std::optional<ReplayOptions> options;  // set: run the command
  int exit_code = 0;                     // otherwise: exit with this
  std::string message;                   // to stdout (help) or stderr (error)
};

// `getenv` returns the value of an environment variable or nullptr.
ReplayOptionsOutcome parse_replay_options(int argc, const char* const* argv,
                                          const std::function<const char*(const char*)>& getenv);

}  // namespace boxoffice::replay
