-- `make bench` workload for the Lua 5.4 interpreter (scripts/bench/programs.py): call-heavy code,
-- where every Lua call goes through the interpreter's C functions (luaD_precall, luaV_execute, the
-- metamethod lookups) — the code that migration points at function entry and exit make longer.
--
--   lua workload.lua [scale]      scale 1 runs about half a second with a plain -O2 build
--
-- Only integers and strings are printed, so every build must print exactly the same bytes.
local scale = tonumber(arg and arg[1]) or 1

-- A deterministic generator (a linear congruential one, in integers: no float rounding).
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end

-- Recursion: deep chains of small calls.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function tak(x, y, z)
  if y >= x then return z end
  return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
end

-- Method calls: a small class hierarchy through metatables (__index chains, __add, __eq,
-- __lt, __tostring), so most calls also look a method up.
local Vector = {}
Vector.__index = Vector
function Vector.new(x, y) return setmetatable({x = x, y = y}, Vector) end
function Vector:plus(o) return Vector.new(self.x + o.x, self.y + o.y) end
function Vector:times(k) return Vector.new(self.x * k, self.y * k) end
function Vector:dot(o) return self.x * o.x + self.y * o.y end
Vector.__add = function(a, b) return a:plus(b) end
Vector.__eq = function(a, b) return a.x == b.x and a.y == b.y end
Vector.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end

local Body = setmetatable({}, {__index = Vector})
Body.__index = Body
Body.__add = Vector.__add
Body.__lt = function(a, b) return a:energy() < b:energy() end
function Body.new(x, y, vx, vy)
  local b = setmetatable(Vector.new(x, y), Body)
  b.velocity = Vector.new(vx, vy)
  return b
end
function Body:step(dt)
  local moved = self:plus(self.velocity:times(dt))
  self.x, self.y = moved.x % 10007, moved.y % 10007
end
function Body:energy() return self.velocity:dot(self.velocity) + (self.x + self.y) % 97 end

local function simulate(count, steps)
  local bodies = {}
  for i = 1, count do
    bodies[i] = Body.new(rand(1000), rand(1000), rand(21) - 10, rand(21) - 10)
  end
  for _ = 1, steps do
    for i = 1, count do bodies[i]:step(3) end
  end
  local total, lowest = Vector.new(0, 0), bodies[1]
  for i = 1, count do
    total = total + bodies[i]
    if bodies[i] < lowest then lowest = bodies[i] end
  end
  return tostring(total), lowest:energy()
end

-- Sorting with a Lua comparator: table.sort (C) calls back into Lua for every comparison.
local function sortRecords(count)
  local records = {}
  for i = 1, count do
    records[i] = {name = string.format("r%05d", rand(100000)), score = rand(1000)}
  end
  table.sort(records, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    return a.name < b.name
  end)
  local check = 0
  for i = 1, count, 97 do check = (check * 31 + records[i].score) % 1000000007 end
  return records[1].name, records[count].name, check
end

-- String building: concatenation, string.format, gsub with a function, table.concat, string.rep.
local function buildStrings(count)
  local parts = {}
  for i = 1, count do
    local word = string.rep(string.char(97 + i % 26), 1 + i % 7)
    parts[#parts + 1] = string.format("%s-%d", word, i * 7 % 1000) .. ";"
  end
  local text = table.concat(parts)
  local upper = text:gsub("%a+", function(w) return w:upper():sub(1, 3) end)
  local digits = 0
  for d in upper:gmatch("%d+") do digits = digits + #d end
  return #text, #upper, digits, upper:sub(1, 24)
end

for round = 1, scale do
  print("round", round)
  print("fib", fib(24))
  print("tak", tak(18, 12, 6))
  print("simulate", simulate(200, 120))
  print("sort", sortRecords(20000))
  print("strings", buildStrings(40000))
end
