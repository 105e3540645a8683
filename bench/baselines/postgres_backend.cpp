// The PostgreSQL baseline, over libpq with prepared statements.
//
// Schema: seats(date_id, seat) primary key, status 0 available / 1 held, the
// holder, the reservation id and held_until; a partial index on the holder of
// held seats; users(user_id) whose row a hold locks, so one user's holds are
// counted one at a time.
//
// Variants:
//   update      one round trip: hold_seat(), a function that locks the user,
//               counts the user's live holds and does one conditional
//               UPDATE ... WHERE status = available (or the hold expired).
//   for-update  what most applications do: BEGIN; lock the user and count;
//               SELECT the seat FOR UPDATE; UPDATE it; COMMIT (five round trips).
// A cancel is one conditional UPDATE in both.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <cstdlib>

#include "bench/baselines/backend.hpp"

namespace boxoffice::baseline {
namespace {

constexpr const char* schema_sql = R"sql(
DROP TABLE IF EXISTS seats, users CASCADE;
DROP SEQUENCE IF EXISTS reservation_ids;
CREATE SEQUENCE reservation_ids;
CREATE TABLE users (user_id int PRIMARY KEY);
CREATE TABLE seats (
  date_id int NOT NULL,
  seat int NOT NULL,
  status smallint NOT NULL DEFAULT 0,
  user_id int,
  reservation_id bigint,
  held_until timestamptz,
  PRIMARY KEY (date_id, seat));
CREATE INDEX seats_holder ON seats (user_id) WHERE status = 1;
CREATE OR REPLACE FUNCTION hold_seat(p_user int, p_date int, p_seat int, p_max int, p_ttl_ms int)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  held int;
  rid bigint;
BEGIN
  PERFORM 1 FROM users WHERE user_id = p_user FOR UPDATE;
  SELECT count(*) INTO held FROM seats
   WHERE user_id = p_user AND status = 1 AND held_until > now();
  IF held >= p_max THEN RETURN -2; END IF;
  UPDATE seats SET status = 1, user_id = p_user, reservation_id = nextval('reservation_ids'),
                   held_until = now() + p_ttl_ms * interval '1 millisecond'
   WHERE date_id = p_date AND seat = p_seat AND (status = 0 OR held_until <= now())
   RETURNING reservation_id INTO rid;
  RETURN coalesce(rid, -1);
END $$;
)sql";

struct Statement {
  const char* name;
  const char* sql;
  int params;
};

constexpr Statement statements[] = {
    {"hold", "SELECT hold_seat($1, $2, $3, $4, $5)", 5},
    {"cancel",
     "UPDATE seats SET status = 0, user_id = NULL, reservation_id = NULL, held_until = NULL "
     "WHERE date_id = $1 AND seat = $2 AND reservation_id = $3",
     3},
    {"lock_user_count",
     "SELECT (SELECT count(*) FROM seats WHERE user_id = $1 AND status = 1 AND held_until > now()) "
     "FROM users WHERE user_id = $1 FOR UPDATE",
     1},
    {"seat_for_update",
     "SELECT status = 0 OR held_until <= now() FROM seats WHERE date_id = $1 AND seat = $2 "
     "FOR UPDATE",
     2},
    {"take_seat",
     "UPDATE seats SET status = 1, user_id = $3, reservation_id = nextval('reservation_ids'), "
     "held_until = now() + $4 * interval '1 millisecond' WHERE date_id = $1 AND seat = $2 "
     "RETURNING reservation_id",
     4},
};

class PostgresBackend : public Backend {
 public:
  PostgresBackend(Endpoint endpoint, std::string variant)
      : endpoint_(std::move(endpoint)), for_update_(variant == "for-update") {}
  ~PostgresBackend() override {
    if (connection_ != nullptr) PQfinish(connection_);
  }

  std::string connect() override {
    const std::string info = fmt::format(
        "host={} port={} dbname=postgres user=postgres options='-c client_min_messages=warning'",
        endpoint_.host, endpoint_.port);
    connection_ = PQconnectdb(info.c_str());
    if (PQstatus(connection_) != CONNECTION_OK) return PQerrorMessage(connection_);
    return {};
  }

  std::string prepare_store(const HoldShape& shape) override;
  std::string prepare_connection(const HoldShape& shape) override;
  HoldOutcome hold(uint32_t user, uint32_t date, uint32_t seat, uint64_t& reservation) override;
  bool cancel(uint32_t user, uint32_t date, uint32_t seat, uint64_t reservation) override;
  std::string last_error() const override { return error_; }

 private:
  // Runs a prepared statement; the result, or nullptr (error_ set) on failure.
  PGresult* run(const char* name, std::initializer_list<std::string> params);
  bool exec(const char* sql);
  HoldOutcome hold_for_update(uint32_t user, uint32_t date, uint32_t seat, uint64_t& reservation);

