// FlatIndex: finds exactly what was inserted and not erased, under random
// churn, colliding hashes and growth, against std::multimap as the model
// (flat_index.hpp).
#include "engine/flat_index.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "tests/support/splitmix.hpp"

namespace boxoffice {
namespace {

// What the model has for `hash`: every value.
std::vector<uint64_t> model_values(const std::multimap<uint64_t, uint64_t>& model, uint64_t hash) {
  std::vector<uint64_t> out;
  for (auto [it, end] = model.equal_range(hash); it != end; ++it) out.push_back(it->second);
  return out;
}

void check_same(const FlatIndex& index, const std::multimap<uint64_t, uint64_t>& model,
                uint64_t hash, uint64_t value) {
  const bool in_model = [&] {
    for (const uint64_t v : model_values(model, hash)) {
      if (v == value) return true;
    }
    return false;
  }();
  const auto found = index.find(hash, [&](uint64_t v) { return v == value; });
  CHECK(found.has_value() == in_model);
  if (found.has_value()) CHECK(*found == value);
}

TEST_CASE("FlatIndex: an empty index finds nothing") {
  FlatIndex index;
  CHECK(index.size() == 0);
  CHECK_FALSE(index.find(42, [](uint64_t) { return true; }).has_value());
  index.reserve(1000);
  CHECK_FALSE(index.find(42, [](uint64_t) { return true; }).has_value());
}

TEST_CASE("FlatIndex: values under one hash are told apart by match") {
  FlatIndex index;
  for (uint64_t v = 0; v < 100; v++) index.insert(7, v);  // one long run of collisions
  CHECK(index.size() == 100);
  for (uint64_t v = 0; v < 100; v++) {
    CHECK(index.find(7, [&](uint64_t x) { return x == v; }) == v);
  }
  CHECK_FALSE(index.find(7, [](uint64_t x) { return x == 100; }).has_value());
  CHECK_FALSE(index.find(8, [](uint64_t) { return true; }).has_value());
  for (uint64_t v = 0; v < 100; v += 2) index.erase(7, v);
  for (uint64_t v = 0; v < 100; v++) {
    CHECK(index.find(7, [&](uint64_t x) { return x == v; }).has_value() == (v % 2 == 1));
  }
}

TEST_CASE("FlatIndex: random churn matches a multimap, across growth and wrap-around") {
  for (const uint64_t hash_range : {uint64_t{8}, uint64_t{1000}, UINT64_MAX}) {
    CAPTURE(hash_range);
    test::SplitMix rng(hash_range);
    FlatIndex index;
    std::multimap<uint64_t, uint64_t> model;
    std::vector<std::pair<uint64_t, uint64_t>> present;
    uint64_t next_value = 0;
    for (int step = 0; step < 20000; step++) {
      const bool insert = present.empty() || rng.below(100) < 60;
      if (insert) {
        const uint64_t hash = hash_range == UINT64_MAX ? rng.next() : rng.below(hash_range);
        index.insert(hash, next_value);
        model.emplace(hash, next_value);
        present.emplace_back(hash, next_value);
        next_value++;
      } else {
        const size_t i = rng.below(present.size());
        const auto [hash, value] = present[i];
        index.erase(hash, value);
        for (auto [it, end] = model.equal_range(hash); it != end; ++it) {
          if (it->second == value) {
            model.erase(it);
            break;
          }
        }
        present[i] = present.back();
        present.pop_back();
        check_same(index, model, hash, value);  // gone
      }
      REQUIRE(index.size() == model.size());
      if (step % 97 == 0) {
        for (const auto& [hash, value] : present) check_same(index, model, hash, value);
      }
    }
    for (const auto& [hash, value] : present) check_same(index, model, hash, value);
  }
}

}  // namespace
}  // namespace boxoffice
