-- wrk script for benchmarks/load.py: GET /lookup?address=... rotating through a file
-- of request paths, one a line, already URL-encoded (written by load.py).
-- Usage: wrk -tT ... http://127.0.0.1:PORT -s lookup_addresses.lua -- PATHS_FILE T
-- Prints "non2xx N" at the end: responses outside 200-299 (wrk itself counts >= 400 only).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if #line > 0 then
         table.insert(paths, line)
      end
   end
   assert(#paths > 0, "no request paths in " .. args[1])
   -- Threads start apart so they do not ask the same addresses in step.
   local n_threads = tonumber(args[2]) or 1
   next_path = math.floor((id - 1) * #paths / n_threads) % #paths + 1
   non2xx = 0
end

function request()
   local path = paths[next_path]
   next_path = next_path % #paths + 1
   return wrk.format("GET", path)
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("non2xx")
   end
   io.write(string.format("non2xx %d\n", total))
end
