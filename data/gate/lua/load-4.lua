--[[
  Rebuilds the gate from PostgreSQL's truth (campaign start, reconciliation, after a flush).
  Tokens = the campaign's unsold pool; users = each user's count; orders = the receipts of
  the orders PostgreSQL holds, so that a give-back for a release already counted in the pool
  adds nothing. Orders admitted but not yet reserved at this instant are not counted: the
  gate may then admit a few more than the pool, which PostgreSQL refuses; and their receipts
  are dropped, so one refused later gives no token back: the next check finds the gate
  short of the pool and rebuilds it.

  KEYS[1] meta hash   KEYS[2] tokens   KEYS[3] users hash   KEYS[4] orders hash
  ARGV[1] starts (ms) ARGV[2] ends (ms) ARGV[3] per-user limit ARGV[4] ended ('0'/'1')
  ARGV[5] tokens      ARGV[6] key TTL (s) ARGV[7] sku ARGV[8] warehouse
  ARGV[9] n, the number of users; ARGV[10 .. 9+2n] user id, count pairs; then orderId,
  '<quantity>:<userId>' pairs

  Returns 1.
]]
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'starts', ARGV[1], 'ends', ARGV[2], 'limit', ARGV[3], 'ended', ARGV[4],
  'sku', ARGV[7], 'warehouse', ARGV[8])
redis.call('SET', KEYS[2], ARGV[5])
local usersEnd = 9 + 2 * tonumber(ARGV[9])
for i = 10, usersEnd, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
for i = usersEnd + 1, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
return 1
