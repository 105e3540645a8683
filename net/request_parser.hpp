// RequestParser: one HTTP request to an engine Command, or to an immediate
// reply that needs no core.
//
// Contract, in API.md's order of checks:
//  1. Route: unknown path 404, known path with another method 405 (+Allow).
//  2. Authentication that needs no state: a missing, malformed or forged
//     bearer token is 401 at once; an admin call without the configured
//     X-Admin-Key (or with none configured) is 403. Whether a well-signed
//     token exists, is live or active is the core's to say.
//  3. Shape: the JSON body (simdjson On-Demand) must be one object with the
//     route's fields of the right JSON types; unknown fields are ignored,
//     numbers must be integers that fit in int64, the Idempotency-Key header
//     must be 1..64 printable ASCII characters. On an authenticated route a
//     bad shape becomes RejectAfterAuth, so that the core answers 400 only
//     after it has found the token live (or active); elsewhere it is 400 now.
//     A path parameter that does not parse becomes 0 (a day: -1), which
//     names nothing, so the core answers 404 after checking the token.
//  4. Everything else (ranges, charsets, dates that exist...) is the core's.
//
// A `userId` in the body of an authenticated call is ignored: the user is
// the token's. One parser per I/O thread: it reuses its JSON parsers and
// buffers, and never throws.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/command.hpp"
#include "net/router.hpp"
#include "net/token_codec.hpp"

namespace boxoffice::net {

inline constexpr size_t body_bytes_max = 64 * 1024;
// How deep a body's arrays and objects may nest (the body itself is level
// 1); deeper is 400. The parser recurses this deep into unknown fields, and
// stays below simdjson's own depth limit (net/request_parser.cpp asserts it).
inline constexpr uint32_t json_depth_max = 1000;
inline constexpr size_t detail_chars_max = 95;

// The parts of an HTTP request the parser reads. Absent headers are nullopt.
struct HttpRequestView {
  Method method = Method::get;
  std::string_view target;
  std::optional<std::string_view> authorization;
  std::optional<std::string_view> idempotency_key;
  std::optional<std::string_view> admin_key;
  std::string_view body;
};

struct ParsedRequest {
  enum class Kind : uint8_t {
    command,  // send `command` to the core
    reply,    // answer `code` now
    healthz,  // operations endpoints, answered by the I/O thread
    metrics,
  };
  Kind kind = Kind::reply;
  bool routed = false;  // `route` is meaningful
  Route route = Route::healthz;
  Code code = Code::ok;    // for `reply`, and the code a RejectAfterAuth carries
  std::string_view allow;  // for 405
  Command command;
  // Why the request is malformed, for the error message (also carried with
  // a RejectAfterAuth); empty otherwise.
  std::array<char, detail_chars_max + 1> detail_buf{};
  uint8_t detail_size = 0;

  std::string_view detail() const { return {detail_buf.data(), detail_size}; }
  void set_detail(std::string_view a, std::string_view b = {}, std::string_view c = {});
};

class RequestParser {
 public:
  // `admin_key`: nullopt when none is configured (every admin call is 403).
  RequestParser(const TokenSecret& secret, std::optional<std::string> admin_key);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses `request` stamped at `now_ms` into `*out` (fully overwritten).
  void parse(const HttpRequestView& request, TimeMs now_ms, ParsedRequest* out);

  TokenCodec& tokens() { return tokens_; }

 private:
  struct Json;  // the simdjson parsers and the padded copy of the body

  bool authenticate(const HttpRequestView& request, ParsedRequest* out, TokenId* token);
  bool admin_allowed(const HttpRequestView& request) const;
  void parse_routed(const HttpRequestView& request, const RouteMatch& match, ParsedRequest* out);
  bool parse_command(const HttpRequestView& request, const RouteMatch& match, TokenId token,
                     ParsedRequest* out);

  TokenCodec tokens_;
  std::optional<std::string> admin_key_;
  std::unique_ptr<Json> json_;
};

// Bearer token text from an Authorization value ("Bearer <token>", the
// scheme case-insensitive), or nullopt.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace boxoffice::net
