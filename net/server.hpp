// The server: start-up, recovery, serving, shutdown.
//
// Contract of run_server(options):
//  1. Prepares: raises the open-files limit (and lowers connections-max to
//     fit it), creates the data directory, loads or creates the token
//     secret, opens the event log. Any of these failing is exit code 2.
//  2. Recovers: loads the newest snapshot (if any) and applies every event
//     after it, then begins serving at the current time. On an empty log
//     with --demo-catalog on, commits a demo concert first.
//  3. Binds --listen (exit code 2 if it cannot), starts the group committer,
//     the core thread and the I/O threads, and serves.
//  4. On SIGINT or SIGTERM: stops accepting, lets every connection answer
//     what it has read and close (at most shutdown_grace_ms), lets the core
//     commit and answer everything queued, closes the log, returns 0.
//  A failure while running (a failed commit) is logged; the server answers
//  503 from then on and exits 1 when stopped.
#pragma once

#include <cstdint>
#include <memory>

#include "net/options.hpp"

namespace boxoffice::storage {
class EventLog;
}

namespace boxoffice::net {

// Sets up logging, runs a Server until SIGINT or SIGTERM, returns the exit
// code.
int run_server(const ServerOptions& options);

// The server as an object (run_server uses it; tests run it in-process).
class Server {
 public:
  explicit Server(const ServerOptions& options);
  ~Server();  // stop(), if started
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Steps 1 to 3. Returns 0 once serving, else the exit code (nothing runs).
  int start();
  // The port it listens on. REQUIRES: started.
  uint16_t port() const;
  // Step 4. Returns the exit code: 0, or 1 after a failure while running.
  int stop();

  // Tests only: the event log (for its fault injection).
  storage::EventLog& log_for_test();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boxoffice::net
