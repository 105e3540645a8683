-- wrk script: the hold storm of bench/http-ceiling against boxoffice.
--
--   wrk -t1 -c64 -d10s -s hold_storm.lua URL -- TOKENS CONCERT FIRST_DATE DATES SEATS HOLDS_LIVE
--
-- TOKENS: a file with one bearer token per line (active tokens). Requests go
-- to the users in turn; each user holds a random seat (date and seat
-- uniformly) until it has HOLDS_LIVE live holds, then cancels its oldest
-- before its next hold, so the storm runs for ever. Every request is a
-- durable write: a hold (a seat_held event, or a refusal when the seat is
-- taken) or a cancel. Run with one thread (-t1): the users' holds live in
-- this thread's Lua state. done() prints one JSON line.
local tokens, dates, held = {}, {}, {}
local concert, seats, holds_live = 0, 0, 0
local turn = 0
granted, refused, cancels = 0, 0, 0

local function day_string(first, offset)
  local y, m, d = first:match("(%d+)-(%d+)-(%d+)")
  local t = os.time({year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12})
  return os.date("!%Y-%m-%d", t + offset * 86400)
end

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = "Bearer " .. line
    held[#tokens] = {}
  end
  concert, seats, holds_live = tonumber(args[2]), tonumber(args[5]), tonumber(args[6])
  for i = 0, tonumber(args[4]) - 1 do dates[#dates + 1] = day_string(args[3], i) end
  math.randomseed(42)
end

function request()
  turn = turn % #tokens + 1
  local q = held[turn]
  if #q >= holds_live then
    cancels = cancels + 1
    return wrk.format("DELETE", "/v1/reservations/" .. table.remove(q, 1),
                      {Authorization = tokens[turn]})
  end
  local body = string.format('{"concertId":%d,"date":"%s","seatNumber":%d}', concert,
                             dates[math.random(#dates)], math.random(seats))
  return wrk.format("POST", "/v1/reservations",
                    {Authorization = tokens[turn], ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then
    granted = granted + 1
    local id = body:match('"reservationId":(%d+)')
    local user = body:match('"userId":"([^"]+)"')
    local index = tonumber(user:match("(%d+)$")) + 1
    local q = held[index]
    q[#q + 1] = id
  elseif status == 409 then
    refused = refused + 1
  end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local t = threads[1]
  local s = summary.duration / 1e6
  io.write(string.format(
    '{"requests_per_s":%.0f,"holds_granted_per_s":%.0f,"holds_refused":%d,"cancels":%d,' ..
    '"non_2xx_or_409":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests / s, t:get("granted") / s, t:get("refused"), t:get("cancels"),
    summary.errors.status - t:get("refused"),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency:percentile(99.9) / 1e3,
    latency.max / 1e3))
end
