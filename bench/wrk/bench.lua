-- wrk script for scripts/bench.sh: request shape from the environment,
-- and a JSON summary written to $WRK_JSON when the run ends.
--   WRK_METHOD   GET (default) or POST
--   WRK_BODY     request body (POST), sent as application/json
--   WRK_IF_NONE_MATCH  sent as If-None-Match (a revalidation: 304 expected)
--   WRK_PRODUCT_KEYS  N: GET /products/{source}/{sku} on a random key of the
--                generated catalog (sku SKU-00000001..N, source by i % 4)
--   WRK_PATHS    a file of request paths, one a line: GET a random one each
--                time (pages that are not the same page twice)
local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
local keys = tonumber(os.getenv("WRK_PRODUCT_KEYS") or "")
local paths_file = os.getenv("WRK_PATHS")
local sources = { "acme", "globex", "initech", "umbrella" }

wrk.method = method
local if_none_match = os.getenv("WRK_IF_NONE_MATCH")
if if_none_match then wrk.headers["If-None-Match"] = if_none_match end
if body then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local function seed()
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000))
end

if keys then
  init = seed
  function request()
    local i = math.random(1, keys)
    local path = string.format("/products/%s/SKU-%08d", sources[(i % 4) + 1], i)
    return wrk.format("GET", path)
  end
elseif paths_file then
  local paths = {}
  for line in io.lines(paths_file) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  init = seed
  function request()
    return wrk.format("GET", paths[math.random(1, #paths)])
  end
end

function done(summary, latency, requests)
  local out = os.getenv("WRK_JSON")
  if not out then return end
  local f = io.open(out, "w")
  local e = summary.errors
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  f:close()
end
