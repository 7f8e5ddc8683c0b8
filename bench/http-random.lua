-- wrk script for bench/http.ts: with PLANETS=1 every request asks for another body at another place
-- on Earth (time = now), so no cache can answer; `done` prints the figures as one JSON line for the runner.
local names = { "sun", "moon", "mercury", "venus", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto" }
local random_planets = os.getenv("PLANETS") == "1"

local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", os.time() * 1000 + threads)
end

init = function(args)
  math.randomseed(seed or os.time())
end

if random_planets then
  request = function()
    local path = string.format("/planets/%s?lat=%.4f&lon=%.4f&elevation=%d",
      names[math.random(#names)], math.random() * 180 - 90, math.random() * 360 - 180, math.random(0, 2999))
    return wrk.format("GET", path)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
