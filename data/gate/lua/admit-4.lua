--[[
  Flash-sale admission: checks the window, the order, the user's limit and the pool, and
  takes a token, all in one atomic step. Answers without touching PostgreSQL or Temporal.

  KEYS[1]  meta hash    starts, ends (ms), limit, ended ('0'/'1'), sku, warehouse
  KEYS[2]  tokens       integer: units the gate may still admit
  KEYS[3]  users hash   userId -> units admitted
  KEYS[4]  orders hash  orderId -> '<quantity>:<userId>' admitted (a retried order takes no
                        second token; entries written before the user was recorded hold the
                        quantity alone)
  ARGV[1]  now (ms)   ARGV[2] user id   ARGV[3] quantity   ARGV[4] order id

  Returns { code, sku, warehouse }:
     1 admitted          2 this order was admitted before (retry: same user and quantity)
     0 gate not loaded  -1 not started   -2 ended   -3 sold out   -4 limit reached
    -5 this order id was admitted for another user or quantity (another order: a conflict)
]]
local meta = redis.call('HMGET', KEYS[1], 'starts', 'ends', 'limit', 'ended', 'sku', 'warehouse')
if not meta[1] then return { 0, '', '' } end
local sku, warehouse = meta[5], meta[6]
local admitted = redis.call('HGET', KEYS[4], ARGV[4])
if admitted then
  local qty, user = string.match(admitted, '^(%d+):(.*)$')
  if not qty then qty = admitted end
  if tonumber(qty) ~= tonumber(ARGV[3]) or (user and user ~= ARGV[2]) then return { -5, sku, warehouse } end
  return { 2, sku, warehouse }
end

local now, qty = tonumber(ARGV[1]), tonumber(ARGV[3])
if meta[4] == '1' or now >= tonumber(meta[2]) then return { -2, sku, warehouse } end
if now < tonumber(meta[1]) then return { -1, sku, warehouse } end
if tonumber(redis.call('GET', KEYS[2]) or '0') < qty then return { -3, sku, warehouse } end
if tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0') + qty > tonumber(meta[3]) then
  return { -4, sku, warehouse }
end

redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], ARGV[2], qty)
redis.call('HSET', KEYS[4], ARGV[4], qty .. ':' .. ARGV[2])
return { 1, sku, warehouse }
