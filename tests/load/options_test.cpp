#include "bench/load/options.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace boxoffice::load {
namespace {

ParseResult parse(std::vector<const char*> args, const char* env_key = nullptr) {
  args.insert(args.begin(), "boxoffice-load");
  return parse_options(static_cast<int>(args.size()), args.data(), env_key);
}

std::string error_of(std::vector<const char*> args) {
  const ParseResult r = parse(std::move(args), "key");
  CHECK(!r.options);
  return r.error;
}

}  // namespace

TEST_CASE("defaults") {
  const ParseResult r = parse({"--admin-key", "k"});
  REQUIRE(r.options);
  const Options& o = *r.options;
  CHECK(o.host == "127.0.0.1");
  CHECK(o.port == 8080);
  CHECK(o.scenario == Scenario::hold_storm);
  CHECK(o.connections == 64);
  CHECK(o.threads == 1);
  CHECK(o.rate_per_s == 0);
  CHECK(o.duration_s == 10);
  CHECK(o.verify);
  CHECK(!o.json);
  CHECK(default_users(o) == 64);
}

TEST_CASE("every flag is read") {
  const ParseResult r = parse({"--url",
                               "http://localhost:9090/",
                               "--admin-key",
                               "k",
                               "--scenario",
                               "sale-open",
                               "--duration",
                               "30",
                               "--warmup",
                               "0",
                               "--connections",
                               "128",
                               "--threads",
                               "2",
                               "--seed",
                               "77",
                               "--json",
                               "--no-verify",
                               "--dates",
                               "3",
                               "--seats",
                               "500",
                               "--price",
                               "0",
                               "--users",
                               "9000",
                               "--zipf",
                               "1.1",
                               "--holds-per-user",
                               "8",
                               "--poll-interval-ms",
                               "100",
                               "--timeout",
                               "5",
                               "--mix",
                               "hold=1,seats=2"});
  REQUIRE(r.options);
  const Options& o = *r.options;
  CHECK(o.host == "localhost");
  CHECK(o.port == 9090);
  CHECK(o.scenario == Scenario::sale_open);
  CHECK(o.duration_s == 30);
  CHECK(o.warmup_s == 0);
  CHECK(o.connections == 128);
  CHECK(o.threads == 2);
  CHECK(o.seed == 77);
  CHECK(o.json);
  CHECK(!o.verify);
  CHECK(o.dates == 3);
  CHECK(o.seats == 500);
  CHECK(o.price == 0);
  CHECK(o.users == 9000);
  CHECK(o.zipf_exponent == doctest::Approx(1.1));
  CHECK(o.holds_per_user == 8);
  CHECK(o.poll_interval_ms == 100);
  CHECK(o.timeout_s == 5);
  CHECK(o.mix.hold == 1);
  CHECK(o.mix.seats == 2);
  CHECK(o.mix.poll == 0);
}

TEST_CASE("the admin key comes from the environment unless the flag is given") {
  CHECK(parse({}, "from-env").options->admin_key == "from-env");
  CHECK(parse({"--admin-key", "flag"}, "from-env").options->admin_key == "flag");
  CHECK(parse({"--scenario", "ping"}).options);  // ping and queue-poll need no key
  CHECK(parse({}).error.find("--admin-key") != std::string::npos);
}

TEST_CASE("bad flags are refused with a message naming them") {
  CHECK(error_of({"--bogus"}).find("bogus") != std::string::npos);
  CHECK(error_of({"--connections", "0"}).find("--connections") != std::string::npos);
  CHECK(error_of({"--connections", "-1"}).find("--connections") != std::string::npos);
  CHECK(error_of({"--connections", "10001"}).find("1 to 10000") != std::string::npos);
  CHECK(error_of({"--duration", "ten"}).find("--duration") != std::string::npos);
  CHECK(error_of({"--duration", "5s"}).find("--duration") != std::string::npos);
  CHECK(error_of({"--rate", "1e3"}).find("--rate") != std::string::npos);
  CHECK(error_of({"--seats", "10001"}).find("--seats") != std::string::npos);
  CHECK(error_of({"--zipf", "-1"}).find("--zipf") != std::string::npos);
  CHECK(error_of({"--zipf", "nan"}).find("--zipf") != std::string::npos);
  CHECK(error_of({"--scenario", "storm"}).find("--scenario") != std::string::npos);
  CHECK(error_of({"--threads", "4", "--connections", "2"}).find("--threads") != std::string::npos);
  CHECK(error_of({"--url", "ftp://x:1"}).find("--url") != std::string::npos);
  CHECK(error_of({"--url", "http://x:1/api"}).find("--url") != std::string::npos);
  CHECK(error_of({"--url", "http://x:99999"}).find("--url") != std::string::npos);
  CHECK(error_of({"--url", "http://x:1", "--port", "2"}).find("--url") != std::string::npos);
  CHECK(error_of({"--scenario", "sale-open", "--rate", "100"}).find("--rate") != std::string::npos);
  CHECK(error_of({"--mix", "hold=1,fly=2"}).find("fly") != std::string::npos);
  CHECK(error_of({"--mix", "hold=0"}).find("--mix") != std::string::npos);
  CHECK(error_of({"--duration"}).find("duration") != std::string::npos);
  CHECK(error_of({"extra"}).size() > 0);
}

TEST_CASE("--help is not an error") {
  const ParseResult r = parse({"--help"});
  CHECK(!r.options);
  CHECK(r.error.empty());
  CHECK(r.help.find("--connections") != std::string::npos);
}

TEST_CASE("the binary exits 2 with a message on a bad flag") {
  for (const char* args : {"--bogus", "--connections 0", "--scenario nope", "--duration"}) {
    const std::string command = std::string(BOXOFFICE_LOAD_PATH) + " " + args + " > /dev/null 2>&1";
    const int status = std::system(command.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
  }
  const std::string help = std::string(BOXOFFICE_LOAD_PATH) + " --help > /dev/null";
  CHECK(std::system(help.c_str()) == 0);
}

}  // namespace boxoffice::load
