--[[
  Returns an admitted order's token and the user's count, when no hold came of its
  admission (PostgreSQL refused it, or the request failed after admission) or its hold was
  later released. Once per order: the order's entry is the receipt.

  KEYS[1] meta hash   KEYS[2] tokens   KEYS[3] users hash   KEYS[4] orders hash
  ARGV[1] user id     ARGV[2] order id

  Returns 1 given back; 0 nothing to give back (gate not loaded; this order holds no token:
  never admitted, or already given back; or it was admitted for another user, whose token
  it is). A rebuild from PostgreSQL fixes the rest.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local entry = redis.call('HGET', KEYS[4], ARGV[2])
if not entry then return 0 end
local qty, user = string.match(entry, '^(%d+):(.*)$')
if not qty then qty = entry end
qty = tonumber(qty) or 0
if qty <= 0 or (user and user ~= ARGV[1]) then return 0 end
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('INCRBY', KEYS[2], qty)
if redis.call('HINCRBY', KEYS[3], ARGV[1], -qty) <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]) end
return 1
