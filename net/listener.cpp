#include "net/listener.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <boost/asio/post.hpp>
#include <chrono>

#include "net/session.hpp"

namespace boxoffice::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr int64_t accept_retry_ms = 50;
}

Listener::Listener(std::vector<IoThread*> threads, uint32_t connections_max)
    : threads_(std::move(threads)),
      connections_max_(connections_max),
      acceptor_(threads_.front()->ioc),
      retry_(threads_.front()->ioc) {}

BoundSocket bind_socket(const std::string& host, uint16_t port, std::string* error) {
  boost::system::error_code ec;
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  const asio::ip::address address = asio::ip::make_address(h, ec);
  if (ec) {
    *error = "'" + host + "' is not an IP address";
    return {};
  }
  asio::io_context ioc{1};
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  BoundSocket bound;
  if (!ec) bound.fd = acceptor.release(ec);
  if (ec) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
    return {};
  }
  bound.v6 = address.is_v6();
  return bound;
}

std::string Listener::listen(BoundSocket socket) {
  BOXOFFICE_ASSERT(socket.fd >= 0);
  boost::system::error_code ec;
  acceptor_.assign(socket.v6 ? tcp::v6() : tcp::v4(), socket.fd, ec);
  if (ec) {
    ::close(socket.fd);
    return "cannot listen: " + ec.message();
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen: " + ec.message();
  return "";
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::start() { accept(); }

void Listener::stop() {
  boost::system::error_code ec;
  retry_.cancel();
  acceptor_.close(ec);
}

// On the connection's thread: at the limit, the oldest idle connection of
// this thread makes room (its socket is closed now, so the open files stay
// within the limit while its session winds down); with none idle, or once
// stop() has begun, the new one is closed at once.
void Listener::admit(IoThread& target, uint32_t connections_max, IoSocket socket) {
  ServerShared& shared = target.shared;
  const bool stopping = shared.stopping.load();
  const bool room =
      !stopping && (shared.connections.load(std::memory_order_relaxed) < connections_max ||
                    evict_oldest_idle(target));
  if (!room) {
    if (!stopping) target.metrics.connections_refused.add();
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  shared.connections.fetch_add(1, std::memory_order_relaxed);
  std::make_shared<Session>(std::move(socket), target)->start();
}

void Listener::accept() {
  IoThread& target = *threads_[next_];
  next_ = (next_ + 1) % static_cast<uint32_t>(threads_.size());
  acceptor_.async_accept(
      target.ioc, [this, &target](boost::system::error_code ec, IoSocket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
          const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count();
          if (now_s != last_error_log_s_) {
            spdlog::error("accept failed: {} (retrying)", ec.message());
            last_error_log_s_ = now_s;
          }
          retry_.expires_after(std::chrono::milliseconds(accept_retry_ms));
          retry_.async_wait([this](boost::system::error_code e) {
            if (!e) accept();
          });
          return;
        }
        asio::post(target.ioc, [&target, max = connections_max_, s = std::move(socket)]() mutable {
          admit(target, max, std::move(s));
        });
        accept();
      });
}

}  // namespace boxoffice::net
