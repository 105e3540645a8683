// SessionFlow and the request writers shared by the agents.
#include <fmt/format.h>

#include "bench/load/agent.hpp"

namespace boxoffice::load {

void fill_hold(const Plan& plan, const UserSession& session, SeatChoice seat, RequestSpec& out) {
  out.clear();
  out.kind = Kind::hold;
  out.method = Method::post;
  out.target = "/v1/reservations";
  out.bearer = session.token;
  fmt::format_to(std::back_inserter(out.body), R"({{"concertId":{},"date":"{}","seatNumber":{}}})",
                 plan.concert_id, plan.dates[seat.date_index], seat.seat);
}

namespace {

void fill_get(Kind kind, const UserSession& session, RequestSpec& out) {
  out.clear();
  out.kind = kind;
  out.method = Method::get;
  out.bearer = session.token;
}

}  // namespace

void fill_dates(const Plan& plan, const UserSession& session, RequestSpec& out) {
  fill_get(Kind::dates, session, out);
  fmt::format_to(std::back_inserter(out.target), "/v1/concerts/{}/dates", plan.concert_id);
}

void fill_seats(const Plan& plan, const UserSession& session, uint32_t date, RequestSpec& out) {
  fill_get(Kind::seats, session, out);
  fmt::format_to(std::back_inserter(out.target), "/v1/concerts/{}/dates/{}/seats", plan.concert_id,
                 plan.dates[date]);
}

void fill_seat(const Plan& plan, const UserSession& session, SeatChoice seat, RequestSpec& out) {
  fill_get(Kind::seat, session, out);
  fmt::format_to(std::back_inserter(out.target), "/v1/concerts/{}/dates/{}/seats/{}",
                 plan.concert_id, plan.dates[seat.date_index], seat.seat);
}

void fill_charge(const UserSession& session, int64_t amount, RequestSpec& out) {
  out.clear();
  out.kind = Kind::charge;
  out.method = Method::post;
  out.target = "/v1/balance/charge";
  out.bearer = session.token;
  fmt::format_to(std::back_inserter(out.body), R"({{"amount":{}}})", amount);
}

void fill_pay(const UserSession& session, uint64_t reservation_id, RequestSpec& out) {
  out.clear();
  out.kind = Kind::pay;
  out.method = Method::post;
  out.target = "/v1/payments";
  out.bearer = session.token;
  fmt::format_to(std::back_inserter(out.body), R"({{"reservationId":{}}})", reservation_id);
  fmt::format_to(std::back_inserter(out.idempotency_key), "pay-{}", reservation_id);
}

void fill_join(const UserSession& session, RequestSpec& out) {
  out.clear();
  out.kind = Kind::join;
  out.method = Method::post;
  out.target = "/v1/queue/tokens";
  fmt::format_to(std::back_inserter(out.body), R"({{"userId":"{}"}})", session.user_id);
}

void fill_poll(const UserSession& session, RequestSpec& out) {
  out.clear();
  out.kind = Kind::poll;
  out.method = Method::get;
  out.target = "/v1/queue/tokens/current";
  out.bearer = session.token;
}

void fill_leave(const UserSession& session, RequestSpec& out) {
  out.clear();
  out.kind = Kind::leave;
  out.method = Method::del;
  out.target = "/v1/queue/tokens/current";
  out.bearer = session.token;
}

Step SessionFlow::next(const Plan&, UserSession& session, int64_t now_ns, RequestSpec& out) {
  if (session.token.empty()) {
    fill_join(session, out);
    return Step::sent();
  }
  if (now_ns < next_poll_ns_) return Step::wait_until(next_poll_ns_);
  fill_poll(session, out);
  return Step::sent();
}

bool SessionFlow::on_response(ThreadContext& context, UserSession& session, Kind kind,
                              const Response& response, int64_t now_ns) {
  const int64_t interval_ns = context.plan->poll_interval_ns;
  if (kind == Kind::join || kind == Kind::poll) {
    if (response.status == 200 || response.status == 201) {
      if (const auto info = context.json.token(response.body)) {
        session.token.assign(info->token);
        session.active = info->active;
        session.position = info->position;
      }
      next_poll_ns_ = now_ns + interval_ns;
    } else if (response.status == 401) {
      session.forget_token();
    }
    return true;  // anything else (no answer, 503): the driver waits, then we ask again
  }
  if (response.code == ErrorCode::token_expired || response.code == ErrorCode::unauthorized) {
    session.forget_token();
    return true;
  }
  if (response.code == ErrorCode::token_not_active) {
    session.active = false;
    next_poll_ns_ = now_ns + interval_ns;
    return true;
  }
  return false;
}

}  // namespace boxoffice::load
