-- wrk script for benchmarks/lookup.py: GET /lookup at a random point of a bbox.
-- Usage: wrk ... http://127.0.0.1:PORT -s lookup_points.lua -- MINX MINY MAXX MAXY [SEED]
-- Prints "non2xx N" at the end: responses outside 200-299 (wrk itself counts >= 400 only).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   minx, miny = tonumber(args[1]), tonumber(args[2])
   maxx, maxy = tonumber(args[3]), tonumber(args[4])
   math.randomseed((tonumber(args[5]) or 1) * 1000 + id)
   non2xx = 0
end

function request()
   local lon = minx + math.random() * (maxx - minx)
   local lat = miny + math.random() * (maxy - miny)
   return wrk.format("GET", string.format("/lookup?lon=%.7f&lat=%.7f", lon, lat))
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
