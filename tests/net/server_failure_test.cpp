// The server in-process, with each of the core loop's two ways to commit (on
// the core thread, and through the committer thread): concurrent writes are
// all acknowledged and survive a restart, with one I/O thread and with two
// (a batch's replies then go to both), and batches take the way to commit
// the flag says (boxoffice_commits_total); a failed commit (the event log's
// fault injection) is not acknowledged, and the server refuses everything
// after it, on every I/O thread.
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <thread>
#include <vector>

#include "net/server.hpp"
#include "storage/event_log.hpp"
#include "tests/net/api_helpers.hpp"

namespace boxoffice::net {
namespace {

using test::Api;
using test::Response;

// `inline_max` 0: every batch goes through the committer thread.
ServerOptions options_for(const std::string& dir, uint32_t inline_max, uint32_t io_threads = 1) {
  ServerOptions o;
  o.io_threads = io_threads;
  o.listen_host = "127.0.0.1";
  o.listen_port = 0;
  o.data_dir = dir;
  o.inline_commit_commands_max = inline_max;
  return o;
}

// The value of one sample of GET /metrics ("name{labels}"), or -1.
int64_t metric(Api& api, std::string_view sample) {
  const Response r = api.get("/metrics");
  const std::string key = "\n" + std::string(sample) + " ";
  const size_t at = r.body.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(r.body.substr(at + key.size()));
}

constexpr std::string_view commits_on_core = "boxoffice_commits_total{thread=\"core\"}";
constexpr std::string_view commits_on_committer = "boxoffice_commits_total{thread=\"committer\"}";

// Both ways to commit: on the core thread (the default, for small batches)
// and through the committer thread.
const uint32_t inline_maxes[] = {default_inline_commit_commands_max, 0};

// Each way to commit, with one I/O thread and with two.
struct Config {
  uint32_t inline_max;
  uint32_t io_threads;
};
const Config configs[] = {
    {inline_maxes[0], 1}, {inline_maxes[1], 1}, {inline_maxes[0], 2}, {inline_maxes[1], 2}};

TEST_CASE(
    "concurrent writes are all acknowledged and survive a restart, either way to commit, with one "
    "or two I/O threads") {
  spdlog::set_level(spdlog::level::off);
  constexpr int users = 6;
  constexpr int charges = 40;
  for (const Config& config : configs) {
    const uint32_t inline_max = config.inline_max;
    const uint32_t io_threads = config.io_threads;
    CAPTURE(inline_max);
    CAPTURE(io_threads);
    const std::string dir = test::temp_dir("boxoffice-commit-paths");
    std::vector<std::string> tokens;
    {
      Server server(options_for(dir, inline_max, io_threads));
      REQUIRE(server.start() == 0);
      Api setup(server.port());
      for (int u = 0; u < users; u++) tokens.push_back(setup.join("user" + std::to_string(u)));
      // One client at a time, so no batch has one before it in flight: with
      // small batches committed on the core thread none is handed over, and
      // with 0 every one is.
      if (inline_max == 0) {
        CHECK(metric(setup, commits_on_core) == 0);
        CHECK(metric(setup, commits_on_committer) >= users);
      } else {
        CHECK(metric(setup, commits_on_core) >= users);
        CHECK(metric(setup, commits_on_committer) == 0);
      }
      // Each client charges 1, 2, ..., charges on its own connection, all at once.
      std::vector<std::vector<int>> statuses(users);
      std::vector<std::thread> clients;
      for (int u = 0; u < users; u++) {
        clients.emplace_back([&, u] {
          Api api(server.port());
          for (int i = 1; i <= charges; i++) statuses[u].push_back(api.charge(tokens[u], i).status);
        });
      }
      for (std::thread& c : clients) c.join();
      for (int u = 0; u < users; u++) {
        for (const int status : statuses[u]) CHECK(status == 200);
        CHECK(setup.get("/v1/balance", tokens[u]).integer("balance") ==
              charges * (charges + 1) / 2);
      }
      if (inline_max == 0) CHECK(metric(setup, commits_on_core) == 0);
      CHECK(server.stop() == 0);
    }
    Server server(options_for(dir, inline_max));
    REQUIRE(server.start() == 0);
    Api api(server.port());
    for (int u = 0; u < users; u++) {
      CHECK(api.get("/v1/balance", tokens[u]).integer("balance") == charges * (charges + 1) / 2);
    }
    CHECK(server.stop() == 0);
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("after a failed commit nothing undurable is acknowledged and everything is refused") {
  spdlog::set_level(spdlog::level::off);
  for (const Config& config : configs) {
    const uint32_t inline_max = config.inline_max;
    CAPTURE(inline_max);
    CAPTURE(config.io_threads);
    const std::string dir = test::temp_dir("boxoffice-failure");
    std::string token;
    {
      Server server(options_for(dir, inline_max, config.io_threads));
      REQUIRE(server.start() == 0);
      Api api(server.port());
      token = api.join("walt");
      REQUIRE(api.charge(token, 5).status == 200);
      // A second connection, on the other I/O thread when there are two.
      Api other(server.port());
      REQUIRE(other.get("/v1/balance", token).status == 200);

      server.log_for_test().fail_next_write_for_test();
      Response r = api.charge(token, 7);
      CHECK(r.status == 503);
      CHECK(r.code() == "OVERLOADED");
      CHECK(r.headers.at("retry-after") == "1");
      r = api.get("/healthz");
      CHECK(r.status == 503);
      CHECK(r.text("status") == "failed");
      CHECK(api.get("/v1/balance", token).status == 503);
      CHECK(api.get("/v1/concerts").status == 503);
      CHECK(other.get("/v1/balance", token).status == 503);
      CHECK(other.charge(token, 1).status == 503);
      CHECK(server.stop() == 1);
    }
    // Restarted: the acknowledged charge is there (the refused one may or may not be).
    Server server(options_for(dir, inline_max));
    REQUIRE(server.start() == 0);
    Api api(server.port());
    const Response r = api.get("/v1/balance", token);
    CHECK(r.status == 200);
    CHECK((r.integer("balance") == 5 || r.integer("balance") == 12));
    CHECK(server.stop() == 0);
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace boxoffice::net
