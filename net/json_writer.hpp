// JsonWriter: an append-only JSON writer into a caller's reusable string.
//
// Contract: calls must form one JSON value (begin/end pairs balanced, a key
// before each value inside an object); the writer inserts commas and colons.
// Strings are escaped per RFC 8259: '"', '\\' and every control character
// below 0x20 (as \b \f \n \r \t or \u00XX); other bytes pass through, so
// the caller passes valid UTF-8 (the core checks titles; names are ASCII).
// Keys are written as given: they are the API's own field names, which need
// no escaping. Nesting is at most 64 levels. Nothing here allocates beyond
// the growth of `out`.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/assert.hpp"
#include "engine/civil_date.hpp"
#include "engine/types.hpp"

namespace boxoffice::net {

// Writes an instant as RFC 3339 UTC with milliseconds:
// "2026-12-24T19:00:00.000Z" (24 characters) into out[0..24).
inline constexpr size_t instant_chars = 24;
inline void format_instant(TimeMs ms, char* out) {
  const TimeMs day = ms >= 0 ? ms / limits::ms_per_day : -((-ms - 1) / limits::ms_per_day) - 1;
  const int64_t in_day = ms - day * limits::ms_per_day;
  format_day(static_cast<Day>(day), out);
  const auto two = [](char* p, int64_t v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  out[10] = 'T';
  two(out + 11, in_day / 3600000);
  out[13] = ':';
  two(out + 14, in_day / 60000 % 60);
  out[16] = ':';
  two(out + 17, in_day / 1000 % 60);
  out[19] = '.';
  const int64_t millis = in_day % 1000;
  out[20] = static_cast<char>('0' + millis / 100);
  out[21] = static_cast<char>('0' + millis / 10 % 10);
  out[22] = static_cast<char>('0' + millis % 10);
  out[23] = 'Z';
}

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view k) {
    BOXOFFICE_ASSERT(depth_ > 0 && !after_key_);
    comma();
    out_ += '"';
    out_ += k;
    out_ += "\":";
    after_key_ = true;
  }

  void string(std::string_view s) {
    before_value();
    out_ += '"';
    append_escaped(s);
    out_ += '"';
  }
  void int64(int64_t v) {
    before_value();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void uint64(uint64_t v) {
    before_value();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void boolean(bool v) {
    before_value();
    out_ += v ? "true" : "false";
  }
  void null() {
    before_value();
    out_ += "null";
  }
  // An instant, or null when `ms` is 0 (never happened).
  void instant_or_null(TimeMs ms) {
    if (ms == 0) return null();
    instant(ms);
  }
  void instant(TimeMs ms) {
    before_value();
    char buf[instant_chars + 2];
    buf[0] = '"';
    format_instant(ms, buf + 1);
    buf[instant_chars + 1] = '"';
    out_.append(buf, sizeof buf);
  }
  void day(Day d) {
    before_value();
    char buf[12];
    buf[0] = '"';
    format_day(d, buf + 1);
    buf[11] = '"';
    out_.append(buf, sizeof buf);
  }

  // Shorthands for a key and its value.
  void field(std::string_view k, std::string_view v) { key(k), string(v); }
  void field(std::string_view k, const char* v) { key(k), string(v); }
  void field(std::string_view k, int64_t v) { key(k), int64(v); }
  void field(std::string_view k, uint64_t v) { key(k), uint64(v); }
  void field(std::string_view k, uint32_t v) { key(k), uint64(v); }
  void field(std::string_view k, bool v) { key(k), boolean(v); }

  // True once every opened container is closed.
  bool complete() const { return depth_ == 0 && !after_key_; }

  void append_escaped(std::string_view s) {
    size_t run = 0;
    for (size_t i = 0; i < s.size(); i++) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default: {
          constexpr char hex[] = "0123456789abcdef";
          const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          out_.append(esc, sizeof esc);
        }
      }
    }
    out_.append(s.data() + run, s.size() - run);
  }

 private:
  static constexpr uint32_t depth_max = 64;

  void comma() {
    const uint64_t bit = uint64_t{1} << (depth_ - 1);
    if ((has_items_ & bit) != 0) out_ += ',';
    has_items_ |= bit;
  }
  void before_value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ > 0) comma();
  }
  void open(char c) {
    before_value();
    BOXOFFICE_ASSERT(depth_ < depth_max);
    depth_++;
    has_items_ &= ~(uint64_t{1} << (depth_ - 1));
    out_ += c;
  }
  void close(char c) {
    BOXOFFICE_ASSERT(depth_ > 0 && !after_key_);
    depth_--;
    out_ += c;
  }

  std::string& out_;
  uint32_t depth_ = 0;
  bool after_key_ = false;
  uint64_t has_items_ = 0;  // bit d: the container at depth d+1 has an item
};

}  // namespace boxoffice::net
