// Config: the engine's tunables, set from the server's flags.
//
// The engine reads these only when deciding; apply() never does, because
// every event carries the deadlines it implies. A restart with other values
// therefore replays the log to the same state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/keyed_hash.hpp"
#include "engine/limits.hpp"

namespace boxoffice {

struct Config {
  uint32_t active_limit = 1000;
  int64_t hold_ttl_ms = 300 * 1000;
  int64_t token_ttl_ms = 600 * 1000;
  int64_t queue_idle_ms = 120 * 1000;
  uint32_t holds_per_user_max = 4;
  uint64_t queue_span_tokens = limits::queue_span_tokens_default;
  // Keys the hash of client-chosen strings in the state's indexes; changes
  // no outcome (keyed_hash.hpp). The server draws it at random at start.
  HashKey hash_key;

  // Names the first setting out of its documented range, or nullopt.
  std::optional<std::string> invalid_setting() const {
    const auto duration_ok = [](int64_t ms) {
      return ms % 1000 == 0 && ms >= limits::duration_flag_s_min * 1000 &&
             ms <= limits::duration_flag_s_max * 1000;
    };
    if (active_limit < 1 || active_limit > limits::active_limit_max) return "active-limit";
    if (!duration_ok(hold_ttl_ms)) return "hold-ttl-seconds";
    if (!duration_ok(token_ttl_ms)) return "token-ttl-seconds";
    if (!duration_ok(queue_idle_ms)) return "queue-idle-seconds";
    if (holds_per_user_max < 1 || holds_per_user_max > limits::holds_per_user_max) {
      return "holds-per-user-max";
    }
    if (queue_span_tokens < 2 || queue_span_tokens > limits::queue_span_tokens_max ||
        (queue_span_tokens & (queue_span_tokens - 1)) != 0) {
      return "queue-span-tokens";
    }
    return std::nullopt;
  }
};

}  // namespace boxoffice
