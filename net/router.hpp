// Router: an HTTP method and request target to one of the API's routes.
//
// Contract: `route(method, target)` looks only at the path (the query is
// handed back untouched). A path that no route has is `not_found`; a path
// that some route has, but not with this method, is `method_not_allowed`
// with the `Allow` value listing the methods that path accepts. Path
// parameters come back raw (unparsed, unvalidated): turning "abc" into 0 or
// a bad date into day -1 is the request parser's job, so that the core can
// answer 404 after checking the token (API.md, order of checks).
//
// `route_table()` is the one list of routes; docs/openapi.yaml must describe
// exactly these (a test compares them).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace boxoffice::net {

enum class Method : uint8_t { get, post, del, other };

std::string_view method_name(Method method);

enum class Route : uint8_t {
  join_queue,
  poll_token,
  leave_queue,
  list_concerts,
  get_dates,
  get_seats,
  get_seat,
  hold_seat,
  list_reservations,
  get_reservation,
  cancel_reservation,
  get_balance,
  charge_balance,
  pay,
  list_payments,
  refund,
  create_concert,
  healthz,
  metrics,
};
inline constexpr size_t route_count = static_cast<size_t>(Route::metrics) + 1;

struct RouteSpec {
  Method method;
  std::string_view path;  // a template: "{name}" matches one non-empty segment
  Route route;
  std::string_view name;  // a stable label, for metrics and logs
};

// Every route of the API, in a fixed order.
std::span<const RouteSpec> route_table();
// The route's entry in route_table().
const RouteSpec& route_spec(Route route);

inline constexpr size_t path_params_max = 3;

struct RouteMatch {
  enum class Kind : uint8_t { found, not_found, method_not_allowed };
  Kind kind = Kind::not_found;
  Route route = Route::healthz;
  std::array<std::string_view, path_params_max> params{};  // in template order
  std::string_view query;  // after '?', without it; empty when absent
  std::string_view allow;  // for method_not_allowed: e.g. "GET, DELETE"
};

RouteMatch route(Method method, std::string_view target);

// GET /v1/payments?page=&limit=. Absent parameters keep their defaults (1
// and 20); unknown parameters are ignored; a repeated one takes its last
// value. Returns false when a value is not a decimal int64 (the caller
// answers 400 after authentication). Ranges are the core's to check.
bool parse_page_query(std::string_view query, int64_t* page, int64_t* limit);

// Parses a whole string as a decimal int64 (optional '-', digits, no
// spaces, no '+', no overflow).
bool parse_int64(std::string_view s, int64_t* out);

}  // namespace boxoffice::net
