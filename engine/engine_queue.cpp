// Engine handlers for the waiting room, the catalog and time.
#include <algorithm>

#include "engine/engine.hpp"

namespace boxoffice {

void Engine::on(Out& out, const JoinQueue& c, Result& r) {
  if (!is_valid_user_name(c.user.view())) return fail(r, Code::invalid_request);
  std::optional<UserId> user = state_.find_user(c.user.view());
  if (user.has_value()) {
    const TokenId live = state_.user(*user).live_token;
    if (live != TokenId::none) {
      state_.touch_token(live, now_ms_);  // asking again is activity
      r.user = *user;
      r.token = token_view(live);
      return;
    }
  }
  if (!state_.line_has_room() || state_.token_count() >= limits::tokens_max) {
    return fail(r, Code::overloaded);
  }
  if (!user.has_value()) {
    if (state_.user_count() >= limits::users_max) return fail(r, Code::overloaded);
    user = UserId{static_cast<uint32_t>(state_.user_count() + 1)};
    emit(out, now_ms_, UserCreated{*user, c.user});
  }
  const TokenId token = state_.next_token_id();
  emit(out, now_ms_, TokenIssued{token, *user});
  admit(out, now_ms_);
  r.created = true;
  r.user = *user;
  r.token = token_view(token);
}

void Engine::on(Out&, const PollToken& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  r.token = token_view(c.token);
  r.user = r.token.user;
}

void Engine::on(Out& out, const LeaveQueue& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::live, now_ms_, r);
  if (r.code != Code::ok) return;
  const bool was_active = state_.token(c.token)->status == TokenStatus::active;
  emit(out, now_ms_, TokenExpired{c.token, TokenEnd::left});
  if (was_active) admit(out, now_ms_);
}

void Engine::on(Out&, const ListConcerts&, Result&) {}

void Engine::on(Out&, const GetDates& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::active, now_ms_, r);
  if (r.code != Code::ok) return;
  if (state_.concert(c.concert) == nullptr) return fail(r, Code::not_found);
  r.concert = c.concert;
}

void Engine::on(Out&, const GetSeats& c, Result& r) {
  r.code = check_token(c.token, TokenNeed::active, now_ms_, r);
  if (r.code != Code::ok) return;
  const std::optional<DateRef> date = state_.find_date(c.concert, c.day);
  if (!date.has_value()) return fail(r, Code::not_found);
  if (c.one_seat && (c.seat < 1 || c.seat > state_.date(*date).total())) {
    return fail(r, Code::not_found);
  }
  r.concert = c.concert;
  r.date = *date;
  r.seat = c.seat;
}

void Engine::on(Out& out, const CreateConcert& c, Result& r) {
  uint32_t title_chars = 0;
  if (!utf8_length(c.title, &title_chars) || title_chars < 1 ||
      title_chars > limits::title_chars_max) {
    return fail(r, Code::invalid_request);
  }
  if (c.dates.empty() || c.dates.size() > limits::dates_per_concert_max) {
    return fail(r, Code::invalid_request);
  }
  ConcertCreated event;
  event.title = c.title;
  event.dates.reserve(c.dates.size());
  uint64_t seats = 0;
  for (const NewDate& d : c.dates) {
    if (d.day < limits::day_min || d.day > limits::day_max) {
      return fail(r, Code::invalid_request);
    }
    if (d.seats < 1 || d.seats > limits::seats_per_date_max) {
      return fail(r, Code::invalid_request);
    }
    if (d.price < 0 || d.price > limits::price_won_max) {
      return fail(r, Code::invalid_request);
    }
    event.dates.push_back(DateSpec{d.day, static_cast<uint32_t>(d.seats), d.price});
    seats += static_cast<uint64_t>(d.seats);
  }
  std::sort(event.dates.begin(), event.dates.end(),
            [](const DateSpec& a, const DateSpec& b) { return a.day < b.day; });
  for (size_t i = 1; i < event.dates.size(); i++) {
    if (event.dates[i - 1].day == event.dates[i].day) return fail(r, Code::invalid_request);
  }
  if (state_.concert_count() >= limits::concerts_max ||
      state_.seats_total() + seats > limits::seats_total_max) {
    return fail(r, Code::overloaded);
  }
  event.concert = ConcertId{static_cast<uint32_t>(state_.concert_count() + 1)};
  r.created = true;
  r.concert = event.concert;
  emit(out, now_ms_, std::move(event));
}

void Engine::on(Out&, const Tick&, Result&) {}

void Engine::on(Out&, const RejectAfterAuth& c, Result& r) {
  BOXOFFICE_ASSERT(c.code != Code::ok);
  r.code = check_token(c.token, c.need, now_ms_, r);
  if (r.code != Code::ok) return;
  return fail(r, c.code);
}

}  // namespace boxoffice
