--[[
  Writes one SKU's availability into the cache unless the cache already holds a newer one.

  The entry is a hash: v = the SKU's stock version (sum over its levels of version + 1, which
  grows with every committed level change), d = the JSON view served by GET /inventory/:sku.
  A reader that loaded an old view before a change committed must never put it back over
  what the relay wrote after the change: the version comparison is what forbids it, and it
  has to happen inside Redis, atomically with the write.

  KEYS[1]  the entry key (stockhold:stock:<sku>)
  ARGV[1]  version of the view being written (decimal integer)
  ARGV[2]  the view (JSON)
  ARGV[3]  time to live in seconds (a safety net, not the invalidation mechanism)

  Returns
    1  written (no entry, or the entry's version was lower or equal)
    0  refused: the cached entry is newer
]]
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) > tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
