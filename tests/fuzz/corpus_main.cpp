// boxoffice-fuzz-corpus DIR: writes seed inputs for the decoder fuzz targets
// (every event type and a few snapshots, from a short simulation) into
// DIR/event_decoder and DIR/snapshot_decoder.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/snapshot.hpp"

namespace {

void write(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace boxoffice;
  if (argc != 2) {
    std::fprintf(stderr, "usage: boxoffice-fuzz-corpus DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir / "event_decoder");
  std::filesystem::create_directories(dir / "snapshot_decoder");
  Config config;
  config.active_limit = 1;
  config.queue_span_tokens = 1 << 10;
  Engine engine(config);
  std::vector<Event> events;
  TimeMs t = 1798761600000;
  const Day day = static_cast<Day>(t / limits::ms_per_day) + 10;
  const auto run = [&](CommandBody body) {
    return engine.execute(Command{t, std::move(body)}, events);
  };
  run(CreateConcert{"Corpus", {{day, 3, 1000}, {day + 1, 2, 0}}});
  const Result a = run(JoinQueue{UserName::from("alice")});
  const Result b = run(JoinQueue{UserName::from("bob")});
  const IdempotencyKey key = IdempotencyKey::from("key-1");
  run(ChargeBalance{a.token.token, 5000, key});
  const Result h =
      run(HoldSeat{a.token.token, ConcertId{1}, day, 1, IdempotencyKey::from("key-0")});
  run(HoldSeat{a.token.token, ConcertId{1}, day, 2, {}});
  run(Pay{a.token.token, h.reservation, true, 1000, IdempotencyKey::from("key-2")});
  const Result again = run(JoinQueue{UserName::from("alice")});  // the payment used a's token
  run(Refund{again.token.token, h.reservation, "a reason", {}});
  run(HoldSeat{b.token.token, ConcertId{1}, day, 3, {}});
  const Result c = run(HoldSeat{b.token.token, ConcertId{1}, day + 1, 1, {}});
  run(CancelReservation{b.token.token, c.reservation});
  t += 301000;
  run(Tick{});
  t += limits::idempotency_ttl_ms;
  run(Tick{});
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < events.size(); i++) {
    bytes.clear();
    encode_event(events[i], bytes);
    write(dir / "event_decoder" / ("event-" + std::to_string(i)), bytes);
  }
  bytes.clear();
  SnapshotCodec::encode(engine.state(), bytes);
  write(dir / "snapshot_decoder" / "snapshot-0", bytes);
  std::printf("%zu events and 1 snapshot written\n", events.size());
  return 0;
}
