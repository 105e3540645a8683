// A store that takes seat holds over its own protocol, for the baselines that
// boxoffice is compared with. One Backend is one connection, used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace boxoffice::baseline {

enum class HoldOutcome : uint8_t { held, unavailable, limit, failed };

struct HoldShape {
  uint32_t dates = 1;
  uint32_t seats = 10'000;  // per date
  uint32_t users = 64;
  uint32_t holds_per_user = 4;
  uint32_t hold_ttl_ms = 300'000;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Connects; returns an error message, or empty.
  virtual std::string connect() = 0;
  // Once, on one connection, before the run: schema, scripts, catalog.
  virtual std::string prepare_store(const HoldShape& shape) = 0;
  // Per connection, after connect: prepared statements or script ids.
  virtual std::string prepare_connection(const HoldShape& shape) = 0;
  // Holds seat `seat` (1-based) of date `date` for `user`; sets `reservation` when held.
  virtual HoldOutcome hold(uint32_t user, uint32_t date, uint32_t seat, uint64_t& reservation) = 0;
  // Releases the hold if it is still `reservation`'s. False when the request failed.
  virtual bool cancel(uint32_t user, uint32_t date, uint32_t seat, uint64_t reservation) = 0;
  virtual std::string last_error() const = 0;
};

struct Endpoint {
  std::string host;  // a name or address; for PostgreSQL also a socket directory
  uint16_t port = 0;
};

std::unique_ptr<Backend> make_redis(const Endpoint& endpoint);
// variant: "update" (one conditional UPDATE in a function, one round trip) or
// "for-update" (SELECT ... FOR UPDATE then UPDATE in a transaction).
std::unique_ptr<Backend> make_postgres(const Endpoint& endpoint, const std::string& variant);

}  // namespace boxoffice::baseline
