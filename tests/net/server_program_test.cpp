// The boxoffice program's exit codes and messages.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/net/server_fixture.hpp"

namespace boxoffice::test {
namespace {

TEST_CASE("--help exits 0 and lists the flags") {
  const auto [code, out] = ServerProcess::run_to_exit({"--help"});
  CHECK(code == 0);
  CHECK(out.find("--hold-ttl-seconds") != std::string::npos);
  CHECK(out.find("BOXOFFICE_") != std::string::npos);
}

TEST_CASE("a bad flag exits 2 naming it") {
  auto [code, out] = ServerProcess::run_to_exit({"--active-limit", "0"});
  CHECK(code == 2);
  CHECK(out.find("--active-limit") != std::string::npos);
  std::tie(code, out) = ServerProcess::run_to_exit({"--bogus"});
  CHECK(code == 2);
  CHECK(out.find("bogus") != std::string::npos);
}

TEST_CASE("an unusable --listen or --data-dir exits 2 naming it") {
  const std::string dir = temp_dir("boxoffice-program");
  // --listen: not an address; then a port already taken.
  auto [code, out] = ServerProcess::run_to_exit(
      {"--listen", "nowhere.invalid:1", "--data-dir", dir + "/a", "--log-level", "error"});
  CHECK(code == 2);
  CHECK(out.find("--listen") != std::string::npos);
  // Nothing is written before the address is bound, not even the directory.
  CHECK_FALSE(std::filesystem::exists(dir + "/a"));
  {
    ServerProcess running;
    std::tie(code, out) =
        ServerProcess::run_to_exit({"--listen", "127.0.0.1:" + std::to_string(running.port()),
                                    "--data-dir", dir + "/b", "--log-level", "error"});
    CHECK(code == 2);
    CHECK(out.find("--listen") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/b"));
    // The same data directory as a running server: refused, not shared.
    std::tie(code, out) = ServerProcess::run_to_exit(
        {"--listen", "127.0.0.1:0", "--data-dir", running.data_dir(), "--log-level", "error"});
    CHECK(code == 2);
    CHECK(out.find("--data-dir") != std::string::npos);
  }
  // --data-dir: a file, and a directory that is not a boxoffice one.
  std::ofstream(dir + "/file") << "x";
  std::tie(code, out) = ServerProcess::run_to_exit(
      {"--listen", "127.0.0.1:0", "--data-dir", dir + "/file", "--log-level", "error"});
  CHECK(code == 2);
  CHECK(out.find("--data-dir") != std::string::npos);
  std::filesystem::create_directories(dir + "/other");
  std::ofstream(dir + "/other/notes.txt") << "mine";
  std::tie(code, out) = ServerProcess::run_to_exit(
      {"--listen", "127.0.0.1:0", "--data-dir", dir + "/other", "--log-level", "error"});
  CHECK(code == 2);
  CHECK(out.find("--data-dir") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the token secret is owner-only and survives a restart with the log") {
  ServerProcess server;
  const auto perms = std::filesystem::status(server.data_dir() + "/token-secret").permissions();
  CHECK((perms & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

}  // namespace
}  // namespace boxoffice::test
