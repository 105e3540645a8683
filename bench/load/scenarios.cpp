#include "bench/load/scenarios.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "bench/load/ledger.hpp"

namespace boxoffice::load {

// ---- CreateConcertAgent ----

CreateConcertAgent::CreateConcertAgent(ThreadContext& context, std::string title)
    : context_(context), title_(std::move(title)) {}

Step CreateConcertAgent::next(int64_t, RequestSpec& out) {
  if (finished_) return Step::finished();
  const Plan& plan = *context_.plan;
  out.clear();
  out.kind = Kind::admin;
  out.method = Method::post;
  out.target = "/v1/admin/concerts";
  out.admin_key = plan.options.admin_key;
  auto it = std::back_inserter(out.body);
  fmt::format_to(it, R"({{"title":"{}","dates":[)", title_);
  for (uint32_t i = 0; i < plan.options.dates; ++i) {
    fmt::format_to(it, R"({}{{"date":"{}","seats":{},"price":{}}})", i == 0 ? "" : ",",
                   plan.dates[i], plan.options.seats, plan.options.price);
  }
  out.body += "]}";
  return Step::sent();
}

void CreateConcertAgent::on_response(Kind, const Response& response, int64_t) {
  if (response.status == 0 || response.status == 503) return;  // ask again
  finished_ = true;
  if (response.status == 201) {
    concert_id = context_.json.concert_id(response.body);
    if (!concert_id) error = "the answer to POST /v1/admin/concerts has no concertId";
    return;
  }
  error = fmt::format("POST /v1/admin/concerts answered {} {}", response.status,
                      error_code_name(response.code));
}

// ---- JoinAgent ----

JoinAgent::JoinAgent(ThreadContext& context, UserSession& session, bool wait_active,
                     int64_t charge_amount)
    : context_(context),
      session_(session),
      wait_active_(wait_active),
      charge_amount_(charge_amount) {}

Step JoinAgent::next(int64_t now_ns, RequestSpec& out) {
  const bool placed = !session_.token.empty() && (session_.active || !wait_active_);
  if (!placed) return flow_.next(*context_.plan, session_, now_ns, out);
  if (charge_amount_ > 0 && !charged_) {
    fill_charge(session_, charge_amount_, out);
    return Step::sent();
  }
  return Step::finished();
}

void JoinAgent::on_response(Kind kind, const Response& response, int64_t now_ns) {
  if (flow_.on_response(context_, session_, kind, response, now_ns)) return;
  if (kind == Kind::charge && response.status == 200) charged_ = true;
  if (kind == Kind::charge && response.status == 400) charged_ = true;  // balance at its cap
}

// ---- LeaveAgent ----

Step LeaveAgent::next(int64_t, RequestSpec& out) {
  if (sent_ || session_.token.empty()) return Step::finished();
  fill_leave(session_, out);
  return Step::sent();
}

void LeaveAgent::on_response(Kind, const Response& response, int64_t) {
  if (response.status == 0 || response.status == 503) return;  // try again
  sent_ = true;
  session_.forget_token();
}

// ---- SeatMapAgent ----

SeatMapAgent::SeatMapAgent(ThreadContext& context, UserSession& session)
    : context_(context), session_(session) {
  const Options& o = context.plan->options;
  statuses.assign(o.dates, std::vector<uint8_t>(o.seats, SeatStatus::unknown));
}

Step SeatMapAgent::next(int64_t now_ns, RequestSpec& out) {
  if (!error.empty() || date_index_ == statuses.size()) return Step::finished();
  if (!session_.active) return flow_.next(*context_.plan, session_, now_ns, out);
  fill_seats(*context_.plan, session_, date_index_, out);
  return Step::sent();
}

void SeatMapAgent::on_response(Kind kind, const Response& response, int64_t now_ns) {
  if (flow_.on_response(context_, session_, kind, response, now_ns)) return;
  constexpr uint32_t failures_max = 5;
  if (response.status == 200 && context_.json.seat_statuses(response.body, statuses[date_index_])) {
    ++date_index_;
    failures_ = 0;
  } else if (++failures_ == failures_max) {
    error = fmt::format("GET seats of {} failed {} times (last: {} {})",
                        context_.plan->dates[date_index_], failures_max, response.status,
                        error_code_name(response.code));
  }
}

// ---- PingAgent ----

Step PingAgent::next(int64_t, RequestSpec& out) {
  out.clear();
  out.kind = Kind::health;
  out.method = Method::get;
  out.target = "/healthz";
  return Step::sent();
}

// ---- HoldCycle ----

void HoldCycle::next(const Plan& plan, SplitMix& rng, const UserSession& session,
                     RequestSpec& out) {
  if (!live_.empty() && live_.size() >= holds_max_) {
    out.clear();
    out.kind = Kind::cancel;
    out.method = Method::del;
    out.bearer = session.token;
    fmt::format_to(std::back_inserter(out.target), "/v1/reservations/{}", live_.front());
    return;
  }
  pending_ = plan.picker.pick(rng);
  fill_hold(plan, session, pending_, out);
}

void HoldCycle::on_response(ThreadContext& context, Kind kind, const Response& response,
                            int64_t now_ns) {
  if (kind == Kind::hold) {
    if (response.status == 201) {
      if (const auto r = context.json.reservation(response.body)) {
        live_.push_back(r->first);
        context.ledger->granted(r->first, pending_.date_index, pending_.seat, r->second, now_ns);
      }
    } else if (response.code == ErrorCode::hold_limit_reached) {
      holds_max_ = static_cast<uint32_t>(live_.size());  // the server's limit is lower
    } else if (response.status == 0) {
      context.ledger->unknown_outcome();
    }
    return;
  }
  // cancel: retried until the server says what became of the oldest hold
  if (response.status == 200) {
    context.ledger->cancelled(live_.front());
    live_.pop_front();
  } else if (response.code == ErrorCode::not_cancellable || response.status == 404) {
    context.ledger->ended(live_.front());
    live_.pop_front();
  } else if (response.status == 0) {
    context.ledger->unknown_outcome();
  }
}

// ---- HoldStormAgent ----

HoldStormAgent::HoldStormAgent(ThreadContext& context, UserSession& session, uint64_t seed)
    : context_(context),
      session_(session),
      rng_(seed),
      holds_(context.plan->options.holds_per_user) {}

Step HoldStormAgent::next(int64_t now_ns, RequestSpec& out) {
  if (holds_.stuck()) return Step::finished();
  if (!session_.active) return flow_.next(*context_.plan, session_, now_ns, out);
  holds_.next(*context_.plan, rng_, session_, out);
  return Step::sent();
}

void HoldStormAgent::on_response(Kind kind, const Response& response, int64_t now_ns) {
  if (kind == Kind::hold || kind == Kind::cancel) {
    holds_.on_response(context_, kind, response, now_ns);
  }
  flow_.on_response(context_, session_, kind, response, now_ns);
}

// ---- QueuePollAgent ----

QueuePollAgent::QueuePollAgent(ThreadContext& context, UserSession& session)
    : context_(context), session_(session) {}

Step QueuePollAgent::next(int64_t now_ns, RequestSpec& out) {
  if (session_.token.empty()) return flow_.next(*context_.plan, session_, now_ns, out);
  fill_poll(session_, out);
  return Step::sent();
}

void QueuePollAgent::on_response(Kind kind, const Response& response, int64_t now_ns) {
  flow_.on_response(context_, session_, kind, response, now_ns);
}

// ---- MixedAgent ----

MixedAgent::MixedAgent(ThreadContext& context, UserSession& session, uint64_t seed)
    : context_(context),
      session_(session),
      rng_(seed),
      holds_(context.plan->options.holds_per_user) {}

Step MixedAgent::next(int64_t now_ns, RequestSpec& out) {
  if (!session_.active) return flow_.next(*context_.plan, session_, now_ns, out);
  const Plan& plan = *context_.plan;
  const Mix& mix = plan.options.mix;
  uint64_t draw = rng_.below(mix.total());
  if (draw < mix.hold && !holds_.stuck()) {
    holds_.next(plan, rng_, session_, out);
  } else if ((draw -= mix.hold) < mix.poll) {
    fill_poll(session_, out);
  } else if ((draw -= mix.poll) < mix.seat) {
    fill_seat(plan, session_, plan.picker.pick(rng_), out);
  } else if ((draw -= mix.seat) < mix.dates) {
    fill_dates(plan, session_, out);
  } else {
    fill_seats(plan, session_, static_cast<uint32_t>(rng_.below(plan.options.dates)), out);
  }
  return Step::sent();
}

void MixedAgent::on_response(Kind kind, const Response& response, int64_t now_ns) {
  if (kind == Kind::hold || kind == Kind::cancel) {
    holds_.on_response(context_, kind, response, now_ns);
  }
  flow_.on_response(context_, session_, kind, response, now_ns);
}

}  // namespace boxoffice::load
