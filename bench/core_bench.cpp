#include "bench/core_bench.hpp"

#include <cstdio>
#include <utility>
#include <variant>
#include <vector>

#include "bench/bench_setup.hpp"
#include "engine/engine.hpp"
#include "engine/event_codec.hpp"
#include "engine/keyed_hash.hpp"

namespace boxoffice::bench {

namespace {

// An engine with one big concert and `users` active tokens.
struct Bench {
  explicit Bench(const CoreBenchOptions& o) : options(o), engine(config(o)) {
    engine.reserve(o.users, o.users, static_cast<uint32_t>(o.holds + o.mixed), 0);
    events.reserve(1 << 16);
    // Pre-fault the log, as a server reuses its batch buffer.
    log.resize(size_t{64} * (o.holds + o.mixed) + (1u << 20));
    log.clear();
    ends.reserve(2 * (o.holds + o.mixed) + o.users * 4 + 16);
    tokens = open_sale(shape(o), [this](CommandBody body) { return run(std::move(body)); });
  }

  static SaleShape shape(const CoreBenchOptions& o) {
    return SaleShape{o.dates, o.seats_per_date, o.users};
  }

  static Config config(const CoreBenchOptions& o) { return sale_config(shape(o)); }

  Result run(CommandBody body) { return run(Command{now, std::move(body)}); }

  Result run(const Command& command) {
    const Result r = engine.execute(command, events);
    for (const Event& e : events) {
      encode_event(e, log);
      ends.push_back(static_cast<uint32_t>(log.size()));
    }
    events.clear();
    return r;
  }

