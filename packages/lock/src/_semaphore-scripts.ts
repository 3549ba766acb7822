// The scripts of the semaphore (`Semaphore`): acquire and release its permits in one atomic step.
import { defineScript } from '@cachex/core'

// The semaphore is one sorted set: a member `<weight>:<token>` per holder, scored by the time its
// permits expire (milliseconds since the epoch by the server's clock, `TIME`; `+inf` for never).
// One key, so any Redis Cluster slot will do. The key itself expires with its last holder, so an
// abandoned semaphore leaves nothing behind.
const EXPIRE_WITH_LAST_HOLDER = `local last = redis.call('zrange', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] == 'inf' then
  redis.call('persist', KEYS[1])
elseif last[2] then
  redis.call('pexpireat', KEYS[1], string.format('%.0f', tonumber(last[2]) + 1))
end`

// In one atomic step: drop the holders whose time is up, add up the weights of the others, and
// admit the newcomer only if its weight still fits in the limit. A key holding members of another
// shape (a leaderboard, whose scores read as times long past) is refused before anything is
// written, not emptied as holders whose time is up. The sum stops as soon as it is
// over the limit, so a call reads at most `limit` members of a semaphore used with one limit.
// ARGV: member, weight, limit, milliseconds to live ('' for never; else at least 1).
//
// No command touches the key after one that may have deleted it: in a Redis Cluster slot being
// migrated, a script that names a key its node no longer has fails ("Script attempted to access a
// non local key") after its earlier writes were applied. So the expired holders are dropped last:
// after the newcomer is added (whose time is not up, so the key stays), or just before refusing.
// The error of a key that is no semaphore does not quote the key, which may be megabytes long:
// `acquire()` names the semaphore, bounded (see `namedError`).
export const ACQUIRE = defineScript(`if redis.replicate_commands then
  redis.replicate_commands()
end
local time = redis.call('time')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expired = string.format('%.0f', now)
local used = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local stale = redis.call('zrangebyscore', KEYS[1], '-inf', expired)
for i = 1, #stale do
  if not string.match(stale[i], '^%d+:') then
    return redis.error_reply('ERR the key holds a sorted set that is not a cachex semaphore')
  end
end
if used > limit then
  redis.call('zremrangebyscore', KEYS[1], '-inf', expired)
  return 0
end
local holders = redis.call('zrangebyscore', KEYS[1], '(' .. expired, '+inf')
for i = 1, #holders do
  local weight = tonumber(string.match(holders[i], '^(%d+):'))
  if weight == nil then
    return redis.error_reply('ERR the key holds a sorted set that is not a cachex semaphore')
  end
  used = used + weight
  if used > limit then
    redis.call('zremrangebyscore', KEYS[1], '-inf', expired)
    return 0
  end
end
local expiry = '+inf'
if ARGV[4] ~= '' then
  expiry = string.format('%.0f', now + tonumber(ARGV[4]))
end
redis.call('zadd', KEYS[1], expiry, ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', expired)
${EXPIRE_WITH_LAST_HOLDER}
return 1`)

// 1 when the holder was still there (its permits were never counted out, even if its time had
// passed: nobody was admitted in its place), 0 when an acquisition dropped it after its time.
// When it was the last holder, ZREM deleted the key: nothing touches the key after that (see
// ACQUIRE), and a deleted key needs no expiry.
export const RELEASE = defineScript(`local held = redis.call('zcard', KEYS[1])
local removed = redis.call('zrem', KEYS[1], ARGV[1])
if removed == 1 and held > 1 then
${EXPIRE_WITH_LAST_HOLDER}
end
return removed`)
