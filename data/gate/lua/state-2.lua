--[[
  Reads what reconciliation compares with PostgreSQL.

  KEYS[1] meta hash   KEYS[2] tokens
  Returns { loaded (0/1), tokens, ended ('0'/'1' or '') }.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0, 0, '' } end
return { 1, tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HGET', KEYS[1], 'ended') or '' }
