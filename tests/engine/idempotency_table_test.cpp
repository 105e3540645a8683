// IdempotencyTable: keys by (user, key), first-use order, forgetting the
// oldest, across the compaction of its forgotten prefix
// (idempotency_table.hpp).
#include "engine/idempotency_table.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace boxoffice {
namespace {

IdempotentKey key_of(uint32_t user, const std::string& key) {
  return IdempotentKey{UserId{user}, IdempotencyKey::from(key)};
}

IdempotentEntry entry_of(uint64_t id) {
  IdempotentEntry e;
  e.id = id;
  e.created_ms = static_cast<TimeMs>(id);
  return e;
}

std::vector<uint64_t> ids_in_order(const IdempotencyTable& t) {
  std::vector<uint64_t> out;
  t.for_each([&](const IdempotentKey&, const IdempotentEntry& e) { out.push_back(e.id); });
  return out;
}

TEST_CASE("IdempotencyTable: the same key of two users is two entries") {
  IdempotencyTable t;
  CHECK(t.empty());
  CHECK(t.find(key_of(1, "k")) == nullptr);
  t.insert(key_of(1, "k"), entry_of(10));
  t.insert(key_of(2, "k"), entry_of(20));
  t.insert(key_of(1, "k2"), entry_of(30));
  CHECK(t.size() == 3);
  REQUIRE(t.find(key_of(1, "k")) != nullptr);
  CHECK(t.find(key_of(1, "k"))->id == 10);
  CHECK(t.find(key_of(2, "k"))->id == 20);
  CHECK(t.find(key_of(1, "k2"))->id == 30);
  CHECK(t.find(key_of(2, "k2")) == nullptr);
  CHECK(t.find(key_of(3, "k")) == nullptr);
  CHECK(t.oldest().value.id == 10);
  CHECK(ids_in_order(t) == std::vector<uint64_t>{10, 20, 30});
}

TEST_CASE("IdempotencyTable: forgetting the oldest keeps order and lookups, past compaction") {
  IdempotencyTable t;
  std::deque<uint64_t> model;  // ids, first use first
  uint64_t next = 0;
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 37; i++, next++) {
      t.insert(key_of(static_cast<uint32_t>(1 + next % 5), "key-" + std::to_string(next)),
               entry_of(next));
      model.push_back(next);
    }
    for (int i = 0; i < 29 && !model.empty(); i++) {
      CHECK(t.oldest().value.id == model.front());
      t.pop_oldest();
      model.pop_front();
    }
    REQUIRE(t.size() == model.size());
    CHECK(ids_in_order(t) == std::vector<uint64_t>(model.begin(), model.end()));
  }
  for (uint64_t id = 0; id < next; id++) {
    const IdempotentEntry* e =
        t.find(key_of(static_cast<uint32_t>(1 + id % 5), "key-" + std::to_string(id)));
    const bool live = !model.empty() && id >= model.front();
    CHECK((e != nullptr) == live);
    if (e != nullptr) CHECK(e->id == id);
  }
  while (!t.empty()) t.pop_oldest();
  CHECK(t.find(key_of(1, "key-0")) == nullptr);
  t.insert(key_of(1, "key-0"), entry_of(7));  // a forgotten key may be used again
  CHECK(t.find(key_of(1, "key-0"))->id == 7);
}

}  // namespace
}  // namespace boxoffice
