// PurchaseAgent: the buyer of the purchase and sale-open scenarios.
#include <fmt/format.h>

#include "bench/load/ledger.hpp"
#include "bench/load/scenarios.hpp"

namespace boxoffice::load {

PurchaseAgent::PurchaseAgent(ThreadContext& context, UserSession& session, uint64_t seed,
                             bool one_shot, int64_t arrival_ns)
    : context_(context),
      session_(session),
      rng_(seed),
      one_shot_(one_shot),
      arrival_ns_(arrival_ns) {}

Step PurchaseAgent::next(int64_t now_ns, RequestSpec& out) {
  const Plan& plan = *context_.plan;
  if (stage_ == Stage::arrive) {
    if (now_ns < arrival_ns_) return Step::wait_until(arrival_ns_);
    stage_ = Stage::hold;
  }
  if (stage_ == Stage::done) return Step::finished();
  if (stage_ == Stage::leave) {
    if (session_.token.empty()) return Step::finished();
    fill_leave(session_, out);
    return Step::sent();
  }
  if (!session_.active) return flow_.next(plan, session_, now_ns, out);
  switch (stage_) {
    case Stage::hold:
      fill_hold(out);
      break;
    case Stage::look_dates:
      fill_dates(plan, session_, out);
      break;
    case Stage::look_seats:
      fill_seats(plan, session_, free_date_, out);
      break;
    case Stage::charge:
      fill_charge(session_, plan.options.price, out);
      break;
    default:
      fill_pay(session_, reservation_id_, out);
      break;
  }
  return Step::sent();
}

// A seat from the last seat map read, if it had free ones; else from the picker.
void PurchaseAgent::fill_hold(RequestSpec& out) {
  if (free_seats_.empty()) {
    pending_ = context_.plan->picker.pick(rng_);
  } else {
    const size_t i = rng_.below(free_seats_.size());
    pending_ = {free_date_, free_seats_[i]};
    free_seats_[i] = free_seats_.back();
    free_seats_.pop_back();
  }
  load::fill_hold(*context_.plan, session_, pending_, out);
}

void PurchaseAgent::on_response(Kind kind, const Response& response, int64_t now_ns) {
  if (flow_.on_response(context_, session_, kind, response, now_ns)) return;
  switch (kind) {
    case Kind::hold:
      on_hold(response, now_ns);
      break;
    case Kind::dates:
    case Kind::seats:
      on_look(kind, response);
      break;
    case Kind::charge:
      if (response.status == 200 || response.status == 400) stage_ = Stage::pay;
      break;
    case Kind::pay:
      on_pay(response, now_ns);
      break;
    case Kind::leave:
      if (response.status != 0 && response.status != 503) {
        session_.forget_token();
        stage_ = Stage::done;
      }
      break;
    default:
      break;
  }
}

void PurchaseAgent::on_hold(const Response& response, int64_t now_ns) {
  if (response.status == 201) {
    if (const auto r = context_.json.reservation(response.body)) {
      reservation_id_ = r->first;
      context_.ledger->granted(r->first, pending_.date_index, pending_.seat, r->second, now_ns);
      misses_ = 0;
      stage_ = context_.plan->options.price > 0 ? Stage::charge : Stage::pay;
    }
  } else if (response.code == ErrorCode::seat_unavailable) {
    ++failed_holds_;
    if (++misses_ >= blind_misses_max) {  // guessing, or the map read last is stale
      free_seats_.clear();
      stage_ = Stage::look_dates;
    }
  } else if (response.status == 0) {
    context_.ledger->unknown_outcome();
  } else if (response.status != 503) {
    stage_ = Stage::leave;  // sales closed, hold limit, or a request the server refuses
  }
}

void PurchaseAgent::on_look(Kind kind, const Response& response) {
  if (response.status != 200) return;  // ask again
  if (kind == Kind::dates) {
    const auto available = context_.json.available_seats(response.body);
    if (!available) return;
    std::vector<uint32_t> open;
    for (uint32_t i = 0; i < available->size(); ++i) {
      if ((*available)[i] > 0) open.push_back(i);
    }
    if (open.empty()) {
      sold_out_ = true;
      stage_ = Stage::leave;
      return;
    }
    free_date_ = open[rng_.below(open.size())];
    stage_ = Stage::look_seats;
    return;
  }
  statuses_.assign(context_.plan->options.seats, SeatStatus::unknown);
  if (!context_.json.seat_statuses(response.body, statuses_)) return;
  free_seats_.clear();
  for (uint32_t i = 0; i < statuses_.size(); ++i) {
    if (statuses_[i] == SeatStatus::available) free_seats_.push_back(i + 1);
  }
  misses_ = 0;
  stage_ = free_seats_.empty() ? Stage::look_dates : Stage::hold;
}

void PurchaseAgent::on_pay(const Response& response, int64_t now_ns) {
  if (response.status == 201) {
    context_.ledger->paid(reservation_id_, now_ns);
    if (purchases_++ == 0) first_paid_ns_ = now_ns;
    session_.forget_token();  // a payment uses the token up
    stage_ = one_shot_ ? Stage::done : Stage::hold;
  } else if (response.code == ErrorCode::insufficient_balance) {
    stage_ = Stage::charge;
  } else if (response.code == ErrorCode::reservation_not_payable) {
    context_.ledger->ended(reservation_id_);
    stage_ = Stage::hold;
  } else if (response.status != 0 && response.status != 503) {
    stage_ = Stage::leave;
  }
}

}  // namespace boxoffice::load
