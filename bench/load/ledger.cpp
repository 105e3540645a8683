#include "bench/load/ledger.hpp"

namespace boxoffice::load {

void Ledger::granted(uint64_t reservation_id, uint32_t date_index, uint32_t seat,
                     int64_t expires_ms, int64_t now_ns) {
  index_[reservation_id] = records_.size();
  records_.push_back({reservation_id, date_index, seat, expires_ms, HoldState::held, now_ns, 0});
}

HoldRecord* Ledger::find(uint64_t reservation_id) {
  const auto it = index_.find(reservation_id);
  return it == index_.end() ? nullptr : &records_[it->second];
}

void Ledger::cancelled(uint64_t reservation_id) {
  if (HoldRecord* r = find(reservation_id)) r->state = HoldState::cancelled;
}

void Ledger::paid(uint64_t reservation_id, int64_t now_ns) {
  if (HoldRecord* r = find(reservation_id)) {
    r->state = HoldState::paid;
    r->paid_ns = now_ns;
  }
}

void Ledger::ended(uint64_t reservation_id) {
  if (HoldRecord* r = find(reservation_id)) r->state = HoldState::ended;
}

void Ledger::merge(const Ledger& other) {
  for (const HoldRecord& r : other.records_) {
    index_[r.reservation_id] = records_.size();
    records_.push_back(r);
  }
  unknown_outcomes_ += other.unknown_outcomes_;
}

}  // namespace boxoffice::load
