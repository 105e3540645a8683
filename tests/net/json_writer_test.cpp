#include "net/json_writer.hpp"

#include <doctest/doctest.h>

#include <string>

namespace boxoffice::net {
namespace {

std::string instant(TimeMs ms) {
  char buf[instant_chars];
  format_instant(ms, buf);
  return std::string(buf, sizeof buf);
}

TEST_CASE("instants are RFC 3339 UTC with milliseconds") {
  CHECK(instant(0) == "1970-01-01T00:00:00.000Z");
  CHECK(instant(1) == "1970-01-01T00:00:00.001Z");
  CHECK(instant(86399999) == "1970-01-01T23:59:59.999Z");
  CHECK(instant(1798138800000) == "2026-12-24T19:00:00.000Z");
  CHECK(instant(951782400123) == "2000-02-29T00:00:00.123Z");
  CHECK(instant(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(instant(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("commas, colons and nesting") {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("a", int64_t{-1});
  w.key("b");
  w.begin_array();
  w.int64(1);
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.null();
  w.boolean(false);
  w.end_array();
  w.field("c", uint64_t{18446744073709551615ULL});
  w.key("d");
  w.day(0);
  w.key("e");
  w.instant_or_null(0);
  w.key("f");
  w.instant_or_null(1);
  w.field("g", true);
  w.end_object();
  CHECK(w.complete());
  CHECK(out == R"({"a":-1,"b":[1,{},[],null,false],"c":18446744073709551615,"d":"1970-01-01",)"
               R"("e":null,"f":"1970-01-01T00:00:00.001Z","g":true})");
}

TEST_CASE("strings are escaped") {
  std::string out;
  JsonWriter w(out);
  constexpr char text[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f caf\xc3\xa9 \0end";
  w.string(std::string_view(text, sizeof text - 1));
  CHECK(out == "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f caf\xc3\xa9 \\u0000end\"");
  out.clear();
  JsonWriter w2(out);
  w2.string("");
  CHECK(out == "\"\"");
}

TEST_CASE("the writer appends to what is there") {
  std::string out = "x";
  JsonWriter w(out);
  w.begin_array();
  w.string("a");
  w.string("b");
  w.end_array();
  CHECK(out == R"(x["a","b"])");
}

}  // namespace
}  // namespace boxoffice::net
