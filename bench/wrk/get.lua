-- wrk script: GET requests for bench/http-ceiling.
--
--   wrk -t1 -c64 -d10s -s get.lua URL -- PATH [TOKENS]
--
-- Every request is GET PATH; with TOKENS (a file, one bearer token per line)
-- the requests carry the tokens in turn (a queue-status poll per user).
-- done() prints one JSON line.
local path, tokens, turn = "/", {}, 0

function init(args)
  path = args[1]
  if args[2] then
    for line in io.lines(args[2]) do tokens[#tokens + 1] = "Bearer " .. line end
  end
end

function request()
  if #tokens == 0 then return wrk.format("GET", path) end
  turn = turn % #tokens + 1
  return wrk.format("GET", path, {Authorization = tokens[turn]})
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    '{"requests_per_s":%.0f,"non_2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"p999_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests / s, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency:percentile(99.9) / 1e3,
    latency.max / 1e3))
end
