// The scripts of redis-py's Lock that extend a hold: compare the token and act in one atomic step.
import { defineScript } from '@cachex/core'

/** Adds (ARGV[3] `0`) or sets the lock's time to live to ARGV[2] ms, if it holds ARGV[1]. */
export const EXTEND = defineScript(`local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
  return 0
end
local expiration = redis.call('pttl', KEYS[1])
if not expiration then
  expiration = 0
end
if expiration < 0 then
  return 0
end
local newttl = ARGV[2]
if ARGV[3] == "0" then
  newttl = ARGV[2] + expiration
end
redis.call('pexpire', KEYS[1], newttl)
return 1`)

/** Resets the lock's time to live to ARGV[2] ms, if it holds ARGV[1]. */
export const REACQUIRE = defineScript(`if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1`)
