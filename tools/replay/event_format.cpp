#include "tools/replay/event_format.hpp"

#include <cinttypes>
#include <cstdio>

#include "engine/civil_date.hpp"
#include "engine/event_codec.hpp"

namespace boxoffice::replay {

namespace {

const char* token_end_name(TokenEnd end) {
  switch (end) {
    case TokenEnd::window:
      return "window";
    case TokenEnd::idle:
      return "idle";
    case TokenEnd::left:
      return "left";
    case TokenEnd::used:
      return "used";
  }
  return "unknown";
}

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Appends `,"name":value` pairs.
class Fields {
 public:
  explicit Fields(std::string& out) : out_(out) {}
  Fields& num(const char* name, int64_t v) {
    key(name);
    out_ += std::to_string(v);
    return *this;
  }
  Fields& unum(const char* name, uint64_t v) {
    key(name);
    out_ += std::to_string(v);
    return *this;
  }
  Fields& str(const char* name, std::string_view v) {
    key(name);
    append_escaped(out_, v);
    return *this;
  }
  Fields& key_tag(const IdempotencyTag& tag) {
    if (!tag.key.empty()) str("idempotencyKey", tag.key.view());
    return *this;
  }

 private:
  void key(const char* name) {
    out_ += ",\"";
    out_ += name;
    out_ += "\":";
  }
  std::string& out_;
};

void body_json(Fields& f, const UserCreated& e) {
  f.unum("user", raw(e.user)).str("userId", e.name.view());
}
void body_json(Fields& f, const TokenIssued& e) {
  f.unum("token", raw(e.token)).unum("user", raw(e.user));
}
void body_json(Fields& f, const TokenActivated& e) {
  f.unum("token", raw(e.token)).str("expiresAt", format_instant(e.expires_ms));
}
void body_json(Fields& f, const TokenExpired& e) {
  f.unum("token", raw(e.token)).str("reason", token_end_name(e.reason));
}
void body_json(Fields& f, const ConcertCreated& e) {
  f.unum("concert", raw(e.concert)).str("title", e.title).unum("dates", e.dates.size());
}
void body_json(Fields& f, const SeatHeld& e) {
  f.unum("reservation", raw(e.reservation))
      .unum("user", raw(e.user))
      .unum("date", raw(e.date))
      .unum("seat", e.seat)
      .num("price", e.price)
      .str("expiresAt", format_instant(e.expires_ms))
      .key_tag(e.idempotency);
}
void body_json(Fields& f, const HoldExpired& e) { f.unum("reservation", raw(e.reservation)); }
void body_json(Fields& f, const ReservationCancelled& e) {
  f.unum("reservation", raw(e.reservation));
}
void body_json(Fields& f, const BalanceCharged& e) {
  f.unum("user", raw(e.user)).num("amount", e.amount).key_tag(e.idempotency);
}
void body_json(Fields& f, const PaymentCompleted& e) {
  f.unum("payment", raw(e.payment))
      .unum("reservation", raw(e.reservation))
      .num("amount", e.amount)
      .key_tag(e.idempotency);
}
void body_json(Fields& f, const RefundIssued& e) {
  f.unum("refund", raw(e.refund))
      .unum("reservation", raw(e.reservation))
      .num("amount", e.amount)
      .str("reason", e.reason)
      .key_tag(e.idempotency);
}
void body_json(Fields& f, const IdempotencyForgotten& e) {
  f.str("createdUpTo", format_instant(e.created_up_to_ms));
}

Subject reservation_subject(const State& s, ReservationId id) {
  Subject out;
  const Reservation* r = s.reservation(id);
  if (r == nullptr) return out;
  out.user = r->user;
  out.has_seat = true;
  out.date = r->date;
  out.seat = r->seat;
  return out;
}

}  // namespace

std::string format_instant(TimeMs ms) {
  const int64_t day =
      ms >= 0 ? ms / limits::ms_per_day : (ms - limits::ms_per_day + 1) / limits::ms_per_day;
  const int64_t in_day = ms - day * limits::ms_per_day;
  char date[11] = {};
  format_day(static_cast<Day>(day), date);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64 "Z",
                date, in_day / 3600000, in_day / 60000 % 60, in_day / 1000 % 60, in_day % 1000);
  return buf;
}

