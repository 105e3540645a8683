// Named limits of the engine, with their units in their names.
//
// Every input, table and queue of the core has an upper bound defined here.
// Related limits are tied together with static_asserts so that a change to
// one cannot silently break another.
#pragma once

#include <cstdint>

namespace boxoffice::limits {

// Identities and keys.
inline constexpr uint32_t user_name_bytes_max = 64;
inline constexpr uint32_t idempotency_key_bytes_max = 64;
inline constexpr int64_t idempotency_ttl_ms = 24LL * 60 * 60 * 1000;

// Catalog.
inline constexpr uint32_t title_chars_max = 200;
inline constexpr uint32_t title_bytes_max = 4 * title_chars_max;  // UTF-8
inline constexpr uint32_t dates_per_concert_max = 1000;
inline constexpr uint32_t seats_per_date_max = 10000;
inline constexpr uint64_t seats_total_max = 64ULL * 1000 * 1000;
inline constexpr uint32_t concerts_max = 100000;
inline constexpr int64_t price_won_max = 1000 * 1000 * 1000;
// A concert gets a direct day -> date table when its dates span at most
// this many days per date (plus the slack), so the table stays small.
inline constexpr uint32_t day_table_days_per_date_max = 4;
inline constexpr uint32_t day_table_slack_days = 64;

// Money.
inline constexpr int64_t charge_won_min = 1;
inline constexpr int64_t charge_won_max = 1000 * 1000 * 1000;
inline constexpr int64_t balance_won_max = 1000LL * 1000 * 1000 * 1000 * 1000;  // 10^15
inline constexpr uint32_t refund_reason_chars_max = 500;
inline constexpr uint32_t refund_reason_bytes_max = 4 * refund_reason_chars_max;

// Tables (dense arrays indexed by id).
inline constexpr uint32_t users_max = 16 * 1000 * 1000;
inline constexpr uint64_t tokens_max = 256ULL * 1000 * 1000;
inline constexpr uint32_t reservations_max = 256U * 1000 * 1000;
inline constexpr uint32_t payments_max = 256U * 1000 * 1000;
inline constexpr uint32_t refunds_max = 256U * 1000 * 1000;
// Address space one table may reserve ahead of a recovery (untouched until
// used; see State::reserve_for_events).
inline constexpr uint64_t table_reserve_bytes_max = 2ULL << 30;

// Waiting room.
inline constexpr uint32_t active_limit_max = 1000 * 1000;
// Waiting tokens are ranked in a ring-shaped Fenwick tree: the ids of all
// waiting tokens must lie within one ring span (a power of two).
inline constexpr uint64_t queue_span_tokens_default = 1ULL << 22;
inline constexpr uint64_t queue_span_tokens_max = 1ULL << 26;
// The admission rate is measured over this trailing window, in 1 s buckets.
inline constexpr uint32_t admission_window_s = 60;

// Flags.
inline constexpr uint32_t holds_per_user_max = 100;
inline constexpr int64_t duration_flag_s_min = 1;
inline constexpr int64_t duration_flag_s_max = 86400;

// Reads.
inline constexpr uint32_t payments_page_limit_max = 100;
inline constexpr uint32_t payments_page_limit_default = 20;

// Dates: 1970-01-01 .. 9999-12-31, as days since the Unix epoch.
inline constexpr int32_t day_min = 0;
inline constexpr int32_t day_max = 2932896;
inline constexpr int64_t ms_per_day = 86400LL * 1000;

static_assert(charge_won_max < balance_won_max);
static_assert(price_won_max <= balance_won_max);
static_assert(seats_per_date_max * uint64_t{dates_per_concert_max} <= 2 * seats_total_max);
static_assert((queue_span_tokens_default & (queue_span_tokens_default - 1)) == 0);
static_assert((queue_span_tokens_max & (queue_span_tokens_max - 1)) == 0);
static_assert(user_name_bytes_max < 256 && idempotency_key_bytes_max < 256);

}  // namespace boxoffice::limits
