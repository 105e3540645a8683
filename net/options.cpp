#include "net/options.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <sstream>
#include <type_traits>
#include <vector>

#include "engine/limits.hpp"
#include "net/request_parser.hpp"
#include "net/router.hpp"

namespace boxoffice::net {

namespace po = boost::program_options;

namespace {

// One flag: its name, what it takes, and how to store it.
struct Flag {
  const char* name;
  const char* value_name;  // for --help: "N", "ADDR:PORT"...
  const char* help;        // with the default and the unit
  // Stores `text` into the options, or returns what is wrong with it.
  std::function<std::optional<std::string>(const std::string& text, ServerOptions&)> set;
};

std::optional<std::string> int_in(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  int64_t v = 0;
  if (!parse_int64(text, &v) || v < min || v > max) {
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  *out = v;
  return std::nullopt;
}

std::optional<std::string> on_off(const std::string& text, bool* out) {
  if (text == "on") return *out = true, std::nullopt;
  if (text == "off") return *out = false, std::nullopt;
  return "must be on or off";
}

std::optional<std::string> listen_address(const std::string& text, ServerOptions& o) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return "must be HOST:PORT (e.g. 127.0.0.1:8080)";
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int64_t port = 0;
  if (int_in(text.substr(colon + 1), 0, 65535, &port)) return "has a port outside 0..65535";
  o.listen_host = host;
  o.listen_port = static_cast<uint16_t>(port);
  return std::nullopt;
}

// A duration flag in whole seconds, stored in milliseconds.
Flag seconds_flag(const char* name, const char* help, int64_t Config::*field) {
  return Flag{name, "SECONDS", help, [field](const std::string& t, ServerOptions& o) {
                int64_t s = 0;
                auto err = int_in(t, limits::duration_flag_s_min, limits::duration_flag_s_max, &s);
                if (!err) o.engine.*field = s * 1000;
                return err;
              }};
}

// An integer flag from `min` to `max`, stored in a field of the options or
// of their engine Config.
template <typename Owner, typename T>
Flag count_flag(const char* name, const char* help, int64_t min, int64_t max, T Owner::*field) {
  return Flag{name, "N", help, [=](const std::string& t, ServerOptions& o) {
                int64_t v = 0;
                auto err = int_in(t, min, max, &v);
                if (err) return err;
                if constexpr (std::is_same_v<Owner, Config>) {
                  o.engine.*field = static_cast<T>(v);
                } else {
                  o.*field = static_cast<T>(v);
                }
                return err;
              }};
}

std::vector<Flag> flags() {
  std::vector<Flag> f;
  f.push_back({"listen", "HOST:PORT", "address to listen on (default 127.0.0.1:8080; port 0: any)",
               listen_address});
  f.push_back({"data-dir", "PATH",
               "directory of the event log and the token secret, created if missing "
               "(default ./data)",
               [](const std::string& t, ServerOptions& o) -> std::optional<std::string> {
                 if (t.empty()) return "must not be empty";
                 o.data_dir = t;
                 return std::nullopt;
               }});
  f.push_back(
      count_flag("io-threads",
                 "HTTP I/O threads, 1 to 64 (default 1; docs/DESIGN.md says what 2 cores measured)",
                 1, io_threads_max, &ServerOptions::io_threads));
  f.push_back({"admin-key", "KEY",
               "the X-Admin-Key that admin calls must carry (default: none, every admin call "
               "is 403)",
               [](const std::string& t, ServerOptions& o) {
                 o.admin_key = t.empty() ? std::nullopt : std::optional<std::string>(t);
                 return std::optional<std::string>();
               }});
  f.push_back(count_flag("active-limit", "tokens active at once, 1 to 1000000 (default 1000)", 1,
                         limits::active_limit_max, &Config::active_limit));
  f.push_back(seconds_flag("hold-ttl-seconds", "how long a hold lasts, 1 to 86400 s (default 300)",
                           &Config::hold_ttl_ms));
  f.push_back(seconds_flag("token-ttl-seconds",
                           "active window of a token, 1 to 86400 s (default 600)",
                           &Config::token_ttl_ms));
  f.push_back(seconds_flag("queue-idle-seconds",
                           "a waiting token not polled for this long is dropped, 1 to 86400 s "
                           "(default 120)",
                           &Config::queue_idle_ms));
  f.push_back(count_flag("holds-per-user-max", "held reservations per user, 1 to 100 (default 4)",
                         1, limits::holds_per_user_max, &Config::holds_per_user_max));
  f.push_back({"fsync", "on|off",
               "sync the event log before answering (default on; off loses acknowledged "
               "writes on a power failure, for benchmarks only)",
               [](const std::string& t, ServerOptions& o) { return on_off(t, &o.fsync); }});
  f.push_back({"demo-catalog", "on|off",
               "seed a demo concert into an empty data directory (default on)",
               [](const std::string& t, ServerOptions& o) { return on_off(t, &o.demo_catalog); }});
  f.push_back({"log-level", "LEVEL",
               "trace, debug, info, warn, error or off (default info; no line per request "
               "below debug)",
               [](const std::string& t, ServerOptions& o) -> std::optional<std::string> {
                 for (const char* l : {"trace", "debug", "info", "warn", "error", "off"}) {
                   if (t == l) return o.log_level = t, std::nullopt;
                 }
                 return "must be trace, debug, info, warn, error or off";
               }});
  f.push_back(
      count_flag("connections-max",
                 "open client connections, 1 to 1000000; beyond it new connections are closed "
                 "at once (default 10000, lowered to fit the open-files limit)",
                 1, 1000000, &ServerOptions::connections_max));
  f.push_back(count_flag("ingress-queue-max",
                         "commands queued per I/O thread for the core, 16 to 1048576; when full, "
                         "requests get 503 OVERLOADED (default 8192)",
                         16, 1 << 20, &ServerOptions::ingress_queue_max));
  f.push_back(
      count_flag("inline-commit-commands-max",
                 "a batch of at most this many commands, with no batch before it waiting for its "
                 "sync, is committed on the core thread; larger ones go to the commit thread, 0 to "
                 "4096 (0: every batch goes to the commit thread; default 256)",
                 0, batch_commands_max, &ServerOptions::inline_commit_commands_max));
  f.push_back({"idle-timeout-seconds", "SECONDS",
               "a connection that does not complete its next request within this (plus up to "
               "a sixteenth more, fixed per connection, so that connections opened together are "
               "not all closed together) is closed, 1 to 86400 s (default 60)",
               [](const std::string& t, ServerOptions& o) {
                 int64_t v = 0;
                 auto err = int_in(t, 1, 86400, &v);
                 if (!err) o.idle_timeout_ms = v * 1000;
                 return err;
               }});
  f.push_back({"snapshot-every-events", "N",
               "write a snapshot after this many events, 1000 to 1000000000 (default 1000000)",
               [](const std::string& t, ServerOptions& o) {
                 int64_t v = 0;
                 auto err = int_in(t, 1000, 1000000000, &v);
                 if (!err) o.snapshot_every_events = static_cast<uint64_t>(v);
                 return err;
               }});
  return f;
}

std::string env_name(const char* flag) {
  std::string name = "BOXOFFICE_";
  for (const char* p = flag; *p != '\0'; p++) {
    name += *p == '-' ? '_' : static_cast<char>(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
  }
  return name;
}

std::string help_text(const std::vector<Flag>& all) {
  std::ostringstream out;
  out << "boxoffice: the concert-ticketing server (HTTP/1.1 API, see docs/API.md)\n\n"
         "usage: boxoffice [flags]\n\n"
         "Every flag may also be set as BOXOFFICE_<NAME> in the environment\n"
         "(e.g. BOXOFFICE_ADMIN_KEY); a flag on the command line wins.\n\n";
  constexpr size_t indent = 34, width = 100;
  for (const Flag& f : all) {
    std::string line = std::string("  --") + f.name + " " + f.value_name;
    line.resize(std::max(line.size() + 1, indent), ' ');
    // The help text, wrapped at `width` columns under the indent.
    std::string_view rest = f.help;
    while (!rest.empty()) {
      size_t take = rest.size();
      if (line.size() + take > width) {
        take = rest.rfind(' ', width - line.size());
        if (take == std::string_view::npos || take == 0) take = rest.size();
      }
      out << line << rest.substr(0, take) << "\n";
      rest.remove_prefix(std::min(rest.size(), take + 1));
      line.assign(indent, ' ');
    }
  }
  out << "  --help                          this text\n\n"
         "Fixed limits: a request's header block is at most "
      << header_bytes_max << " bytes (larger: 400 and the\nconnection is closed), its body at most "
      << body_bytes_max << " bytes (larger: 413); " << pipeline_depth_max
      << " pipelined\nrequests are read ahead per connection; a write times out after "
      << write_timeout_ms / 1000
      << " s.\n\n"
         "Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 1 on a failure while running,\n"
         "2 on a bad flag or an unusable --listen or --data-dir.\n";
  return out.str();
}

}  // namespace

OptionsOutcome parse_options(int argc, const char* const* argv,
                             const std::function<const char*(const char*)>& getenv) {
  const std::vector<Flag> all = flags();
  po::options_description desc;
  desc.add_options()("help", "");
  for (const Flag& f : all) desc.add_options()(f.name, po::value<std::string>());
  OptionsOutcome outcome;
  outcome.exit_code = 2;
  po::variables_map vm;
  try {
    const po::parsed_options parsed =
        po::command_line_parser(argc, argv)
            .options(desc)
            .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
            .run();
    for (const po::option& o : parsed.options) {
      if (o.position_key >= 0 || o.string_key.empty()) {
        const std::string text = o.value.empty() ? std::string() : o.value.front();
        outcome.message = "boxoffice: unexpected argument '" + text + "' (see --help)";
        return outcome;
      }
    }
    po::store(parsed, vm);
  } catch (const po::error& e) {
    outcome.message = std::string("boxoffice: ") + e.what() + " (see --help)";
    return outcome;
  }
  if (vm.count("help") != 0) {
    outcome.exit_code = 0;
    outcome.message = help_text(all);
    return outcome;
  }
  ServerOptions options;
  for (const Flag& f : all) {
    std::string text;
    std::string source;
    if (vm.count(f.name) != 0) {
      text = vm[f.name].as<std::string>();
      source = std::string("--") + f.name;
    } else if (const char* env = getenv(env_name(f.name).c_str()); env != nullptr) {
      text = env;
      source = env_name(f.name) + " (--" + f.name + ")";
    } else {
      continue;
    }
    if (const auto error = f.set(text, options)) {
      outcome.message = "boxoffice: " + source + " " + *error + " (got '" + text + "')";
      return outcome;
    }
  }
  if (const auto bad = options.engine.invalid_setting()) {
    outcome.message = "boxoffice: --" + *bad + " is out of range";
    return outcome;
  }
  outcome.exit_code = 0;
  outcome.options = std::move(options);
  return outcome;
}

std::string ServerOptions::describe() const {
  std::ostringstream out;
  out << "listen=" << listen_host << ":" << listen_port << " data-dir=" << data_dir
      << " io-threads=" << io_threads << " admin-key=" << (admin_key ? "set" : "none")
      << " active-limit=" << engine.active_limit
      << " hold-ttl-seconds=" << engine.hold_ttl_ms / 1000
      << " token-ttl-seconds=" << engine.token_ttl_ms / 1000
      << " queue-idle-seconds=" << engine.queue_idle_ms / 1000
      << " holds-per-user-max=" << engine.holds_per_user_max << " fsync=" << (fsync ? "on" : "off")
      << " demo-catalog=" << (demo_catalog ? "on" : "off") << " log-level=" << log_level
      << " connections-max=" << connections_max << " ingress-queue-max=" << ingress_queue_max
      << " inline-commit-commands-max=" << inline_commit_commands_max
      << " idle-timeout-seconds=" << idle_timeout_ms / 1000
      << " snapshot-every-events=" << snapshot_every_events
      << " header-bytes-max=" << header_bytes_max << " body-bytes-max=" << body_bytes_max
      << " pipeline-depth-max=" << pipeline_depth_max;
  return out.str();
}

}  // namespace boxoffice::net