namespace {

bool digits(std::string_view s, size_t at, size_t n, int64_t* out) {
  if (at + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = at; i < at + n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<TimeMs> parse_instant(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return std::nullopt;
  const std::optional<int32_t> day = parse_day(s.substr(0, 10));
  int64_t h = 0, m = 0, sec = 0;
  if (!day.has_value() || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, &h) || s[13] != ':' ||
      !digits(s, 14, 2, &m) || s[16] != ':' || !digits(s, 17, 2, &sec) || h > 23 || m > 59 ||
      sec > 59) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    size_t n = 0;
    for (at++; at < s.size() && s[at] >= '0' && s[at] <= '9'; at++, n++) {
      if (n < 3) ms = ms * 10 + (s[at] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 3; n++) ms *= 10;
  }
  int64_t offset_min = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    at++;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int64_t oh = 0, om = 0;
    if (!digits(s, at + 1, 2, &oh) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !digits(s, at + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (s[at] == '+' ? 1 : -1) * (oh * 60 + om);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  return *day * limits::ms_per_day + ((h * 60 + m - offset_min) * 60 + sec) * 1000 + ms;
}

Subject subject(const State& s, const Event& event) {
  return std::visit(
      [&s](const auto& e) -> Subject {
        using E = std::decay_t<decltype(e)>;
        Subject out;
        if constexpr (std::is_same_v<E, UserCreated> || std::is_same_v<E, TokenIssued> ||
                      std::is_same_v<E, BalanceCharged>) {
          out.user = e.user;
        } else if constexpr (std::is_same_v<E, TokenActivated> || std::is_same_v<E, TokenExpired>) {
          const Token* t = s.token(e.token);
          if (t != nullptr) out.user = t->user;
        } else if constexpr (std::is_same_v<E, SeatHeld> || std::is_same_v<E, HoldExpired> ||
                             std::is_same_v<E, ReservationCancelled> ||
                             std::is_same_v<E, PaymentCompleted> ||
                             std::is_same_v<E, RefundIssued>) {
          out = reservation_subject(s, e.reservation);
        }
        return out;
      },
      event.body);
}

std::string event_json(uint64_t seq, const Event& event) {
  std::string out = "{\"seq\":" + std::to_string(seq) + ",\"time\":\"" +
                    format_instant(event.time_ms) + "\",\"type\":\"" +
                    event_type_name(event_type(event.body)) + "\"";
  Fields f(out);
  std::visit([&f](const auto& e) { body_json(f, e); }, event.body);
  out += '}';
  return out;
}

std::string event_line(uint64_t seq, const Event& event, const State& state) {
  std::string out = format_instant(event.time_ms) + "  #" + std::to_string(seq) + "  " +
                    event_type_name(event_type(event.body));
  const Subject who = subject(state, event);
  if (who.user != UserId::none) {
    out += "  user=";
    out += state.user(who.user).name.view();
  }
  if (who.has_seat) {
    const DateEntry& d = state.date(who.date);
    char day[11] = {};
    format_day(d.day, day);
    out += "  seat=" + std::to_string(raw(d.concert)) + "/" + day + "/" + std::to_string(who.seat);
  }
  // The event's own fields, as in the JSON form, for the rest.
  const std::string json = event_json(seq, event);
  const size_t type_end = json.find(',', json.find("\"type\""));
  if (type_end != std::string::npos && type_end + 1 < json.size() - 1) {
    out += "  ";
    out.append(json, type_end + 1, json.size() - type_end - 2);
  }
  return out;
}

}  // namespace boxoffice::replay
