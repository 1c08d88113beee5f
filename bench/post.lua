-- Posts the concern form again and again, each post with a submission key of its own,
-- so every request that succeeds is a new case. run.py appends report.lua's done().
-- Arguments: the path of a file with the url-encoded form (its key reads __KEY__) and
-- the Cookie header that goes with the form's CSRF token.
local template, cookie
local sent = 0

init = function(args)
  local file = assert(io.open(args[1], "r"))
  template = file:read("*a")
  file:close()
  cookie = args[2]
  math.randomseed(os.time())
end

request = function()
  sent = sent + 1
  local key = string.format("bench-%d-%d-%d", os.time(), sent, math.random(1, 1000000000))
  local body = template:gsub("__KEY__", key)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
    ["Origin"] = "null",
    ["Sec-Fetch-Site"] = "same-origin",
  }, body)
end
