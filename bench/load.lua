-- wrk script for every HTTP scenario, driven by environment variables (set by load.py):
--   BENCH_MODE  get       : GET BENCH_PATH (with the session cookie, if one is given)
--               post_json : POST BENCH_PATH with {"name": "bench <n>"} (a writer create)
--               post_form : POST BENCH_PATH with the add form (cookie + CSRF token)
--               add_flow  : alternate post_form and GET BENCH_GET_PATH (the page it lands on),
--                           carrying the session cookie the POST answers with (its LSN)
--   BENCH_COOKIE, BENCH_TOKEN : a session cookie and its CSRF token, fetched beforehand
-- done() prints one JSON line, marked BENCH_RESULT, for load.py to read.
local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local get_path = os.getenv("BENCH_GET_PATH") or "/"
local cookie = os.getenv("BENCH_COOKIE") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local counter = 0
local thread_tag = tostring(math.random(1, 1000000))

local function form_post()
  local body = "csrf_token=" .. token .. "&name=bench+" .. thread_tag .. "+" .. counter
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "session=" .. cookie,
    ["Referer"] = "http://127.0.0.1/",
  }, body)
end

function request()
  counter = counter + 1
  if mode == "post_json" then
    return wrk.format("POST", path, {["Content-Type"] = "application/json"},
      '{"name": "bench ' .. thread_tag .. ' ' .. counter .. '"}')
  elseif mode == "post_form" then
    return form_post()
  elseif mode == "add_flow" then
    if counter % 2 == 1 then
      return form_post()
    end
    return wrk.format("GET", get_path, {["Cookie"] = "session=" .. cookie})
  end
  if cookie ~= "" then
    return wrk.format("GET", path, {["Cookie"] = "session=" .. cookie})
  end
  return wrk.format("GET", path)
end

if mode == "add_flow" or mode == "post_form" then
  function response(status, headers, body)
    local set = headers["Set-Cookie"]
    if set then
      local value = set:match("session=([^;]+)")
      if value then cookie = value end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
