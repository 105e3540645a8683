#include "net/router.hpp"

#include <limits>

namespace boxoffice::net {

namespace {

constexpr std::array<RouteSpec, route_count> routes = {{
    {Method::post, "/v1/queue/tokens", Route::join_queue, "join_queue"},
    {Method::get, "/v1/queue/tokens/current", Route::poll_token, "poll_token"},
    {Method::del, "/v1/queue/tokens/current", Route::leave_queue, "leave_queue"},
    {Method::get, "/v1/concerts", Route::list_concerts, "list_concerts"},
    {Method::get, "/v1/concerts/{concertId}/dates", Route::get_dates, "get_dates"},
    {Method::get, "/v1/concerts/{concertId}/dates/{date}/seats", Route::get_seats, "get_seats"},
    {Method::get, "/v1/concerts/{concertId}/dates/{date}/seats/{seatNumber}", Route::get_seat,
     "get_seat"},
    {Method::post, "/v1/reservations", Route::hold_seat, "hold_seat"},
    {Method::get, "/v1/reservations", Route::list_reservations, "list_reservations"},
    {Method::get, "/v1/reservations/{reservationId}", Route::get_reservation, "get_reservation"},
    {Method::del, "/v1/reservations/{reservationId}", Route::cancel_reservation,
     "cancel_reservation"},
    {Method::get, "/v1/balance", Route::get_balance, "get_balance"},
    {Method::post, "/v1/balance/charge", Route::charge_balance, "charge_balance"},
    {Method::post, "/v1/payments", Route::pay, "pay"},
    {Method::get, "/v1/payments", Route::list_payments, "list_payments"},
    {Method::post, "/v1/refunds", Route::refund, "refund"},
    {Method::post, "/v1/admin/concerts", Route::create_concert, "create_concert"},
    {Method::get, "/healthz", Route::healthz, "healthz"},
    {Method::get, "/metrics", Route::metrics, "metrics"},
}};

constexpr bool table_in_route_order() {
  for (size_t i = 0; i < routes.size(); i++) {
    if (static_cast<size_t>(routes[i].route) != i) return false;
  }
  return true;
}
static_assert(table_in_route_order(), "route_table() is indexed by Route");

// How many bytes of each template come before its first parameter (all of
// it when it has none): a path it matches starts with them, so route()
// tries match_path only on templates whose prefix the path has.
constexpr std::array<size_t, route_count> literal_prefix_bytes = [] {
  std::array<size_t, route_count> bytes{};
  for (size_t i = 0; i < routes.size(); i++) {
    const size_t brace = routes[i].path.find('{');
    bytes[i] = brace == std::string_view::npos ? routes[i].path.size() : brace;
  }
  return bytes;
}();

// Allow values by a mask of methods (get 1, post 2, delete 4), in that order.
constexpr std::array<std::string_view, 8> allow_values = {
    "", "GET", "POST", "GET, POST", "DELETE", "GET, DELETE", "POST, DELETE", "GET, POST, DELETE",
};

uint32_t method_bit(Method m) {
  switch (m) {
    case Method::get:
      return 1;
    case Method::post:
      return 2;
    case Method::del:
      return 4;
    case Method::other:
      break;
  }
  return 0;
}

// Matches `path` against a template, segment by segment; fills `params`.
bool match_path(std::string_view tmpl, std::string_view path,
                std::array<std::string_view, path_params_max>& params) {
  size_t t = 0;
  size_t p = 0;
  size_t n_params = 0;
  while (t < tmpl.size() && p < path.size()) {
    if (tmpl[t] != '/' || path[p] != '/') return false;
    t++, p++;
    size_t t_end = tmpl.find('/', t);
    if (t_end == std::string_view::npos) t_end = tmpl.size();
    size_t p_end = path.find('/', p);
    if (p_end == std::string_view::npos) p_end = path.size();
    const std::string_view t_seg = tmpl.substr(t, t_end - t);
    const std::string_view p_seg = path.substr(p, p_end - p);
    if (!t_seg.empty() && t_seg.front() == '{') {
      if (p_seg.empty() || n_params == path_params_max) return false;
      params[n_params++] = p_seg;
    } else if (t_seg != p_seg) {
      return false;
    }
    t = t_end, p = p_end;
  }
  return t == tmpl.size() && p == path.size();
}

}  // namespace

std::string_view method_name(Method method) {
  switch (method) {
    case Method::get:
      return "GET";
    case Method::post:
      return "POST";
    case Method::del:
      return "DELETE";
    case Method::other:
      break;
  }
  return "OTHER";
}

std::span<const RouteSpec> route_table() { return routes; }

const RouteSpec& route_spec(Route r) { return routes[static_cast<size_t>(r)]; }

RouteMatch route(Method method, std::string_view target) {
  RouteMatch m;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) m.query = target.substr(q + 1);
  uint32_t allowed = 0;
  for (size_t i = 0; i < routes.size(); i++) {
    const RouteSpec& spec = routes[i];
    if (!path.starts_with(spec.path.substr(0, literal_prefix_bytes[i]))) continue;
    std::array<std::string_view, path_params_max> params{};
    if (!match_path(spec.path, path, params)) continue;
    if (spec.method == method) {
      m.kind = RouteMatch::Kind::found;
      m.route = spec.route;
      m.params = params;
      return m;
    }
    allowed |= method_bit(spec.method);
  }
  if (allowed != 0) {
    m.kind = RouteMatch::Kind::method_not_allowed;
    m.allow = allow_values[allowed];
  }
  return m;
}

bool parse_int64(std::string_view s, int64_t* out) {
  bool negative = false;
  size_t i = 0;
  if (!s.empty() && s[0] == '-') negative = true, i = 1;
  if (i == s.size() || s.size() - i > 19) return false;
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');  // at most 19 digits: no wrap
  }
  constexpr auto max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (v > max + (negative ? 1 : 0)) return false;
  *out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool parse_page_query(std::string_view query, int64_t* page, int64_t* limit) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "page") {
      if (!parse_int64(value, page)) return false;
    } else if (key == "limit") {
      if (!parse_int64(value, limit)) return false;
    }
  }
  return true;
}

}  // namespace boxoffice::net
