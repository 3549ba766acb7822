// The scripts of redis-py's Lock (and its fencing token): compare the token and act in one atomic
// step.
import { defineScript } from '@cachex/core'

// RELEASE tells a missing key (-1) from another holder's token (0), which a retry after a lost
// reply needs.
export const RELEASE = defineScript(`local token = redis.call('get', KEYS[1])
if not token then
  return -1
end
if token ~= ARGV[1] then
  return 0
end
redis.call('del', KEYS[1])
return 1`)

// redis-py's `SET NX PX`, unchanged (a Python process sees the same key and token), and in the
// same atomic step the fencing token: INCR of a counter in the lock key's slot that never
// expires. If the counter cannot be incremented (someone wrote a non-integer to it), gives no
// positive token (someone wrote a negative integer to it: 0 would read as "held by someone else",
// with our token in the key), or is within 64 of 2^53 (where node-redis 6 reads an integer reply
// inexactly, two tokens as one, and past which a JS number stops counting), the lock just set is
// deleted again and the script fails: no lock is held without its token.
export const ACQUIRE = defineScript(`local set
if ARGV[2] == '' then
  set = redis.call('set', KEYS[1], ARGV[1], 'NX')
else
  set = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
end
if not set then
  return 0
end
local fence = redis.pcall('incr', KEYS[2])
if type(fence) ~= 'number' or fence < 1 or fence > 9007199254740927 then
  redis.call('del', KEYS[1])
  return redis.error_reply('ERR the fencing counter ' .. KEYS[2] .. ' must hold a non-negative integer, for a positive token below 2^53 - 64: delete it, or set it above the last token handed out')
end
return fence`)

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
