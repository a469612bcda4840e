-- wrk script for every HTTP scenario, driven by environment variables (set by load.py):
--   BENCH_MODE  get       : GET BENCH_PATH (with the session cookie / service token, if given)
--               post_json : POST BENCH_PATH with {"name": "bench <n>"} (a writer create)
--               post_form : POST BENCH_PATH with the add form (cookie + CSRF token)
--               add_flow  : alternate post_form and GET BENCH_GET_PATH (the page it lands on),
--                           carrying the session cookie the POST answers with (its LSN)
--               (the original app takes the same form: no cookie, and it ignores the token)
--   BENCH_COOKIE, BENCH_TOKEN : the bench person's session cookie and its CSRF token
--   BENCH_AUTH  : an Authorization header value (the service token, for reader/writer)
-- Every answer is checked: a page must be 200, a create 201, a form post a redirect (303;
-- the original app's, Flask's default 302) that does not send the person to log in. wrk
-- itself counts only statuses >= 400 as errors, and a session that stopped working
-- answers 303 to /login, fast: that would look like speed.
-- done() prints one JSON line, marked BENCH_RESULT, for load.py to read.
local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local get_path = os.getenv("BENCH_GET_PATH") or "/"
local cookie = os.getenv("BENCH_COOKIE") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local auth = os.getenv("BENCH_AUTH") or ""
local counter = 0
local thread_tag = tostring(math.random(1, 1000000))
-- Globals of each thread's state, summed in done() through thread:get().
unexpected = 0
unexpected_status = 0

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local function with_auth(headers)
  if auth ~= "" then headers["Authorization"] = auth end
  if cookie ~= "" then headers["Cookie"] = "session=" .. cookie end
  return headers
end

local function form_post()
  local body = "csrf_token=" .. token .. "&name=bench+" .. thread_tag .. "+" .. counter
  return wrk.format("POST", path, with_auth({
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Referer"] = "http://127.0.0.1/",
  }), body)
end

function request()
  counter = counter + 1
  if mode == "post_json" then
    return wrk.format("POST", path, with_auth({["Content-Type"] = "application/json"}),
      '{"name": "bench ' .. thread_tag .. ' ' .. counter .. '"}')
  elseif mode == "post_form" then
    return form_post()
  elseif mode == "add_flow" then
    if counter % 2 == 1 then
      return form_post()
    end
    return wrk.format("GET", get_path, with_auth({}))
  end
  return wrk.format("GET", path, with_auth({}))
end

local function redirect_ok(status, headers)
  local location = headers["Location"] or headers["location"] or ""
  return (status == 303 or status == 302) and not location:find("login", 1, true)
end

function response(status, headers, body)
  local ok
  if mode == "post_json" then
    ok = status == 201
  elseif mode == "post_form" then
    ok = redirect_ok(status, headers)
  elseif mode == "add_flow" then
    ok = status == 200 or redirect_ok(status, headers)
  else
    ok = status == 200
  end
  if not ok then
    unexpected = unexpected + 1
    unexpected_status = status
  end
  if mode == "add_flow" or mode == "post_form" then
    local set = headers["Set-Cookie"]
    if set then
      local value = set:match("session=([^;]+)")
      if value then cookie = value end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local bad, bad_status = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("unexpected") or 0)
    local status = thread:get("unexpected_status") or 0
    if status ~= 0 then bad_status = status end
  end
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "unexpected": %d}, ' ..
    '"unexpected_status": %d, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, bad, bad_status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