  Endpoint endpoint_;
  bool for_update_;
  PGconn* connection_ = nullptr;
  std::string ttl_ms_;
  std::string holds_max_;
  std::string error_;
};

bool PostgresBackend::exec(const char* sql) {
  PGresult* r = PQexec(connection_, sql);
  const ExecStatusType status = PQresultStatus(r);
  const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok) error_ = PQresultErrorMessage(r);
  PQclear(r);
  return ok;
}

std::string PostgresBackend::prepare_store(const HoldShape& shape) {
  const std::string catalog = fmt::format(
      "INSERT INTO seats (date_id, seat) SELECT d, s FROM generate_series(0, {}) d, "
      "generate_series(1, {}) s; INSERT INTO users SELECT generate_series(0, {});",
      shape.dates - 1, shape.seats, shape.users - 1);
  if (!exec(schema_sql)) return "schema: " + error_;
  if (!exec(catalog.c_str())) return "catalog: " + error_;
  if (!exec("VACUUM ANALYZE seats") || !exec("VACUUM ANALYZE users")) return "vacuum: " + error_;
  return {};
}

std::string PostgresBackend::prepare_connection(const HoldShape& shape) {
  for (const Statement& s : statements) {
    PGresult* r = PQprepare(connection_, s.name, s.sql, s.params, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error_ = fmt::format("prepare {}: {}", s.name, PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) return error_;
  }
  ttl_ms_ = std::to_string(shape.hold_ttl_ms);
  holds_max_ = std::to_string(shape.holds_per_user);
  return {};
}

PGresult* PostgresBackend::run(const char* name, std::initializer_list<std::string> params) {
  const char* values[8];
  int n = 0;
  for (const std::string& p : params) values[n++] = p.c_str();
  PGresult* r = PQexecPrepared(connection_, name, n, values, nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(r);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  error_ = PQresultErrorMessage(r);
  PQclear(r);
  return nullptr;
}

HoldOutcome PostgresBackend::hold(uint32_t user, uint32_t date, uint32_t seat,
                                  uint64_t& reservation) {
  if (for_update_) return hold_for_update(user, date, seat, reservation);
  PGresult* r = run("hold", {std::to_string(user), std::to_string(date), std::to_string(seat),
                             holds_max_, ttl_ms_});
  if (r == nullptr) return HoldOutcome::failed;
  const long long id = std::atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  if (id == -1) return HoldOutcome::unavailable;
  if (id == -2) return HoldOutcome::limit;
  reservation = static_cast<uint64_t>(id);
  return HoldOutcome::held;
}

HoldOutcome PostgresBackend::hold_for_update(uint32_t user, uint32_t date, uint32_t seat,
                                             uint64_t& reservation) {
  if (!exec("BEGIN")) return HoldOutcome::failed;
  HoldOutcome outcome = HoldOutcome::failed;
  const std::string u = std::to_string(user);
  const std::string d = std::to_string(date);
  const std::string s = std::to_string(seat);
  if (PGresult* count = run("lock_user_count", {u})) {
    const bool under = std::atoll(PQgetvalue(count, 0, 0)) < std::atoll(holds_max_.c_str());
    PQclear(count);
    outcome = HoldOutcome::limit;
    if (under) {
      if (PGresult* free = run("seat_for_update", {d, s})) {
        const bool available = PQntuples(free) == 1 && PQgetvalue(free, 0, 0)[0] == 't';
        PQclear(free);
        outcome = HoldOutcome::unavailable;
        if (available) {
          PGresult* taken = run("take_seat", {d, s, u, ttl_ms_});
          outcome = taken == nullptr ? HoldOutcome::failed : HoldOutcome::held;
          if (taken != nullptr) {
            reservation = static_cast<uint64_t>(std::atoll(PQgetvalue(taken, 0, 0)));
            PQclear(taken);
          }
        }
      } else {
        outcome = HoldOutcome::failed;
      }
    }
  }
  const bool committed = exec(outcome == HoldOutcome::held ? "COMMIT" : "ROLLBACK");
  return committed ? outcome : HoldOutcome::failed;
}

bool PostgresBackend::cancel(uint32_t, uint32_t date, uint32_t seat, uint64_t reservation) {
  PGresult* r =
      run("cancel", {std::to_string(date), std::to_string(seat), std::to_string(reservation)});
  if (r == nullptr) return false;
  PQclear(r);
  return true;
}

}  // namespace

std::unique_ptr<Backend> make_postgres(const Endpoint& endpoint, const std::string& variant) {
  return std::make_unique<PostgresBackend>(endpoint, variant);
}

}  // namespace boxoffice::baseline