  CoreBenchOptions options;
  Engine engine;
  TimeMs now = start_ms;
  std::vector<TokenId> tokens;
  std::vector<Event> events;
  std::vector<uint8_t> log;
  std::vector<uint32_t> ends;
};

// The storm decides commands one after another, as the server's core loop
// does a batch, and prefetches each command's memory a few commands ahead
// (Engine::prefetch), which the core loop does not do yet.
void hold_storm(Bench& b, CoreBenchResult& out) {
  constexpr size_t ahead = 8;
  Rng rng(b.options.seed);
  uint64_t accepted = 0;
  // The client side stays out of the way: the commands are filled in place
  // and the users taken in turn, with no division.
  std::vector<Command> ring(ahead, Command{b.now, HoldSeat{}});
  size_t next_user = 0;
  const auto make = [&](uint64_t i) {
    HoldSeat& hold = std::get<HoldSeat>(ring[i % ahead].body);
    hold.token = b.tokens[next_user];
    next_user = next_user + 1 == b.tokens.size() ? 0 : next_user + 1;
    hold.concert = ConcertId{1};
    hold.day = first_day + static_cast<Day>(rng.below(b.options.dates));
    hold.seat = rng.below(b.options.seats_per_date) + 1;
    if (b.options.sequential) {
      hold.day = first_day + static_cast<Day>(i / b.options.seats_per_date % b.options.dates);
      hold.seat = static_cast<int64_t>(i % b.options.seats_per_date) + 1;
    }
    b.engine.prefetch(ring[i % ahead], Engine::PrefetchStage::early);
  };
  const auto start = Clock::now();
  for (uint64_t i = 0; i < ahead && i < b.options.holds; i++) make(i);
  for (uint64_t i = 0; i < b.options.holds; i++) {
    if (i % 1024 == 0) b.now++;  // about a million commands per simulated second
    if (i + 3 < b.options.holds && i + 3 >= ahead - 0) {
      b.engine.prefetch(ring[(i + 3) % ahead], Engine::PrefetchStage::late);
    }
    Command& c = ring[i % ahead];
    c.time_ms = b.now;
    accepted += b.run(c).ok() ? 1 : 0;
    if (i + ahead < b.options.holds) make(i + ahead);
  }
  const double s = seconds_since(start);
  out.holds_per_s = static_cast<double>(b.options.holds) / s;
  out.holds_accepted = static_cast<double>(accepted) / static_cast<double>(b.options.holds);
}

// A realistic mix of a sale in progress: polls and seat reads dominate.
void mixed(Bench& b, CoreBenchResult& out) {
  Rng rng(b.options.seed + 1);
  const auto start = Clock::now();
  for (uint64_t i = 0; i < b.options.mixed; i++) {
    if (i % 1024 == 0) b.now++;
    const TokenId token = b.tokens[rng.below(static_cast<uint32_t>(b.tokens.size()))];
    const Day day = first_day + static_cast<Day>(rng.below(b.options.dates));
    const uint32_t roll = rng.below(100);
    if (roll < 35) {
      b.run(PollToken{token});
    } else if (roll < 55) {
      b.run(GetSeats{token, ConcertId{1}, day, rng.below(b.options.seats_per_date) + 1, true});
    } else if (roll < 85) {
      b.run(HoldSeat{token, ConcertId{1}, day, rng.below(b.options.seats_per_date) + 1, {}});
    } else if (roll < 95) {
      const auto res = ReservationId{rng.below(b.engine.state().reservation_count() + 1) + 1};
      b.run(GetReservation{token, res});
    } else {
      b.run(GetBalance{token});
    }
  }
  out.mixed_per_s = static_cast<double>(b.options.mixed) / seconds_since(start);
}

void replay(const Bench& b, CoreBenchResult& out) {
  State state(b.engine.config().queue_span_tokens);
  state.reserve(b.options.users, b.options.users, b.engine.state().reservation_count(), 0);
  // Decoded a few events ahead of apply, with a prefetch, as recovery does.
  constexpr size_t ahead = 8;
  std::vector<Event> ring(ahead);
  size_t decoded = 0;
  const auto decode_next = [&] {
    const uint32_t begin = decoded == 0 ? 0 : b.ends[decoded - 1];
    const uint32_t end = b.ends[decoded];
    Event& e = ring[decoded % ahead];
    const DecodeError err =
        decode_event(std::span<const uint8_t>(b.log.data() + begin, end - begin), &e);
    BOXOFFICE_ASSERT(err == DecodeError::none);
    state.prefetch(e);
    decoded++;
  };
  const auto start = Clock::now();
  while (decoded < ahead && decoded < b.ends.size()) decode_next();
  for (size_t i = 0; i < b.ends.size(); i++) {
    state.apply(ring[i % ahead]);
    if (decoded < b.ends.size()) decode_next();
  }
  out.apply_events_per_s = static_cast<double>(b.ends.size()) / seconds_since(start);
  out.events = b.ends.size();
  BOXOFFICE_ASSERT(state.last_seq() == b.engine.state().last_seq());
}

double bytes_per_seat(const State& s) {
  double bytes = static_cast<double>(s.dates().size() * (sizeof(DateEntry) + sizeof(Day)));
  for (const Concert& c : s.concerts()) {
    bytes += static_cast<double>(sizeof(Concert) + c.seats.capacity() * sizeof(Seat));
    bytes += static_cast<double>(c.day_span * sizeof(uint32_t));  // its day table
  }
  return bytes / static_cast<double>(s.seats_total());
}

// The keyed hash of user names as the state hashes them (keyed_hash.hpp):
// names_count names of 6 to 11 bytes ("u1" padded with digits), hashed
// rounds times; the sum of the hashes keeps the loop from being optimised
// away.
void name_hash(CoreBenchResult& out) {
  constexpr size_t names_count = 1000000;
  constexpr size_t rounds = 3;
  std::vector<char> bytes;
  std::vector<std::pair<uint32_t, uint32_t>> names;  // offset, length
  bytes.reserve(names_count * 11);
  names.reserve(names_count);
  char name[16];
  for (size_t i = 0; i < names_count; i++) {
    const int length = std::snprintf(name, sizeof name, "u%0*zu", static_cast<int>(5 + i % 6), i);
    BOXOFFICE_ASSERT(length >= 6 && length <= 11);
    names.emplace_back(static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(length));
    bytes.insert(bytes.end(), name, name + length);
  }
  const HashKey key;
  uint64_t sum = 0;
  const auto start = Clock::now();
  for (size_t r = 0; r < rounds; r++) {
    for (const auto& [offset, length] : names) {
      sum += keyed_hash(key, std::string_view(bytes.data() + offset, length));
    }
  }
  const double seconds = seconds_since(start);
  BOXOFFICE_ASSERT(sum != 0);
  out.name_hash_ns = seconds * 1e9 / static_cast<double>(names_count * rounds);
}

}  // namespace

CoreBenchResult run_core_bench(const CoreBenchOptions& options) {
  CoreBenchResult out;
  Bench b(options);
  hold_storm(b, out);
  mixed(b, out);
  replay(b, out);
  out.bytes_per_seat = bytes_per_seat(b.engine.state());
  name_hash(out);
  return out;
}

std::string to_json(const CoreBenchResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"holds_per_s\": %.0f, \"holds_accepted_ratio\": %.4f, \"mixed_per_s\": %.0f, "
                "\"apply_events_per_s\": %.0f, \"events\": %llu, \"bytes_per_seat\": %.2f, "
                "\"name_hash_ns\": %.2f}",
                r.holds_per_s, r.holds_accepted, r.mixed_per_s, r.apply_events_per_s,
                static_cast<unsigned long long>(r.events), r.bytes_per_seat, r.name_hash_ns);
  return buf;
}

}  // namespace boxoffice::bench
