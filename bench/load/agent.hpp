// The contract between the scenarios and the HTTP driver.
//
// An Agent is one virtual user's state machine. The driver asks it for its next
// step (a request to send, a time to wait until, or done) and hands it each
// response; an agent has at most one request in flight and never blocks. Agents
// do no I/O and read no clock (time comes in as `now_ns`), so a scenario can be
// driven by a test with made-up responses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load/api.hpp"
#include "bench/load/options.hpp"
#include "bench/load/seat_picker.hpp"

namespace boxoffice::load {

class Ledger;

enum class Method : uint8_t { get, post, del };

// One request as an agent describes it. The driver reuses one RequestSpec per
// thread: agents overwrite every field they use (see clear()).
struct RequestSpec {
  Kind kind = Kind::health;
  Method method = Method::get;
  std::string target;           // path and query
  std::string body;             // JSON; empty for none
  std::string_view bearer;      // token; must outlive the request (the session owns it)
  std::string_view admin_key;   // X-Admin-Key; empty for none
  std::string idempotency_key;  // Idempotency-Key; empty for none

  void clear() {
    target.clear();
    body.clear();
    bearer = {};
    admin_key = {};
    idempotency_key.clear();
  }
};

struct Response {
  unsigned status = 0;               // 0: no response (connect, read or write failed, or timed out)
  ErrorCode code = ErrorCode::none;  // parsed from the body of a 4xx or 5xx
  std::string_view body;
};

struct Step {
  enum Type : uint8_t { send, wait, done } type = done;
  int64_t until_ns = 0;  // for wait: the agent's next step is at or after this time
  static Step sent() { return {send, 0}; }
  static Step wait_until(int64_t ns) { return {wait, ns}; }
  static Step finished() { return {done, 0}; }
};

class Agent {
 public:
  virtual ~Agent() = default;
  // Fills `out` and returns Step::send, or returns wait or done.
  virtual Step next(int64_t now_ns, RequestSpec& out) = 0;
  // The answer to the request of `kind` this agent last sent.
  virtual void on_response(Kind kind, const Response& response, int64_t now_ns) = 0;
};

// What every agent of a run shares, read-only.
struct Plan {
  Options options;
  uint64_t concert_id = 0;
  std::vector<std::string> dates;  // concert_date(i) for each date index
  SeatPicker picker{1, 1, 0};
  int64_t poll_interval_ns = 250'000'000;
  int64_t retry_ns = 20'000'000;  // after a 503 or a failed connection
};

// What the agents of one driver thread share; only that thread touches it.
struct ThreadContext {
  const Plan* plan = nullptr;
  JsonReader json;
  Ledger* ledger = nullptr;
};

// One user's place with the server: its id and, once joined, its token.
struct UserSession {
  std::string user_id;
  std::string token;  // empty: not joined, or the token expired or was used up
  bool active = false;
  uint64_t position = 0;

  void forget_token() {
    token.clear();
    active = false;
    position = 0;
  }
};

// Brings a session to active the way a real client does: join, then poll
// every poll interval while waiting. Used inside the scenario agents.
class SessionFlow {
 public:
  // REQUIRES: !session.active. Fills a join or a poll, or waits for the next poll.
  Step next(const Plan& plan, UserSession& session, int64_t now_ns, RequestSpec& out);
  // Takes the answer to a join or poll. Any other kind: handles the token errors
  // (401 forgets the token, 403 TOKEN_NOT_ACTIVE goes back to polling) and
  // returns true when it did.
  bool on_response(ThreadContext& context, UserSession& session, Kind kind,
                   const Response& response, int64_t now_ns);

 private:
  int64_t next_poll_ns_ = 0;
};

// Writes the request of `kind` for the given session into `out`.
void fill_join(const UserSession& session, RequestSpec& out);
void fill_poll(const UserSession& session, RequestSpec& out);
void fill_leave(const UserSession& session, RequestSpec& out);
void fill_hold(const Plan& plan, const UserSession& session, SeatChoice seat, RequestSpec& out);
void fill_dates(const Plan& plan, const UserSession& session, RequestSpec& out);
void fill_seats(const Plan& plan, const UserSession& session, uint32_t date, RequestSpec& out);
void fill_seat(const Plan& plan, const UserSession& session, SeatChoice seat, RequestSpec& out);
void fill_charge(const UserSession& session, int64_t amount, RequestSpec& out);
// A payment carries an Idempotency-Key, so a retry after a lost answer is safe
// (and is answered even though the first payment used the token up).
void fill_pay(const UserSession& session, uint64_t reservation_id, RequestSpec& out);

}  // namespace boxoffice::load
