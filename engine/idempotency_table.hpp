// IdempotencyTable: the first answer of every write made with an
// Idempotency-Key, by (user, key), in first-use order, forgotten oldest
// first.
//
// Entries sit in one vector in first-use order; the oldest live one is at
// `front_`, and the forgotten prefix is cut off once it is more than half of
// the vector. Each entry has a serial number (its place in first-use order
// since the table began), and a FlatIndex maps the key's hash to the serial,
// so cutting the prefix leaves the index alone. The hash is keyed
// (keyed_hash.hpp): clients choose the keys. Lookups allocate nothing and
// touch one slot and one entry; iteration in first-use order is a walk of
// the vector.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/assert.hpp"
#include "engine/flat_index.hpp"
#include "engine/keyed_hash.hpp"
#include "engine/limits.hpp"
#include "engine/types.hpp"

namespace boxoffice {

// What an idempotency key was first used for, and its answer.
enum class IdempotentKind : uint8_t { hold = 1, charge = 2, pay = 3, refund = 4 };
struct IdempotentEntry {
  uint64_t fingerprint = 0;
  IdempotentKind kind = IdempotentKind::hold;
  uint64_t id = 0;  // reservation, payment or refund id; 0 for a charge
  int64_t balance_after = 0;
  TimeMs created_ms = 0;
};
struct IdempotentKey {
  UserId user = UserId::none;
  IdempotencyKey key;
  friend bool operator==(const IdempotentKey&, const IdempotentKey&) = default;
};

class IdempotencyTable {
 public:
  explicit IdempotencyTable(const HashKey& key = HashKey{}) : key_(key) {}

  struct Entry {
    IdempotentKey key;
    IdempotentEntry value;
    uint64_t hash = 0;
  };

  // The keyed hash of the user id's four bytes (little-endian) and the key's.
  uint64_t hash(const IdempotentKey& k) const {
    static_assert(limits::idempotency_key_bytes_max <= 64, "the buffer below");
    char bytes[4 + 64];
    const uint32_t u = raw(k.user);
    for (int i = 0; i < 4; i++) bytes[i] = static_cast<char>(u >> (8 * i));
    const std::string_view key = k.key.view();
    BOXOFFICE_ASSERT(key.size() <= sizeof bytes - 4);
    std::copy(key.begin(), key.end(), bytes + 4);
    return keyed_hash(key_, std::string_view(bytes, 4 + key.size()));
  }

  void reserve(size_t n) {
    entries_.reserve(n);
    index_.reserve(n);
  }

  size_t size() const { return entries_.size() - front_; }
  // The entries' vector, forgotten prefix included: the place for `n` more
  // (address space, untouched until used), and where it lives.
  void reserve_more_entries(size_t n, size_t bytes_max) {
    const size_t want = std::min(entries_.size() + n, bytes_max / sizeof(Entry));
    if (want > entries_.capacity()) entries_.reserve(want);
  }
  const std::vector<Entry>& entries() const { return entries_; }
  // Brings in where find(k) and insert(k) start.
  void prefetch(const IdempotentKey& k) const { index_.prefetch(hash(k)); }
  bool empty() const { return size() == 0; }

  const IdempotentEntry* find(const IdempotentKey& k) const { return find(k, hash(k)); }

  // Adds a key that is not in the table, as the newest.
  void insert(const IdempotentKey& k, const IdempotentEntry& v) {
    const uint64_t h = hash(k);  // once, for the check and the index
    BOXOFFICE_ASSERT(find(k, h) == nullptr);
    index_.insert(h, base_serial_ + entries_.size());
    entries_.push_back(Entry{k, v, h});
  }

  // The oldest entry. REQUIRES: !empty().
  const Entry& oldest() const {
    BOXOFFICE_ASSERT(!empty());
    return entries_[front_];
  }

  // Forgets the oldest entry. REQUIRES: !empty().
  void pop_oldest() {
    BOXOFFICE_ASSERT(!empty());
    index_.erase(entries_[front_].hash, base_serial_ + front_);
    front_++;
    if (front_ * 2 > entries_.size()) {
      entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(front_));
      base_serial_ += front_;
      front_ = 0;
    }
  }

  // visit(key, value) for every entry, oldest first.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (size_t i = front_; i < entries_.size(); i++) visit(entries_[i].key, entries_[i].value);
  }

 private:
  const IdempotentEntry* find(const IdempotentKey& k, uint64_t h) const {
    if (empty()) return nullptr;
    const std::optional<uint64_t> serial =
        index_.find(h, [&](uint64_t s) { return at(s).key == k; });
    return serial.has_value() ? &at(*serial).value : nullptr;
  }
  const Entry& at(uint64_t serial) const {
    BOXOFFICE_ASSERT(serial >= base_serial_ + front_ && serial - base_serial_ < entries_.size());
    return entries_[static_cast<size_t>(serial - base_serial_)];
  }

  HashKey key_;
  std::vector<Entry> entries_;
  size_t front_ = 0;          // entries_[0, front_) are forgotten
  uint64_t base_serial_ = 0;  // the serial of entries_[0]
  FlatIndex index_;           // hash -> serial
};

}  // namespace boxoffice
