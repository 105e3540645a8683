#include "tools/replay/replay_options.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <string_view>
#include <vector>

#include "engine/civil_date.hpp"
#include "engine/limits.hpp"
#include "tools/replay/event_format.hpp"

namespace boxoffice::replay {

namespace po = boost::program_options;

namespace {

constexpr size_t help_indent_columns = 30;
constexpr size_t help_width_columns = 100;

struct CommandInfo {
  Subcommand command;
  const char* name;
  size_t operands;  // positional arguments it takes
  const char* usage;
  const char* summary;
  const char* output;  // what it prints
};

constexpr CommandInfo command_infos[] = {
    {Subcommand::verify, "verify", 0,
     "boxoffice-replay verify [--data-dir DIR] [--until SEQ|TIME] [--active-limit N] [--json] "
     "[--quiet]",
     "replays the log from the start, checks the invariants after every event, and compares the "
     "state with the newest snapshot's digest when the replay reaches it.",
     "one line on stdout, `verify: ok events=N last_seq=N digest=0x%016x "
     "snapshot=compared|none|not-reached` (not-reached: --until stops before the newest "
     "snapshot), or `verify: FAILED at seq N: <what>` and exit code 1. With --json one object: "
     "{\"ok\":true,\"events\":N,\"lastSeq\":N,\"digest\":\"0x...\",\"snapshot\":\"...\"} or "
     "{\"ok\":false,\"failedSeq\":N,\"error\":\"...\"}."},
    {Subcommand::audit, "audit", 0,
     "boxoffice-replay audit (--user ID | --seat CONCERT/DATE/SEAT) [--data-dir DIR] "
     "[--until SEQ|TIME] [--quiet]",
     "the history of one user (tokens, holds, charges, payments, refunds) or of one seat.",
     "one line per event: its time, #seq, type, the user and seat it concerns, then its fields."},
    {Subcommand::dump, "dump", 0,
     "boxoffice-replay dump [--data-dir DIR] [--from SEQ] [--until SEQ|TIME]",
     "the events as JSON lines, for other tools.",
     "one JSON object per line: {\"seq\":N,\"time\":\"...\",\"type\":\"...\",...fields}."},
    {Subcommand::stats, "stats", 0, "boxoffice-replay stats [--data-dir DIR] [--json]",
     "counts per event type, the sequence and time ranges, bytes on disk, the stored snapshots.",
     "a few lines of text; with --json one object."},
    {Subcommand::checkpoint, "checkpoint", 1, "boxoffice-replay checkpoint TARGET [--data-dir DIR]",
     "a consistent copy of the data directory into TARGET, a directory that must not exist yet, "
     "made while the server runs (table files are hard-linked when on the same file system).",
     "`checkpoint: TARGET last_seq=N`; `verify --data-dir TARGET` checks the copy."},
};

constexpr uint8_t bit(Subcommand c) { return static_cast<uint8_t>(1u << static_cast<unsigned>(c)); }

// One flag: its name, what it takes, which commands take it, how to store it.
struct Flag {
  const char* name;
  const char* value_name;  // nullptr: a switch, without a value
  const char* help;
  uint8_t commands;  // bit(c) for each command c that takes it
  // Stores `text` into the options, or returns what is wrong with it.
  std::function<std::optional<std::string>(const std::string& text, ReplayOptions&)> set;
};

// Digits only, no sign, no spaces, no overflow.
bool parse_u64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && text.front() != '+' && text.front() != '-';
}

std::optional<std::string> set_until(const std::string& text, ReplayOptions& o) {
  uint64_t seq = 0;
  if (parse_u64(text, &seq)) {
    o.until.seq = seq;
    return std::nullopt;
  }
  const bool all_digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
  if (all_digits) return "is a sequence number too large";
  if (const std::optional<TimeMs> t = parse_instant(text)) {
    o.until.time_ms = *t;
    return std::nullopt;
  }
  return "must be a sequence number or an RFC 3339 instant such as 2026-12-24T19:00:00Z";
}

// CONCERT/YYYY-MM-DD/SEAT, e.g. 1/2026-12-24/12.
std::optional<std::string> set_seat(const std::string& text, ReplayOptions& o) {
  const char* const wrong = "must be CONCERT/YYYY-MM-DD/SEAT, e.g. 1/2026-12-24/12";
  const size_t first = text.find('/');
  const size_t second = first == std::string::npos ? first : text.find('/', first + 1);
  if (second == std::string::npos) return wrong;
  uint64_t concert = 0;
  uint64_t seat = 0;
  const std::optional<int32_t> day =
      parse_day(std::string_view(text).substr(first + 1, second - first - 1));
  if (!parse_u64(std::string_view(text).substr(0, first), &concert) ||
      !parse_u64(std::string_view(text).substr(second + 1), &seat) || !day.has_value()) {
    return wrong;
  }
  if (concert == 0 || concert > limits::concerts_max || seat == 0 ||
      seat > limits::seats_per_date_max) {
    return "names no possible seat (concert 1 to " + std::to_string(limits::concerts_max) +
           ", seat 1 to " + std::to_string(limits::seats_per_date_max) + ")";
  }
  o.filter.concert = static_cast<uint32_t>(concert);
  o.filter.day = *day;
  o.filter.seat = static_cast<uint32_t>(seat);
  return std::nullopt;
}

std::vector<Flag> flags() {
  constexpr uint8_t every = 0xff;
  constexpr uint8_t replays =
      bit(Subcommand::verify) | bit(Subcommand::audit) | bit(Subcommand::dump);
  std::vector<Flag> f;
  f.push_back({"data-dir", "DIR",
               "the data directory; only read, also while the server runs (default ./data, or "
               "BOXOFFICE_DATA_DIR from the environment)",
               every, [](const std::string& t, ReplayOptions& o) -> std::optional<std::string> {
                 if (t.empty()) return "must not be empty";
                 o.data_dir = t;
                 return std::nullopt;
               }});
  f.push_back({"until", "SEQ|TIME",
               "stop after event SEQ, or before the first event after the RFC 3339 instant TIME "
               "(e.g. 2026-12-24T19:00:00Z): the state as it was then (default: the whole log)",
               replays, set_until});
  f.push_back({"active-limit", "N",
               "the server's --active-limit: more tokens active at once is a violation; 0 to "
               "1000000, 0 skips the check (default 1000)",
               bit(Subcommand::verify),
               [](const std::string& t, ReplayOptions& o) -> std::optional<std::string> {
                 uint64_t v = 0;
                 if (!parse_u64(t, &v) || v > limits::active_limit_max) {
                   return "must be an integer from 0 to " +
                          std::to_string(limits::active_limit_max);
                 }
                 o.active_limit = static_cast<uint32_t>(v);
                 return std::nullopt;
               }});
  f.push_back({"user", "ID", "the history of the user with this userId", bit(Subcommand::audit),
               [](const std::string& t, ReplayOptions& o) -> std::optional<std::string> {
                 if (t.empty() || t.size() > limits::user_name_bytes_max) {
                   return "must be a userId of 1 to " +
                          std::to_string(limits::user_name_bytes_max) + " bytes";
                 }
                 o.filter.user = t;
                 return std::nullopt;
               }});
  f.push_back({"seat", "CONCERT/DATE/SEAT",
               "the history of one seat: concert id, date and seat number, e.g. 1/2026-12-24/12",
               bit(Subcommand::audit), set_seat});
  f.push_back({"from", "SEQ", "the first event to print (default 1)", bit(Subcommand::dump),
               [](const std::string& t, ReplayOptions& o) -> std::optional<std::string> {
                 if (!parse_u64(t, &o.from_seq)) return "must be a sequence number";
                 return std::nullopt;
               }});
  f.push_back({"json", nullptr, "print one JSON object instead of text",
               bit(Subcommand::verify) | bit(Subcommand::stats),
               [](const std::string&, ReplayOptions& o) -> std::optional<std::string> {
                 o.json = true;
                 return std::nullopt;
               }});
  f.push_back({"quiet", nullptr,
               "no progress lines on stderr (long runs print events per second and an ETA)",
               bit(Subcommand::verify) | bit(Subcommand::audit),
               [](const std::string&, ReplayOptions& o) -> std::optional<std::string> {
                 o.progress = false;
                 return std::nullopt;
               }});
  return f;
}

std::vector<Flag> flags_of(Subcommand command) {
  std::vector<Flag> all = flags();
  std::erase_if(all, [command](const Flag& f) { return (f.commands & bit(command)) == 0; });
  return all;
}

// The last place at or before `room` where `text` may break: a space (for a
// usage line, only a space before an option group "[" or "(").
size_t break_at(std::string_view text, size_t room, bool usage) {
  for (size_t at = std::min(room, text.size() - 1); at > 0; at--) {
    if (text[at] == ' ' && (!usage || text[at + 1] == '[' || text[at + 1] == '(')) return at;
  }
  return std::min(text.find(' '), text.size());
}

// Appends `head`, then `text` wrapped at help_width_columns under `indent`.
void append_wrapped(std::string& out, std::string head, std::string_view text, size_t indent,
                    bool usage = false) {
  head.resize(std::max(head.size() + (head.empty() ? 0 : 1), indent), ' ');
  std::string line = std::move(head);
  while (!text.empty()) {
    const size_t room = line.size() < help_width_columns ? help_width_columns - line.size() : 0;
    const size_t take = text.size() > room ? break_at(text, room, usage) : text.size();
    out += line;
    out.append(text.substr(0, take));
    out += '\n';
    text.remove_prefix(std::min(text.size(), take + 1));
    line.assign(indent, ' ');
  }
}

constexpr const char* exit_codes_help =
    "0 success; 1 a verification failure, corruption, or a data directory that cannot be opened "
    "or is not a boxoffice one; 2 a usage error (unknown command or flag, bad value, missing "
    "option).";

std::string overview_help() {
  std::string out;
  append_wrapped(out, "boxoffice-replay:",
                 "reads a boxoffice data directory (the event log and its snapshots) without "
                 "changing it, also beside a running server.",
                 0);
  out += "\nusage: boxoffice-replay COMMAND [--data-dir DIR] [options]\n\ncommands:\n";
  for (const CommandInfo& c : command_infos) {
    append_wrapped(out, std::string("  ") + c.name, c.summary, 14);
  }
  out += "\n";
  append_wrapped(out, "",
                 "`boxoffice-replay COMMAND --help` lists a command's options. --data-dir "
                 "defaults to ./data, or BOXOFFICE_DATA_DIR from the environment; the flag wins.",
                 0);
  out += "\n";
  append_wrapped(out, "Exit codes:", exit_codes_help, 0);
  return out;
}

std::string command_help(const CommandInfo& c, const std::vector<Flag>& all) {
  std::string out;
  append_wrapped(out, std::string("boxoffice-replay ") + c.name + ":", c.summary, 0);
  out += "\n";
  append_wrapped(out, "usage:", c.usage, 7, true);
  out += "\n";
  for (const Flag& f : all) {
    std::string head = std::string("  --") + f.name;
    if (f.value_name != nullptr) head += std::string(" ") + f.value_name;
    append_wrapped(out, head, f.help, help_indent_columns);
  }
  append_wrapped(out, "  --help", "this text", help_indent_columns);
  out += "\n";
  append_wrapped(out, "Output:", c.output, 0);
  out += "\n";
  append_wrapped(out, "Exit codes:", exit_codes_help, 0);
  return out;
}

ReplayOptionsOutcome usage_error(std::string message) {
  ReplayOptionsOutcome outcome;
  outcome.exit_code = 2;
  outcome.message = "boxoffice-replay: " + std::move(message);
  return outcome;
}

ReplayOptionsOutcome help(std::string text) {
  ReplayOptionsOutcome outcome;
  outcome.exit_code = 0;
  outcome.message = std::move(text);
  return outcome;
}

// The command's own checks, once every flag is stored.
std::optional<std::string> check_command(ReplayOptions& o,
                                         const std::vector<std::string>& operands) {
  if (o.command == Subcommand::audit) {
    const bool by_user = !o.filter.user.empty();
    const bool by_seat = o.filter.seat != 0;
    if (!by_user && !by_seat) return "needs --user ID or --seat CONCERT/DATE/SEAT";
    if (by_user && by_seat) return "takes --user or --seat, not both";
  }
  if (o.command == Subcommand::checkpoint) {
    if (operands.empty() || operands.front().empty()) {
      return "needs the directory to create: boxoffice-replay checkpoint TARGET";
    }
    o.checkpoint_dir = operands.front();
  }
  return std::nullopt;
}

// Parses the flags after the command: argv[0] is the command's name.
ReplayOptionsOutcome parse_command(const CommandInfo& info, int argc, const char* const* argv,
                                   const std::function<const char*(const char*)>& getenv) {
  const std::string prefix = std::string(info.name) + ": ";
  const std::vector<Flag> all = flags_of(info.command);
  po::options_description desc;
  desc.add_options()("help", "");
  for (const Flag& f : all) {
    if (f.value_name != nullptr) {
      desc.add_options()(f.name, po::value<std::string>());
    } else {
      desc.add_options()(f.name, "");
    }
  }
  po::variables_map vm;
  std::vector<std::string> operands;
  try {
    const po::parsed_options parsed =
        po::command_line_parser(argc, argv)
            .options(desc)
            .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
            .run();
    for (const po::option& o : parsed.options) {
      if (o.position_key >= 0 || o.string_key.empty()) {
        operands.push_back(o.value.empty() ? std::string() : o.value.front());
      }
    }
    po::store(parsed, vm);
  } catch (const po::error& e) {
    return usage_error(prefix + e.what() + " (see boxoffice-replay " + info.name + " --help)");
  }
  if (vm.count("help") != 0) return help(command_help(info, all));
  if (operands.size() > info.operands) {
    return usage_error(prefix + "unexpected argument '" + operands[info.operands] + "' (see " +
                       "boxoffice-replay " + info.name + " --help)");
  }
  ReplayOptions options;
  options.command = info.command;
  for (const Flag& f : all) {
    if (vm.count(f.name) == 0) continue;
    const std::string text = f.value_name != nullptr ? vm[f.name].as<std::string>() : "";
    if (const auto error = f.set(text, options)) {
      return usage_error(prefix + "--" + f.name + " " + *error + " (got '" + text + "')");
    }
  }
  if (vm.count("data-dir") == 0) {
    if (const char* env = getenv("BOXOFFICE_DATA_DIR"); env != nullptr) {
      if (*env == '\0') return usage_error(prefix + "BOXOFFICE_DATA_DIR (--data-dir) is empty");
      options.data_dir = env;
    }
  }
  if (const auto error = check_command(options, operands)) {
    return usage_error(prefix + *error + " (see boxoffice-replay " + info.name + " --help)");
  }
  ReplayOptionsOutcome outcome;
  outcome.options = std::move(options);
  return outcome;
}

}  // namespace

const char* subcommand_name(Subcommand command) {
  for (const CommandInfo& c : command_infos) {
    if (c.command == command) return c.name;
  }
  return "unknown";
}

ReplayOptionsOutcome parse_replay_options(int argc, const char* const* argv,
                                          const std::function<const char*(const char*)>& getenv) {
  if (argc < 2)
    return usage_error("no command given; usage: boxoffice-replay COMMAND [options] (see --help)");
  const std::string_view first = argv[1];
  if (first == "--help") return help(overview_help());
  for (const CommandInfo& c : command_infos) {
    if (first == c.name) return parse_command(c, argc - 1, argv + 1, getenv);
  }
  if (first.starts_with('-')) {
    return usage_error("the command comes first: boxoffice-replay COMMAND [options] (got '" +
                       std::string(first) + "'; see --help)");
  }
  return usage_error("unknown command '" + std::string(first) +
                     "' (commands: verify, audit, dump, stats, checkpoint; see --help)");
}

}  // namespace boxoffice::replay
