-- A workload for the Lua interpreter built by popcorn-cc (ThirdPartyTests): recursion, tables,
-- string building and patterns, sorting with a Lua comparator (called from C's sort), closures,
-- coroutines, integer and float arithmetic, and errors caught by pcall (setjmp/longjmp).
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

local t = {}
for i = 1, 3000 do t[#t + 1] = string.format("%05d:%s", (i * 7919) % 3001, string.rep("ab", i % 5)) end
table.sort(t, function(a, b) return a > b end)
local acc = 0
for i, v in ipairs(t) do acc = (acc * 31 + #v + i) % 1000003 end

local counts = {}
local text = string.rep("the quick brown fox jumps over the lazy dog ", 200)
for w in text:gmatch("%a+") do counts[w] = (counts[w] or 0) + 1 end

local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c = counter()
for _ = 1, 999 do c() end

local producer = coroutine.wrap(function()
  for i = 1, 500 do coroutine.yield(i * i) end
end)
local squares = 0
for _ = 1, 500 do squares = squares + producer() end

local caught = 0
for i = 1, 50 do
  local ok, err = pcall(function() if i % 2 == 0 then error("even " .. i) end return i end)
  if not ok and err:find("even") then caught = caught + 1 end
end

print(fib(24), acc, counts.the, counts.fox, c(), squares, caught)
print(math.floor(2 ^ 40 / 3), 7 // 2, 7.5 % 2, tostring(1e100), string.format("%.6f", math.pi))
