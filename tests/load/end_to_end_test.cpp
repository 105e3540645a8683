// boxoffice-load as a process: against the do-nothing server (always), and a
// short run of each scenario against a real boxoffice (skipped, exit 77, when
// none is built).
//
// Usage: load_end_to_end null|server [doctest options]
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string server_path() {
  const char* env = std::getenv("BOXOFFICE_SERVER");
  return env != nullptr ? env : BOXOFFICE_SERVER_PATH;
}

// Starts argv[0] with stdout into `out_fd` (or a log file), stderr into `log`.
pid_t spawn(const std::vector<std::string>& args, int out_fd, const std::string& log) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out_fd >= 0 ? out_fd : log_fd, 1);
    dup2(log_fd, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// The status of GET /healthz, or 0 when nothing answers.
int health_status(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const char request[] = "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    char buffer[256] = {};
    if (write(fd, request, sizeof request - 1) > 0 && read(fd, buffer, sizeof buffer - 1) > 12) {
      status = std::atoi(buffer + 9);  // "HTTP/1.1 200"
    }
  }
  close(fd);
  return status;
}

struct Outcome {
  int exit_code = -1;
  std::string out;
};

Outcome run_load(const std::string& args) {
  const std::string command = std::string(BOXOFFICE_LOAD_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Outcome o;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) o.out.append(buffer, n);
  const int status = pclose(pipe);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// The number after "key": in the JSON line of the output.
double number(const std::string& out, const std::string& key) {
  const size_t at = out.find("\"" + key + "\":");
  REQUIRE_MESSAGE(at != std::string::npos, key << " missing in: " << out);
  return std::strtod(out.c_str() + at + key.size() + 3, nullptr);
}

std::string read_log(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return {};
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  std::fclose(f);
  return text;
}

// Polls GET /healthz until it answers 200; fails if the process exits first.
void wait_healthy(pid_t pid, uint16_t port, const std::string& log) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (health_status(port) != 200) {
    int status = 0;
    REQUIRE_MESSAGE(waitpid(pid, &status, WNOHANG) == 0, "the server exited: " << read_log(log));
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no /healthz: " << read_log(log));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // between polls
  }
}

struct NullServer {
  explicit NullServer(int stall_ms = 0) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    log =
        (fs::temp_directory_path() / ("null-server-" + std::to_string(getpid()) + ".log")).string();
    pid = spawn({BOXOFFICE_NULL_SERVER_PATH, "0", std::to_string(stall_ms)}, fds[1], log);
    close(fds[1]);
    char line[64] = {};
    size_t used = 0;
    while (used < sizeof line - 1 && read(fds[0], line + used, 1) == 1 && line[used] != '\n')
      ++used;
    close(fds[0]);
    const char* colon = std::strrchr(line, ':');
    REQUIRE_MESSAGE(colon != nullptr, "null server said: " << line);
    port = static_cast<uint16_t>(std::atoi(colon + 1));
  }
  ~NullServer() {
    stop(pid);
    fs::remove(log);
  }
  pid_t pid = 0;
  uint16_t port = 0;
  std::string log;
};

}  // namespace

TEST_CASE("null: closed loop against the do-nothing server") {
  NullServer server;
  const Outcome o = run_load("--scenario ping --port " + std::to_string(server.port) +
                             " --duration 1 --warmup 0 --connections 8 --json");
  CHECK_MESSAGE(o.exit_code == 0, o.out);
  CHECK(number(o.out, "requests") > 1000);
  CHECK(number(o.out, "errors") == 0);
  CHECK(number(o.out, "accepted") == number(o.out, "requests"));
  CHECK(number(o.out, "p99_ms") > 0);
}

TEST_CASE("null: open loop keeps its schedule") {
  NullServer server;
  const Outcome o = run_load("--scenario ping --port " + std::to_string(server.port) +
                             " --duration 2 --warmup 0 --connections 4 --rate 2000 --json");
  CHECK_MESSAGE(o.exit_code == 0, o.out);
  CHECK(number(o.out, "requests_per_s") == doctest::Approx(2000).epsilon(0.05));
}

TEST_CASE("null: a server pause shows in open-loop percentiles, not only in the max") {
  NullServer server(200);  // 200 ms without an answer, once a second
  const std::string base = "--scenario ping --port " + std::to_string(server.port) +
                           " --duration 3 --warmup 0 --connections 4 --json ";
  const Outcome open = run_load(base + "--rate 1000");
  CHECK_MESSAGE(open.exit_code == 0, open.out);
  // About a sixth of the requests were due during a pause: they waited up to 200 ms.
  CHECK(number(open.out, "p99_ms") > 100);
  CHECK(number(open.out, "p90_ms") > 10);
  const Outcome closed = run_load(base);
  CHECK_MESSAGE(closed.exit_code == 0, closed.out);
  // Closed loop: only the 4 requests in flight per pause wait; percentiles hide it.
  CHECK(number(closed.out, "max_ms") > 100);
  CHECK(number(closed.out, "p99_ms") < 50);
}

