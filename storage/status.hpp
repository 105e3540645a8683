// Status: the outcome of a storage operation.
//
// An operating error (I/O, corruption, a directory that is not ours) is a
// returned value, never an exception: nothing thrown crosses storage/. The
// message is for people and logs; code the thing to branch on. An ok Status
// carries an empty message and allocates nothing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace boxoffice::storage {

struct [[nodiscard]] Status {
  // Wire-stable numbers: never renumber, never reuse a retired one.
  enum class Code : uint8_t {
    ok = 0,
    io_error = 1,            // the disk or the file system failed
    corruption = 2,          // stored bytes fail a check; the message names where
    not_found = 3,           // no such record (or no such directory)
    invalid_argument = 4,    // the caller asked for something the log refuses
    unsupported_format = 5,  // not a boxoffice directory, or a format this build cannot read
    busy = 6,                // the directory is in use by another process
  };

  Code code = Code::ok;
  std::string message;

  static Status ok() { return Status{}; }
  static Status error(Code code, std::string message) { return Status{code, std::move(message)}; }

  bool is_ok() const { return code == Code::ok; }

  // "ok", or the code's name, ": " and the message.
  std::string to_string() const { return is_ok() ? "ok" : code_name(code) + (": " + message); }

  static std::string code_name(Code code) {
    switch (code) {
      case Code::ok:
        return "ok";
      case Code::io_error:
        return "io_error";
      case Code::corruption:
        return "corruption";
      case Code::not_found:
        return "not_found";
      case Code::invalid_argument:
        return "invalid_argument";
      case Code::unsupported_format:
        return "unsupported_format";
      case Code::busy:
        return "busy";
    }
    return "unknown";
  }
};

}  // namespace boxoffice::storage
