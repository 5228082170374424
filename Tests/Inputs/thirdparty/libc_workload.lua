-- A Lua workload that leans on the C library: formatting and parsing numbers (printf's %g,
-- %.17g and %a, strtod through tonumber), dates (os.time, os.date, in UTC and in the local
-- time zone the test sets), libm through math.*, sorting with a comparator (qsort-like C code
-- calling back into Lua), string building, and errors caught with pcall. Its output must not
-- depend on the ISA it ran on or on where it moved.
local out = {}
local function emit(...) out[#out + 1] = table.concat({...}, " ") end

-- numbers <-> text
local acc = 0
for i = 1, 4000 do
  local x = (i - 2000) * 0.0173 + 1 / (i + 1)
  local text = string.format("%g|%.17g|%a|%.3f|%e", x, x * 1e10, x, x, x / 7)
  local back = tonumber(text:match("^[^|]+|([^|]+)"))
  acc = acc + (back or 0) / 1e10 + #text
  if i % 400 == 0 then emit("fmt", text, tostring(x), tostring(back)) end
end
emit("acc", string.format("%.17g", acc))
for _, s in ipairs({"0x1p4", "1e300", " 12.5 ", "-0.0", "inf", "0x.8", "1e-320", "3.", ".5e1"}) do
  emit("tonumber", s, tostring(tonumber(s)))
end
emit("tostring", tostring(0.0), tostring(-0.0), tostring(1/3), tostring(2^63), tostring(math.pi))

-- libm
local m = 0
for i = 1, 3000 do
  local x = i / 97
  m = m + math.sin(x) * math.exp(-x / 50) + math.log(x + 1) - math.sqrt(x) + math.fmod(x, 1.7) + math.atan(x, 3)
  if i % 500 == 0 then emit("math", string.format("%a %.17g", m, math.cos(x) ^ 3)) end
end

-- dates
local base = os.time({year = 2023, month = 11, day = 14, hour = 22, min = 13, sec = 20})
for d = 0, 400, 37 do
  local t = base + d * 86400 + d * 3671
  emit("date", os.date("!%Y-%m-%d %H:%M:%S %j %a %b", t), os.date("%Y-%m-%d %H:%M %Z", t))
  local parts = os.date("*t", t)
  emit("fields", parts.year, parts.month, parts.day, parts.hour, parts.isdst and "dst" or "std",
       os.time(parts) == t and "round-trip" or "differs")
end

-- sorting with a comparator
local records = {}
local seed = 42
for i = 1, 3000 do
  seed = (seed * 1103515245 + 12345) % 2147483648
  records[i] = {key = seed % 1000, name = string.format("r%05d", i), weight = seed / 2147483648}
end
table.sort(records, function(a, b)
  if a.key ~= b.key then return a.key < b.key end
  return a.name > b.name
end)
for i = 1, #records, 300 do
  emit("sorted", records[i].key, records[i].name, string.format("%.6g", records[i].weight))
end

-- strings and errors
local parts = {}
for i = 1, 2000 do parts[#parts + 1] = string.format("%d:%s", i, ("x"):rep(i % 7)) end
local joined = table.concat(parts, ",")
emit("joined", #joined, (joined:gsub("x+", function(s) return #s end)):sub(1, 60))
local caught = 0
for i = 1, 500 do
  local ok, message = pcall(function()
    if i % 3 == 0 then error(string.format("bad value %g at %d", i / 3, i)) end
    return i
  end)
  if not ok then caught = caught + 1 end
  if i % 100 == 0 then emit("pcall", tostring(ok), tostring(message)) end
end
emit("caught", caught)

print(table.concat(out, "\n"))
