// Listener: accepts connections and spreads them over the I/O threads.
//
// Contract: the acceptor lives on I/O thread 0; each new connection is
// handed round-robin to an I/O thread and lives there. At connections_max
// open connections that thread closes its least recently active idle
// connection to make room (counted; clients reconnect, as after an idle
// timeout); when it has none idle, the new connection is closed at once
// (counted) and busy connections are not touched. An accept error such as running out
// of file descriptors is logged (at most once a second) and retried after a
// short pause, never in a busy loop. stop() closes the acceptor.
//
// The server binds its address (bind_socket) before it touches the data
// directory, so that a taken or forbidden address fails the start with
// nothing written, and listens on it (Listener::listen) only once it can
// serve: a client that connects during recovery is refused, not kept waiting.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "net/io_thread.hpp"

namespace boxoffice::net {

// A TCP socket bound to an address and not listening yet; fd -1: none.
struct BoundSocket {
  int fd = -1;
  bool v6 = false;
};

// Binds host:port ("localhost": 127.0.0.1). On failure the socket's fd is
// -1 and *error says what went wrong.
BoundSocket bind_socket(const std::string& host, uint16_t port, std::string* error);

class Listener {
 public:
  Listener(std::vector<IoThread*> threads, uint32_t connections_max);

  // Takes over a socket from bind_socket (closing it on failure) and
  // listens on it; returns "" or what went wrong.
  std::string listen(BoundSocket socket);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Starts accepting (call once, before the I/O threads run or on thread 0).
  void start();
  // Thread 0: stops accepting.
  void stop();

 private:
  void accept();
  static void admit(IoThread& target, uint32_t connections_max, IoSocket socket);

  std::vector<IoThread*> threads_;
  uint32_t connections_max_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  uint32_t next_ = 0;
  int64_t last_error_log_s_ = 0;
};

}  // namespace boxoffice::net
