// How boxoffice-replay shows events: as JSON lines (dump) and as one
// readable line each (audit), and which user and seat an event concerns.
//
// An event names users and seats only through ids; `subject` resolves them
// against the state the event was applied to (after applying it), so it can
// name the user of an expired hold or of a used-up token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/event.hpp"
#include "engine/state.hpp"

namespace boxoffice::replay {

// The user and the seat an event concerns, where it concerns one.
struct Subject {
  UserId user = UserId::none;
  bool has_seat = false;
  DateRef date{};
  uint32_t seat = 0;
};

// REQUIRES: `state` has the event applied.
Subject subject(const State& state, const Event& event);

// {"seq":N,"time":"...","type":"seat_held",...fields}
std::string event_json(uint64_t seq, const Event& event);

// "2026-12-24T19:00:00.000Z  #42  seat_held  reservation=7 user=alice ..."
// REQUIRES: `state` has the event applied (names are looked up in it).
std::string event_line(uint64_t seq, const Event& event, const State& state);

// RFC 3339 UTC with milliseconds: 2026-12-24T19:00:00.000Z
std::string format_instant(TimeMs ms);

// Parses an RFC 3339 instant in UTC ("Z"), with or without fractional
// seconds (milliseconds kept, finer digits dropped), or an offset such as
// "+09:00". Returns nullopt for anything else.
std::optional<TimeMs> parse_instant(std::string_view s);

}  // namespace boxoffice::replay
