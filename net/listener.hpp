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
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "net/io_thread.hpp"

namespace boxoffice::net {

class Listener {
 public:
  Listener(std::vector<IoThread*> threads, uint32_t connections_max);

  // Binds and listens; returns "" or what went wrong.
  std::string bind(const std::string& host, uint16_t port);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Starts accepting (call once, before the I/O threads run or on thread 0).
  void start();
  // Thread 0: stops accepting.
  void stop();

 private:
  void accept();
  static void admit(IoThread& target, uint32_t connections_max,
                    boost::asio::ip::tcp::socket socket);

  std::vector<IoThread*> threads_;
  uint32_t connections_max_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  uint32_t next_ = 0;
  int64_t last_error_log_s_ = 0;
};

}  // namespace boxoffice::net
