#include "bench/load/api.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>

namespace boxoffice::load {
namespace {

constexpr std::array<std::string_view, kind_count> kind_names{
    "join", "poll",  "leave", "hold", "cancel", "charge",
    "pay",  "dates", "seats", "seat", "admin",  "health"};

constexpr std::array<std::string_view, error_code_count> error_code_names{
    "",
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "TOKEN_EXPIRED",
    "INSUFFICIENT_BALANCE",
    "TOKEN_NOT_ACTIVE",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "SEAT_UNAVAILABLE",
    "SALES_CLOSED",
    "RESERVATION_NOT_PAYABLE",
    "NOT_CANCELLABLE",
    "NOT_REFUNDABLE",
    "IDEMPOTENCY_KEY_REUSED",
    "PAYLOAD_TOO_LARGE",
    "HOLD_LIMIT_REACHED",
    "OVERLOADED",
    "OTHER",
};

bool parse_digits(std::string_view text, size_t at, size_t n, int& out) {
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string_view kind_name(Kind kind) { return kind_names[static_cast<size_t>(kind)]; }

std::string_view error_code_name(ErrorCode code) {
  return error_code_names[static_cast<size_t>(code)];
}

ErrorCode error_code_from_name(std::string_view name) {
  for (size_t i = 1; i + 1 < error_code_count; ++i) {
    if (error_code_names[i] == name) return static_cast<ErrorCode>(i);
  }
  return ErrorCode::other;
}

std::string concert_date(uint32_t index) {
  using namespace std::chrono;
  const sys_days first = year{2090} / January / 1;
  const year_month_day day{first + days{index}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(day.year()),
                     static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
}

std::optional<int64_t> parse_instant_ms(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.mmm]Z
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (t.size() < 20 || !parse_digits(t, 0, 4, y) || t[4] != '-' || !parse_digits(t, 5, 2, mo) ||
      t[7] != '-' || !parse_digits(t, 8, 2, d) || t[10] != 'T' || !parse_digits(t, 11, 2, h) ||
      t[13] != ':' || !parse_digits(t, 14, 2, mi) || t[16] != ':' || !parse_digits(t, 17, 2, s)) {
    return std::nullopt;
  }
  size_t at = 19;
  if (t[at] == '.') {
    if (!parse_digits(t, at + 1, 3, ms)) return std::nullopt;
    at += 4;
  }
  if (at + 1 != t.size() || t[at] != 'Z') return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  const int64_t day_ms = int64_t{sys_days{ymd}.time_since_epoch().count()} * 86'400'000;
  return day_ms + ((int64_t{h} * 60 + mi) * 60 + s) * 1000 + ms;
}

bool JsonReader::parse(std::string_view body) {
  buffer_.assign(body);
  buffer_.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  const simdjson::padded_string_view view(buffer_.data(), buffer_.size(), buffer_.capacity());
  return parser_.iterate(view).get(document_) == simdjson::SUCCESS;
}

ErrorCode JsonReader::error_code(std::string_view body) {
  std::string_view code;
  if (!parse(body) || document_["error"]["code"].get_string().get(code) != simdjson::SUCCESS) {
    return ErrorCode::other;
  }
  return error_code_from_name(code);
}

std::optional<TokenInfo> JsonReader::token(std::string_view body) {
  if (!parse(body)) return std::nullopt;
  simdjson::ondemand::object object;
  if (document_.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  TokenInfo info;
  bool have_token = false;
  bool have_status = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    std::string_view text;
    if (key == "token") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      info.token = text;
      have_token = true;
    } else if (key == "status") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      info.active = text == "active";
      have_status = text == "active" || text == "waiting";
    } else if (key == "position") {
      if (field.value().get_uint64().get(info.position) != simdjson::SUCCESS) return std::nullopt;
    }
  }
  if (!have_token || !have_status) return std::nullopt;
  return info;
}

std::optional<std::pair<uint64_t, int64_t>> JsonReader::reservation(std::string_view body) {
  if (!parse(body)) return std::nullopt;
  simdjson::ondemand::object object;
  if (document_.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  uint64_t id = 0;
  std::optional<int64_t> expires_ms;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key == "reservationId") {
      if (field.value().get_uint64().get(id) != simdjson::SUCCESS) return std::nullopt;
    } else if (key == "expiresAt") {
      std::string_view text;
      if (field.value().get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      expires_ms = parse_instant_ms(text);
    }
  }
  if (id == 0 || !expires_ms) return std::nullopt;
  return std::pair{id, *expires_ms};
}

std::optional<uint64_t> JsonReader::uint_field(std::string_view body, std::string_view key) {
  uint64_t value = 0;
  if (!parse(body) || document_[key].get_uint64().get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<uint32_t>> JsonReader::available_seats(std::string_view body) {
  simdjson::ondemand::array dates;
  if (!parse(body) || document_["dates"].get_array().get(dates) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::vector<uint32_t> available;
  for (auto date : dates) {
    uint64_t n = 0;
    if (date["availableSeats"].get_uint64().get(n) != simdjson::SUCCESS) return std::nullopt;
    available.push_back(static_cast<uint32_t>(n));
  }
  return available;
}

bool JsonReader::seat_statuses(std::string_view body, std::vector<uint8_t>& statuses) {
  simdjson::ondemand::array seats;
  if (!parse(body) || document_["seats"].get_array().get(seats) != simdjson::SUCCESS) return false;
  for (auto seat : seats) {
    uint64_t number = 0;
    std::string_view status;
    simdjson::ondemand::object object;
    if (seat.get_object().get(object) != simdjson::SUCCESS) return false;
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
      if (key == "seatNumber") {
        if (field.value().get_uint64().get(number) != simdjson::SUCCESS) return false;
      } else if (key == "status") {
        if (field.value().get_string().get(status) != simdjson::SUCCESS) return false;
      }
    }
    if (number == 0 || number > statuses.size()) return false;
    statuses[number - 1] = status == "available" ? SeatStatus::available
                           : status == "held"    ? SeatStatus::held
                           : status == "sold"    ? SeatStatus::sold
                                                 : SeatStatus::unknown;
  }
  return true;
}

}  // namespace boxoffice::load
