// ServerOptions: the server's flags, from the command line and the
// environment.
//
// Contract: every flag `--name` may also come from the environment variable
// BOXOFFICE_NAME (capitals, '_' for '-'); the command line wins. Every
// numeric flag has a documented range and unit; a value out of range, a
// malformed value or an unknown flag gives a message naming the flag and
// exit code 2. `--help` prints every flag with its default and unit and
// exits 0. Whether --listen can be bound and --data-dir used is checked
// later, at start-up (also exit code 2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/config.hpp"

namespace boxoffice::net {

// Fixed limits of the HTTP layer (not flags), with their units.
// A request's header block: start line and fields, through the blank line.
inline constexpr uint32_t header_bytes_max = 16 * 1024;
inline constexpr uint32_t pipeline_depth_max = 8;  // requests read ahead per connection
inline constexpr int64_t write_timeout_ms = 30 * 1000;
inline constexpr int64_t tick_interval_ms = 100;
inline constexpr int64_t shutdown_grace_ms = 8 * 1000;
inline constexpr size_t batch_commands_max = 4096;  // commands the core decides in one batch
// Up to this many commands a batch with nothing in flight is committed on the
// core thread: deciding that many takes tens of microseconds, a small part of
// a sync, so handing the sync to the committer thread (two wake-ups between
// threads) costs more than deciding the next batch meanwhile would gain.
inline constexpr uint32_t default_inline_commit_commands_max = 256;

// --io-threads is 1 to this.
inline constexpr uint32_t io_threads_max = 64;

struct ServerOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string data_dir = "./data";
  uint32_t io_threads = 1;
  std::optional<std::string> admin_key;  // none: every admin call is 403
  Config engine;
  bool fsync = true;
  bool demo_catalog = true;
  std::string log_level = "info";
  uint32_t connections_max = 10000;
  uint32_t ingress_queue_max = 8192;  // commands per I/O thread's queue
  int64_t idle_timeout_ms = 60 * 1000;
  uint64_t snapshot_every_events = 1000000;
  // Batches of up to this many commands, with nothing in flight, are
  // committed on the core thread (core_loop.hpp); 0 sends every batch
  // through the committer thread (the tests use it to drive both ways).
  uint32_t inline_commit_commands_max = default_inline_commit_commands_max;

  // One line with every setting (the admin key is not shown).
  std::string describe() const;
};

struct OptionsOutcome {
  std::optional<ServerOptions> options;  // set: run the server
  int exit_code = 0;                     // otherwise: exit with this
  std::string message;                   // to stdout (help) or stderr (error)
};

// `getenv` returns the value of an environment variable or nullptr.
OptionsOutcome parse_options(int argc, const char* const* argv,
                             const std::function<const char*(const char*)>& getenv);

}  // namespace boxoffice::net
