// EventBatch: events and their sequence numbers, empty batches, and reuse
// without reallocation.
#include "storage/event_batch.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace boxoffice::storage {
namespace {

void append(EventBatch& batch, std::vector<uint8_t> bytes) {
  batch.bytes().insert(batch.bytes().end(), bytes.begin(), bytes.end());
  batch.seal_event();
}

TEST_CASE("a batch holds consecutive events") {
  EventBatch batch;
  batch.reset(10);
  CHECK(batch.empty());
  CHECK(batch.count() == 0);
  CHECK(batch.first_seq() == 10);
  CHECK(batch.last_seq() == 9);
  CHECK(batch.sealed());
  append(batch, {1});
  append(batch, {2, 2});
  batch.bytes().push_back(3);
  CHECK(!batch.sealed());  // an event is being appended
  batch.bytes().push_back(3);
  batch.bytes().push_back(3);
  batch.seal_event();
  CHECK(batch.sealed());
  CHECK(batch.count() == 3);
  CHECK(batch.last_seq() == 12);
  CHECK(batch.sealed_bytes() == 6);
  CHECK(std::vector<uint8_t>(batch.event(0).begin(), batch.event(0).end()) ==
        std::vector<uint8_t>{1});
  CHECK(std::vector<uint8_t>(batch.event(1).begin(), batch.event(1).end()) ==
        std::vector<uint8_t>{2, 2});
  CHECK(std::vector<uint8_t>(batch.event(2).begin(), batch.event(2).end()) ==
        std::vector<uint8_t>{3, 3, 3});
}

TEST_CASE("a warmed batch is refilled without reallocating") {
  EventBatch batch;
  batch.reset(1);
  for (int i = 0; i < 100; i++) append(batch, std::vector<uint8_t>(20, static_cast<uint8_t>(i)));
  const uint8_t* data = batch.bytes().data();
  const size_t capacity = batch.bytes().capacity();
  batch.reset(101);
  CHECK(batch.empty());
  CHECK(batch.bytes().empty());
  for (int i = 0; i < 100; i++) append(batch, std::vector<uint8_t>(20, static_cast<uint8_t>(i)));
  CHECK(batch.bytes().data() == data);
  CHECK(batch.bytes().capacity() == capacity);
  CHECK(batch.first_seq() == 101);
  CHECK(batch.last_seq() == 200);
}

}  // namespace
}  // namespace boxoffice::storage
