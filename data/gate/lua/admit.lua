--[[
  Flash-sale admission: checks the window, the order, the user's limit and the pool, spends the
  order limits, and takes a token, all in one atomic step and one round trip. Answers without
  touching PostgreSQL or Temporal. The caller passes the key count: 4 (the gate alone), or 6
  (the gate and the order limits of platform/rate-limit).

  KEYS[1]  meta hash    starts, ends (ms), limit, ended ('0'/'1'), sku, warehouse
  KEYS[2]  tokens       integer: units the gate may still admit
  KEYS[3]  users hash   userId -> units admitted
  KEYS[4]  orders hash  orderId -> '<quantity>:<userId>' admitted (a retried order takes no
                        second token; entries written before the user was recorded hold the
                        quantity alone)
  KEYS[5]  the API key's order-limit counter   (6 keys only; stockhold:rate:key:<key id>)
  KEYS[6]  the (key, user) order-limit counter (6 keys only; stockhold:rate:user:<key id>:<user id>)
  ARGV[1]  now (ms)   ARGV[2] user id   ARGV[3] quantity   ARGV[4] order id
  ARGV[5]  limit window (ms)   ARGV[6] key limit   ARGV[7] user limit   (6 keys only)

  The order limits are spent only by an order the gate is about to admit: a refusal (window,
  sold out, campaign limit, conflict) and a retry of an admitted order spend nothing. Each
  counter is a fixed window opened by its first order, counted as platform/rate-limit's
  take-1.lua counts it (kept in step with it: the two scripts spend the same budgets; a
  refused order is counted too). An order past a limit takes no token.

  The limit counters are not in the campaign's hash slot: this step needs one Redis node
  holding both (a single primary, as the service runs; on a Redis Cluster the caller would
  have to pass 4 keys and spend the limits on their own).

  Returns { code, sku, warehouse [, bucket, ms left] }:
     1 admitted          2 this order was admitted before (retry: same user and quantity)
     0 gate not loaded  -1 not started   -2 ended   -3 sold out   -4 limit reached
    -5 this order id was admitted for another user or quantity (another order: a conflict)
    -6 refused by an order limit: bucket 1 (key) or 2 (user), and the ms until its window closes
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

if #KEYS == 6 then
  local window, refused, left = tonumber(ARGV[5]), 0, 0
  for bucket = 1, 2 do
    local key = KEYS[4 + bucket]
    local count = redis.call('INCR', key)
    if count == 1 then redis.call('PEXPIRE', key, window) end
    local ttl = redis.call('PTTL', key)
    -- A counter without expiry would refuse forever: heal it (as take-1.lua does).
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
    if refused == 0 and count > tonumber(ARGV[5 + bucket]) then refused, left = bucket, ttl end
  end
  if refused > 0 then return { -6, sku, warehouse, refused, left } end
end

redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], ARGV[2], qty)
redis.call('HSET', KEYS[4], ARGV[4], qty .. ':' .. ARGV[2])
return { 1, sku, warehouse }
