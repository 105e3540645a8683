// The client's own record of every hold it was granted and what became of it,
// kept per driver thread and merged after the run to check the server's seat
// maps against it (verify.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace boxoffice::load {

enum class HoldState : uint8_t {
  held,       // granted (201), not known to have ended
  cancelled,  // DELETE answered 200
  paid,       // payment answered 201
  ended,      // the server said it is no longer held (expired): NOT_CANCELLABLE, NOT_PAYABLE
};

struct HoldRecord {
  uint64_t reservation_id = 0;
  uint32_t date_index = 0;
  uint32_t seat = 0;  // 1-based
  int64_t expires_ms = 0;
  HoldState state = HoldState::held;
  int64_t granted_ns = 0;  // steady clock of the driver, for time-to-sold-out
  int64_t paid_ns = 0;
};

class Ledger {
 public:
  void granted(uint64_t reservation_id, uint32_t date_index, uint32_t seat, int64_t expires_ms,
               int64_t now_ns);
  void cancelled(uint64_t reservation_id);
  void paid(uint64_t reservation_id, int64_t now_ns);
  void ended(uint64_t reservation_id);
  // A hold, cancel or payment whose answer never came: its effect is unknown.
  void unknown_outcome() { ++unknown_outcomes_; }

  const std::vector<HoldRecord>& records() const { return records_; }
  uint64_t unknown_outcomes() const { return unknown_outcomes_; }
  void merge(const Ledger& other);

 private:
  HoldRecord* find(uint64_t reservation_id);
  std::vector<HoldRecord> records_;
  std::unordered_map<uint64_t, size_t> index_;  // reservation id -> records_ slot
  uint64_t unknown_outcomes_ = 0;
};

}  // namespace boxoffice::load