TEST_CASE("null: nobody listening is a clean error, not a hang") {
  const Outcome o =
      run_load("--scenario ping --port " + std::to_string(free_port()) + " --duration 1");
  CHECK(o.exit_code == 1);
  CHECK(o.out.find("cannot reach") != std::string::npos);
}

// A boxoffice on a free port with a fresh data directory, stopped and removed
// at the end of the scope.
struct Server {
  Server() {
    dir = fs::temp_directory_path() / ("boxoffice-load-e2e-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    port = free_port();
    log = (dir / "server.log").string();
    pid = spawn({server_path(), "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                 (dir / "data").string(), "--admin-key", "e2e-key", "--demo-catalog", "off",
                 "--active-limit", "200"},
                -1, log);
    wait_healthy(pid, port, log);
  }
  ~Server() {
    stop(pid);
    fs::remove_all(dir);
  }
  fs::path dir;
  uint16_t port = 0;
  std::string log;
  pid_t pid = 0;
};

TEST_CASE("server: every scenario against a real boxoffice, and the check passes") {
  Server server;
  const std::string base = "--url http://127.0.0.1:" + std::to_string(server.port) +
                           " --admin-key e2e-key --warmup 0 --json ";
  SUBCASE("hold-storm") {
    const Outcome o = run_load(
        base + "--scenario hold-storm --duration 2 --connections 16 --dates 2 --seats 100");
    CHECK_MESSAGE(o.exit_code == 0, o.out);
    CHECK(number(o.out, "holds_per_s") > 0);
    CHECK(o.out.find(R"("verify":{"checked":true,"ok":true)") != std::string::npos);
  }
  SUBCASE("hot-spot hold-storm in open loop") {
    const Outcome o = run_load(
        base +
        "--scenario hold-storm --duration 2 --connections 8 --seats 50 --zipf 1.2 --rate 500");
    CHECK_MESSAGE(o.exit_code == 0, o.out);
    CHECK(number(o.out, "requests_per_s") == doctest::Approx(500).epsilon(0.1));
    CHECK(o.out.find(R"("ok":true)") != std::string::npos);
  }
  SUBCASE("purchase sells out and every sold seat is accounted for") {
    const Outcome o =
        run_load(base + "--scenario purchase --duration 10 --connections 8 --seats 40");
    CHECK_MESSAGE(o.exit_code == 0, o.out);
    CHECK(number(o.out, "server_sold") == 40);
    CHECK(o.out.find(R"("ok":true)") != std::string::npos);
  }
  SUBCASE("sale-open: 300 users for 60 seats") {
    const Outcome o = run_load(base +
                               "--scenario sale-open --duration 30 --connections 16 --users 300 "
                               "--seats 60 --poll-interval-ms 50");
    CHECK_MESSAGE(o.exit_code == 0, o.out);
    CHECK(number(o.out, "winners") == 60);
    CHECK(number(o.out, "sold_out_s") > 0);
    CHECK(number(o.out, "gave_up") == 240);
    CHECK(o.out.find(R"("ok":true)") != std::string::npos);
  }
  SUBCASE("mixed and queue-poll") {
    Outcome o = run_load(base +
                         "--scenario mixed --duration 1 --connections 8 --seats 100 --mix "
                         "hold=2,poll=2,seat=1,dates=1,seats=1");
    CHECK_MESSAGE(o.exit_code == 0, o.out);
    o = run_load(base + "--scenario queue-poll --duration 1 --connections 8 --users 300");
    CHECK_MESSAGE(o.exit_code == 0, o.out);
    CHECK(number(o.out, "accepted") > 0);
  }
  SUBCASE("more users than active slots is a clear set-up error") {
    const Outcome o = run_load(
        base + "--scenario hold-storm --duration 1 --connections 8 --users 250 --timeout 2");
    CHECK(o.exit_code == 1);
    CHECK(o.out.find("--active-limit") != std::string::npos);
  }
}

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "null" && mode != "server") {
    std::fprintf(stderr, "usage: load_end_to_end null|server [doctest options]\n");
    return 2;
  }
  if (mode == "server" && access(server_path().c_str(), X_OK) != 0) {
    std::printf(
        "SKIPPED: no boxoffice server at %s (build the boxoffice target, or set "
        "BOXOFFICE_SERVER)\n",
        server_path().c_str());
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  doctest::Context context;
  context.applyCommandLine(argc - 1, argv + 1);
  context.addFilter("test-case", (mode + ":*").c_str());
  return context.run();
}
