-- Staff sessions browsing: each request is the next (cookie, path) of the list run.py
-- or surge.py wrote, one per line as "<Cookie header>\t<path>", and each connection
-- waits `think` milliseconds between its requests. report.lua's done() is appended.
-- Arguments: the path of that list, the think time in milliseconds.
local visits = {}
local next_visit = 1
local think = 0

init = function(args)
  for line in io.lines(args[1]) do
    local cookie, path = line:match("^([^\t]+)\t(.+)$")
    if cookie then
      visits[#visits + 1] = { cookie = cookie, path = path }
    end
  end
  think = tonumber(args[2] or "0")
end

request = function()
  local visit = visits[next_visit]
  next_visit = next_visit % #visits + 1
  return wrk.format("GET", visit.path, { ["Cookie"] = visit.cookie })
end

delay = function()
  return think
end
