-- wrk script: GET /v1/nearest?postcode=...&k=3 over postcodes drawn at random from a file of
-- URL-encoded postcodes (one per line; set POSTCODES in the environment), and a summary line
-- of JSON at the end that run-http-benchmark reads.
local postcodes = {}
local k = os.getenv("K") or "3"

function init(args)
  local file = os.getenv("POSTCODES")
  for line in io.lines(file) do
    postcodes[#postcodes + 1] = "/v1/nearest?postcode=" .. line .. "&k=" .. k
  end
  -- A different sequence per wrk thread (setup() gave each an id), the same across runs.
  math.randomseed(20261125 + (id or 0))
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function request()
  return wrk.format("GET", postcodes[math.random(#postcodes)])
end

local non_2xx = 0
function response(status, headers, body)
  if status ~= 200 then non_2xx = non_2xx + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "requests_per_s": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"bytes": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
