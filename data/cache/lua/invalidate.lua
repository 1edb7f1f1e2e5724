--[[
  Drops the cached availability of the given SKUs, so the next read goes to PostgreSQL.
  Applied by the relay for each outbox row batch; deleting an absent entry is not an error,
  which makes a retried batch harmless.

  KEYS[1..n]  entry keys (stockhold:stock:<sku>)
  ARGV        none

  Returns the number of entries that existed and were removed (0..n); never an error code.
]]
return redis.call('DEL', unpack(KEYS))
