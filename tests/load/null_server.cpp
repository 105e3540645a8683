// boxoffice-null-server: a do-nothing HTTP/1.1 server, the ceiling against which
// boxoffice-load and wrk are measured. One thread, epoll, keep-alive; every
// request (pipelined or not) gets the same 200 with {"status":"ok","lastSeq":0},
// so boxoffice-load's probe of /healthz passes and its ping scenario runs.
//
// Usage: boxoffice-null-server [PORT [STALL_MS]]
//   PORT      default 0: any free port
//   STALL_MS  once a second, stop answering for this long (default 0), like a
//             pause of the whole server: what an open-loop client must see
// Prints "listening on 127.0.0.1:PORT" once it accepts connections; SIGTERM or
// SIGINT stops it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace {

constexpr std::string_view response =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
    "{\"status\":\"ok\",\"lastSeq\":0}";
constexpr size_t read_bytes_max = 64 * 1024;
constexpr size_t pending_bytes_max = 1 << 20;  // a client that sends more unanswered is closed
constexpr int events_max = 256;

volatile sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct Client {
  std::string in;   // bytes of requests not yet complete
  std::string out;  // answers not yet written
  bool waiting_to_write = false;
};

// Length of the first complete request in `in` (headers and Content-Length body), or 0.
size_t complete_request(std::string_view in) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  size_t body = 0;
  const std::string_view head = in.substr(0, end);
  for (const std::string_view name : {"Content-Length:", "content-length:"}) {
    const size_t at = head.find(name);
    if (at != std::string_view::npos)
      body = std::strtoul(head.data() + at + name.size(), nullptr, 10);
  }
  return in.size() >= end + 4 + body ? end + 4 + body : 0;
}

// Writes what it can; watches for writability while answers are left over.
bool flush(int poller, int fd, Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = write(fd, c.out.data(), c.out.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    if (n < 0) break;
    c.out.erase(0, static_cast<size_t>(n));
  }
  const bool waiting = !c.out.empty();
  if (waiting != c.waiting_to_write) {
    epoll_event e{};
    e.events = EPOLLIN | (waiting ? EPOLLOUT : 0u);
    e.data.fd = fd;
    epoll_ctl(poller, EPOLL_CTL_MOD, fd, &e);
    c.waiting_to_write = waiting;
  }
  return true;
}

// Reads what is there, answers every complete request; false when the client is gone.
bool serve(int poller, int fd, Client& c) {
  char buffer[read_bytes_max];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      return false;
    }
    c.in.append(buffer, static_cast<size_t>(n));
  }
  size_t used = 0;
  while (size_t length = complete_request(std::string_view(c.in).substr(used))) {
    used += length;
    c.out += response;
  }
  c.in.erase(0, used);
  if (c.in.size() > pending_bytes_max || c.out.size() > pending_bytes_max) return false;
  return flush(poller, fd, c);
}

int listen_on(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(fd, 4096) != 0) {
    std::perror("boxoffice-null-server: bind/listen");
    std::exit(1);
  }
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
  std::fflush(stdout);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const long port = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  const long stall_ms = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 0;
  if (argc > 3 || port < 0 || port > 65535 || stall_ms < 0 || stall_ms >= 1000) {
    std::fprintf(stderr, "usage: boxoffice-null-server [PORT [STALL_MS]]\n");
    return 2;
  }
  auto last_stall = std::chrono::steady_clock::now();
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  const int listener = listen_on(static_cast<uint16_t>(port));
  const int poller = epoll_create1(0);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = listener;
  epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);
  std::unordered_map<int, Client> clients;
  epoll_event events[events_max];
  while (!stop_requested) {
    if (stall_ms > 0 && std::chrono::steady_clock::now() - last_stall >= std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
      last_stall = std::chrono::steady_clock::now();
    }
    const int n = epoll_wait(poller, events, events_max, 200);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          const int one = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = client;
          epoll_ctl(poller, EPOLL_CTL_ADD, client, &e);
          clients[client];
        }
      } else if (!serve(poller, fd, clients[fd])) {
        close(fd);
        clients.erase(fd);
      }
    }
  }
  return 0;
}
