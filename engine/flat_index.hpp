// FlatIndex: an open-addressing hash index from a key's 64-bit hash to a
// 64-bit value (an id or a serial number) that names where the key lives.
//
// The index stores no keys: find(hash, match) asks the caller whether the
// value it found names the key sought. Slots are {hash, value + 1} (0: empty)
// in one power-of-two array, probed linearly from the slot Fibonacci hashing
// picks (the hash's high bits after a multiply, so a weak hash still
// spreads), at most half full; erase
// shifts the following slots back (no tombstones), so probes stay short
// under churn. Growing rehashes from the stored hashes alone. No node is
// allocated per key: a lookup is one or two cache lines.
//
// Contract: insert() takes a (hash, value) that is not in the index (the
// caller has looked it up); erase() takes one that is. A value is below
// UINT64_MAX.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/assert.hpp"

namespace boxoffice {

class FlatIndex {
 public:
  // Makes room for `n` entries without growing.
  void reserve(size_t n) {
    if (capacity_for(n) > slots_.size()) rehash(capacity_for(n));
  }

  size_t size() const { return size_; }

  // Brings in the cache line where a probe for `hash` starts.
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(hash)]);
  }

  // The value of the entry with this hash for which match(value) is true.
  template <typename Match>
  std::optional<uint64_t> find(uint64_t hash, Match&& match) const {
    if (size_ == 0) return std::nullopt;
    for (size_t i = home(hash); slots_[i].value_plus_one != 0; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.hash == hash && match(s.value_plus_one - 1)) return s.value_plus_one - 1;
    }
    return std::nullopt;
  }

  void insert(uint64_t hash, uint64_t value) {
    BOXOFFICE_ASSERT(value != UINT64_MAX);
    if (capacity_for(size_ + 1) > slots_.size()) rehash(capacity_for(size_ + 1));
    place(hash, value + 1);
    size_++;
  }

  void erase(uint64_t hash, uint64_t value) {
    size_t hole = home(hash);
    while (!(slots_[hole].hash == hash && slots_[hole].value_plus_one == value + 1)) {
      BOXOFFICE_ASSERT(slots_[hole].value_plus_one != 0);  // it is in the index
      hole = (hole + 1) & mask();
    }
    // Backward shift: move each following slot of the run into the hole when
    // its home is not between the hole and it (cyclically).
    for (size_t i = (hole + 1) & mask(); slots_[i].value_plus_one != 0; i = (i + 1) & mask()) {
      const size_t h = home(slots_[i].hash);
      const bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
      if (stays) continue;
      slots_[hole] = slots_[i];
      hole = i;
    }
    slots_[hole] = Slot{};
    size_--;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t value_plus_one = 0;
  };

  // At most half full; at least 16 slots.
  static size_t capacity_for(size_t n) { return std::bit_ceil(std::max<size_t>(16, n * 2)); }
  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint64_t hash) const {
    return static_cast<size_t>((hash * 0x9e3779b97f4a7c15ULL) >> shift_);
  }

  void place(uint64_t hash, uint64_t value_plus_one) {
    size_t i = home(hash);
    while (slots_[i].value_plus_one != 0) i = (i + 1) & mask();
    slots_[i] = Slot{hash, value_plus_one};
  }

  void rehash(size_t capacity) {
    BOXOFFICE_ASSERT(std::has_single_bit(capacity) && capacity >= 2 * size_);
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    shift_ = 64 - std::countr_zero(capacity);
    for (const Slot& s : old) {
      if (s.value_plus_one != 0) place(s.hash, s.value_plus_one);
    }
  }

  std::vector<Slot> slots_;
  int shift_ = 64;  // 64 - log2(slots_.size())
  size_t size_ = 0;
};

}  // namespace boxoffice
