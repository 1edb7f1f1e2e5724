--[[
  Counts one request in a fixed window that opens with the window's first request.

  KEYS[1] the bucket's counter (one per API key, one per user)
  ARGV[1] window length in milliseconds

  Returns { count, ttl }: requests counted in the window so far, this one included, and the
  milliseconds until the window closes (the counter expires with it). The caller compares
  count with its limit: a refused request is counted too, so a caller that keeps sending
  stays refused until the window closes, and never moves it.
]]
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
-- A counter without expiry (written by hand, or an expiry lost) would refuse forever: heal it.
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
