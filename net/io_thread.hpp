// IoThread: one HTTP I/O thread with its own single-threaded io_context,
// request parser, ingress ring index and metrics. A connection lives on one
// IoThread for its whole life (its io_context is its strand).
//
// ServerShared: what every connection may read: limits, the ingress, the
// open-connection count, the stop flag, and what /healthz and /metrics
// show.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "net/ingress.hpp"
#include "net/metrics.hpp"
#include "net/request_parser.hpp"

namespace boxoffice::net {

class Session;

// A connection's socket, bound to its I/O thread's io_context by type: its
// operations dispatch straight to that context, without the type-erased
// executor (any_io_executor) of asio's default socket, whose copies, moves
// and destruction at every read and write were 9 % of the I/O thread's
// instructions in the hold storm.
using IoSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

struct ServerShared {
  Ingress* ingress = nullptr;
  CoreMetrics* core_metrics = nullptr;
  std::vector<const IoMetrics*> io_metrics;
  int64_t idle_timeout_ms = 60000;
  bool fsync = true;
  std::atomic<int64_t> connections{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> failed{false};  // a commit failed: writes are refused
};

struct IoThread {
  IoThread(uint32_t index_, const TokenSecret& secret, std::optional<std::string> admin_key,
           ServerShared& shared_)
      : index(index_), parser(secret, std::move(admin_key)), shared(shared_) {}

  const uint32_t index;  // also its ingress ring
  RequestParser parser;
  IoMetrics metrics;
  ServerShared& shared;
  std::unordered_set<Session*> sessions;  // open connections, this thread only
  uint64_t sessions_opened = 0;           // connections ever opened here (their serials)
  // Sessions waiting for a new request with nothing pending, least recently
  // active first (an intrusive list through the sessions; this thread only).
  Session* idle_oldest = nullptr;
  Session* idle_newest = nullptr;
  IngressItem scratch;             // the request being parsed
  int64_t overload_logged_s = -1;  // when a full ingress queue was last logged
  std::thread thread;
  // Last, so destroyed first: handlers still queued on it hold sessions,
  // whose destructors use the members above.
  boost::asio::io_context ioc{1};
};

}  // namespace boxoffice::net
