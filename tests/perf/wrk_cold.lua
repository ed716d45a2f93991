-- wrk script for tests/perf/bench.py's cold rows: every request a different URL, so that
-- none is served from the page cache. Arguments (after `--`): a file of paths (one a line,
-- each with a query string), a seed unique to this run, and wrk's thread count. Request n of
-- thread t asks for path (n * threads + t) of the file, cycling, with `_n=<seed>.<t>.<n>`
-- appended: the page cache keys on the whole URL, so even a repeated path renders again.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua") -- done(): the BENCH_RESULT line

local created = 0
setup = function(thread)
  created = created + 1
  thread:set("tid", created)
end

init = function(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  seed = args[2]
  threads = tonumber(args[3]) or 1
  counter = 0
end

request = function()
  local n = counter * threads + (tid or 1) - 1
  counter = counter + 1
  local path = paths[(n % #paths) + 1]
  return wrk.format("GET", path .. "&_n=" .. seed .. "." .. (tid or 1) .. "." .. counter)
end
