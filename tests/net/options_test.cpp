#include "net/options.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

namespace boxoffice::net {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  const char* operator()(const char* name) const {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  }
};

OptionsOutcome parse(std::vector<std::string> args, const Env& env = {}) {
  args.insert(args.begin(), "boxoffice");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data(), env);
}

TEST_CASE("defaults") {
  const OptionsOutcome o = parse({});
  REQUIRE(o.options.has_value());
  const ServerOptions& s = *o.options;
  CHECK(s.listen_host == "127.0.0.1");
  CHECK(s.listen_port == 8080);
  CHECK(s.data_dir == "./data");
  CHECK_FALSE(s.admin_key.has_value());
  CHECK(s.engine.active_limit == 1000);
  CHECK(s.engine.hold_ttl_ms == 300000);
  CHECK(s.engine.token_ttl_ms == 600000);
  CHECK(s.engine.queue_idle_ms == 120000);
  CHECK(s.engine.holds_per_user_max == 4);
  CHECK(s.fsync);
  CHECK(s.demo_catalog);
  CHECK(s.inline_commit_commands_max == default_inline_commit_commands_max);
}

TEST_CASE("every flag, both spellings") {
  const OptionsOutcome o = parse({"--listen",
                                  "[::1]:0",
                                  "--data-dir=/tmp/x",
                                  "--io-threads",
                                  "2",
                                  "--admin-key",
                                  "k",
                                  "--active-limit",
                                  "1000000",
                                  "--hold-ttl-seconds",
                                  "1",
                                  "--token-ttl-seconds",
                                  "86400",
                                  "--queue-idle-seconds",
                                  "5",
                                  "--holds-per-user-max",
                                  "100",
                                  "--fsync",
                                  "off",
                                  "--demo-catalog",
                                  "off",
                                  "--log-level",
                                  "warn",
                                  "--connections-max",
                                  "2048",
                                  "--ingress-queue-max",
                                  "16",
                                  "--idle-timeout-seconds",
                                  "3",
                                  "--inline-commit-commands-max",
                                  "0"});
  REQUIRE_MESSAGE(o.options.has_value(), o.message);
  const ServerOptions& s = *o.options;
  CHECK(s.listen_host == "::1");
  CHECK(s.listen_port == 0);
  CHECK(s.data_dir == "/tmp/x");
  CHECK(s.io_threads == 2);
  CHECK(s.admin_key == "k");
  CHECK(s.engine.active_limit == 1000000);
  CHECK(s.engine.hold_ttl_ms == 1000);
  CHECK(s.engine.token_ttl_ms == 86400000);
  CHECK(s.engine.queue_idle_ms == 5000);
  CHECK(s.engine.holds_per_user_max == 100);
  CHECK_FALSE(s.fsync);
  CHECK_FALSE(s.demo_catalog);
  CHECK(s.log_level == "warn");
  CHECK(s.connections_max == 2048);
  CHECK(s.ingress_queue_max == 16);
  CHECK(s.idle_timeout_ms == 3000);
  CHECK(s.inline_commit_commands_max == 0);
  CHECK(s.describe().find("admin-key=set") != std::string::npos);
  CHECK(s.describe().find("fsync=off") != std::string::npos);
}

TEST_CASE("the environment, and the command line winning over it") {
  Env env;
  env.vars["BOXOFFICE_ADMIN_KEY"] = "from-env";
  env.vars["BOXOFFICE_ACTIVE_LIMIT"] = "7";
  env.vars["BOXOFFICE_HOLD_TTL_SECONDS"] = "9";
  env.vars["BOXOFFICE_UNRELATED"] = "x";
  OptionsOutcome o = parse({"--active-limit", "8"}, env);
  REQUIRE(o.options.has_value());
  CHECK(o.options->admin_key == "from-env");
  CHECK(o.options->engine.active_limit == 8);
  CHECK(o.options->engine.hold_ttl_ms == 9000);

  env.vars["BOXOFFICE_QUEUE_IDLE_SECONDS"] = "0";
  o = parse({}, env);
  CHECK(o.exit_code == 2);
  CHECK(o.message.find("BOXOFFICE_QUEUE_IDLE_SECONDS") != std::string::npos);
  CHECK(o.message.find("--queue-idle-seconds") != std::string::npos);
}

TEST_CASE("bad flags: exit code 2 and a message naming the flag") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--active-limit", "0"}, "--active-limit"},
      {{"--active-limit", "1000001"}, "--active-limit"},
      {{"--active-limit", "ten"}, "--active-limit"},
      {{"--hold-ttl-seconds", "86401"}, "--hold-ttl-seconds"},
      {{"--token-ttl-seconds", "0"}, "--token-ttl-seconds"},
      {{"--queue-idle-seconds", "1.5"}, "--queue-idle-seconds"},
      {{"--holds-per-user-max", "101"}, "--holds-per-user-max"},
      {{"--holds-per-user-max", "-1"}, "--holds-per-user-max"},
      {{"--fsync", "yes"}, "--fsync"},
      {{"--demo-catalog", "1"}, "--demo-catalog"},
      {{"--listen", "8080"}, "--listen"},
      {{"--listen", "127.0.0.1:70000"}, "--listen"},
      {{"--io-threads", "0"}, "--io-threads"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--connections-max", "0"}, "--connections-max"},
      {{"--ingress-queue-max", "1"}, "--ingress-queue-max"},
      {{"--inline-commit-commands-max", "4097"}, "--inline-commit-commands-max"},
      {{"--inline-commit-commands-max", "-1"}, "--inline-commit-commands-max"},
      {{"--data-dir", ""}, "--data-dir"},
      {{"--no-such-flag"}, "no-such-flag"},
      {{"--active-limit"}, "active-limit"},
      {{"--hold", "5"}, "hold"},
      {{"extra"}, "extra"},
  };
  for (const auto& c : cases) {
    const auto& [args, name] = c;
    CAPTURE(c.first[0]);
    const OptionsOutcome o = parse(args);
    CHECK_FALSE(o.options.has_value());
    CHECK(o.exit_code == 2);
    CHECK(o.message.find(name) != std::string::npos);
  }
}

TEST_CASE("--help lists every flag with its default and unit") {
  const OptionsOutcome o = parse({"--help"});
  CHECK_FALSE(o.options.has_value());
  CHECK(o.exit_code == 0);
  for (const char* text : {"--listen",
                           "--data-dir",
                           "--io-threads",
                           "--admin-key",
                           "--active-limit",
                           "--hold-ttl-seconds",
                           "--token-ttl-seconds",
                           "--queue-idle-seconds",
                           "--holds-per-user-max",
                           "--fsync",
                           "--demo-catalog",
                           "--log-level",
                           "--connections-max",
                           "--ingress-queue-max",
                           "--idle-timeout-seconds",
                           "default 300",
                           "1 to 86400 s",
                           "BOXOFFICE_",
                           "16384 bytes",
                           "65536 bytes"}) {
    CAPTURE(text);
    CHECK(o.message.find(text) != std::string::npos);
  }
}

}  // namespace
}  // namespace boxoffice::net
