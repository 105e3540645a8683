// Test support: the real `boxoffice` binary on a free port with a temporary
// data directory, and a small blocking HTTP/1.1 client.
//
// ServerProcess starts the binary (its path comes from the build:
// BOXOFFICE_BINARY), polls GET /healthz until it answers, and stops it with
// SIGTERM (or SIGKILL, for crash tests) on request or at destruction. Nothing
// here sleeps to wait for a condition it can poll.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simdjson.h>
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace boxoffice::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

inline std::string temp_dir(const char* prefix) {
  std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// A port nobody listens on now (the kernel's choice for port 0).
inline uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  bool closed = false;                         // the server closed the connection after it

  // A field of the JSON body by path ("error/code", "dates/0/date").
  simdjson::dom::element json(std::string_view pointer = "") const {
    if (!doc_) {
      doc_ = std::make_shared<Parsed>();
      doc_->padded = simdjson::padded_string(body);
      auto r = doc_->parser.parse(doc_->padded);
      if (r.error()) FAIL("the body is not JSON: " << body);
      doc_->root = r.value();
    }
    if (pointer.empty()) return doc_->root;
    std::string p = "/" + std::string(pointer);
    auto r = doc_->root.at_pointer(p);
    if (r.error()) FAIL("no " << pointer << " in " << body);
    return r.value();
  }
  int64_t integer(std::string_view pointer) const { return int64_t(json(pointer)); }
  std::string text(std::string_view pointer) const {
    return std::string(std::string_view(json(pointer)));
  }
  bool has(std::string_view pointer) const {
    json();
    return !doc_->root.at_pointer("/" + std::string(pointer)).error();
  }
  std::string code() const { return text("error/code"); }

 private:
  struct Parsed {
    simdjson::dom::parser parser;
    simdjson::padded_string padded;
    simdjson::dom::element root;
  };
  mutable std::shared_ptr<Parsed> doc_;
};

// One keep-alive connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    socket_.set_option(asio::ip::tcp::no_delay(true));
  }

  using Headers = std::vector<std::pair<std::string, std::string>>;

  Response request(http::verb method, const std::string& target, const std::string& body = "",
                   const Headers& headers = {}) {
    send(method, target, body, headers);
    return receive();
  }
  void send(http::verb method, const std::string& target, const std::string& body = "",
            const Headers& headers = {}) {
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(socket_, req);
  }
  Response receive() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    Response r;
    if (ec) {
      r.status = -1;
      r.body = ec.message();
      return r;
    }
    const auto& res = parser.get();
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    r.closed = !res.keep_alive();
    return r;
  }
  // Raw bytes, for hostile input.
  void write_raw(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Reads until the server closes (or `limit` bytes); returns what came.
  std::string read_until_close(size_t limit = 1 << 20) {
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    char chunk[4096];
    beast::error_code ec;
    while (out.size() < limit) {
      const size_t n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) break;
      out.append(chunk, n);
    }
    return out;
  }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
  beast::flat_buffer buffer_;
};

class ServerProcess {
 public:
  // `args` are extra flags. The data directory is kept across restart().
  explicit ServerProcess(std::vector<std::string> args = {},
                         std::optional<std::string> data_dir = std::nullopt)
      : args_(std::move(args)),
        data_dir_(data_dir ? *data_dir : temp_dir("boxoffice-test")),
        owns_dir_(!data_dir) {
    start();
  }
  ~ServerProcess() {
    if (pid_ > 0) stop();
    if (owns_dir_) std::filesystem::remove_all(data_dir_);
    std::filesystem::remove(log_path_);
  }

  void start() {
    port_ = free_port();
    log_path_ = data_dir_ + ".log";
    std::vector<std::string> argv = {BOXOFFICE_BINARY, "--listen",
                                     "127.0.0.1:" + std::to_string(port_), "--data-dir", data_dir_};
    // Defaults of the tests, unless the test gives its own.
    for (const auto& [flag, value] :
         {std::pair<std::string, std::string>{"--fsync", "on"}, {"--log-level", "warn"}}) {
      if (std::find(args_.begin(), args_.end(), flag) == args_.end()) {
        argv.push_back(flag);
        argv.push_back(value);
      }
    }
    argv.insert(argv.end(), args_.begin(), args_.end());
    pid_ = spawn(argv, log_path_);
    wait_until_up();
  }

  // SIGTERM; returns the exit code.
  int stop() { return signal_and_wait(SIGTERM); }
  // SIGKILL: a crash. Returns 128 + SIGKILL, or how the server ended if it
  // had ended already.
  int kill9() { return signal_and_wait(SIGKILL); }
  void restart() { start(); }
  // Restarts with other extra flags (the same data directory).
  void restart(std::vector<std::string> args) {
    args_ = std::move(args);
    start();
  }

  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  std::string log() const {
    std::FILE* f = std::fopen(log_path_.c_str(), "r");
    if (f == nullptr) return "";
    std::string out;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
  }

  static pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    return pid;
  }

  // Runs the binary to completion with `args`; returns the exit code and output.
  static std::pair<int, std::string> run_to_exit(std::vector<std::string> args) {
    args.insert(args.begin(), BOXOFFICE_BINARY);
    const std::string log_path = temp_dir("boxoffice-out") + "/out";
    const pid_t pid = spawn(args, log_path);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::string out;
    if (std::FILE* f = std::fopen(log_path.c_str(), "r")) {
      char buf[4096];
      size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      std::fclose(f);
    }
    std::filesystem::remove_all(std::filesystem::path(log_path).parent_path());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
  }

 private:
  void wait_until_up() {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("the server exited during start-up: " << log());
      }
      try {
        Client c(port_);
        const Response r = c.request(http::verb::get, "/healthz");
        if (r.status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("the server did not come up: " << log());
  }

  int signal_and_wait(int sig) {
    REQUIRE(pid_ > 0);
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::vector<std::string> args_;
  std::string data_dir_;
  bool owns_dir_;
  std::string log_path_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Calls `f` until it returns true or `timeout` passes; returns its last answer.
template <typename F>
bool poll_until(F&& f, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

}  // namespace boxoffice::test
