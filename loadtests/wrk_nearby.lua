-- wrk script: cycle through pre-generated nearby request paths, one line each.
-- Usage: wrk ... -s loadtests/wrk_nearby.lua <url> -- <paths file>
-- Each thread starts at its own offset so threads do not send the same request at the same time.

local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local paths = {}
local position = 0

function init(args)
  local file = args[1]
  if file == nil then
    error("pass the paths file after --")
  end
  for line in io.lines(file) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no request paths in " .. file)
  end
  position = ((thread_id or 0) * 7919) % #paths
end

local json_headers = { ["Content-Type"] = "application/json" }

-- A line is a GET path, or "POST <path><TAB><json body>".
function request()
  position = position % #paths + 1
  local line = paths[position]
  if line:sub(1, 5) == "POST " then
    local path, body = line:match("^POST ([^\t]+)\t(.*)$")
    return wrk.format("POST", path, json_headers, body)
  end
  return wrk.format("GET", line)
end

function done(summary, latency, requests)
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"status\":%d,\"connect\":%d,\"read\":%d," ..
    "\"write\":%d,\"timeout\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
