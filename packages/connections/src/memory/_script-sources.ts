// The Lua sources of cachex's own scripts, verbatim (byte for byte: they are looked up by SHA1).
// The in-memory backend runs none of them: each is matched by its SHA1 to a native implementation
// (scripts.ts). test/memory-scripts.test.ts checks that these still equal the sources in
// @cachex/core and @cachex/lock, so an edited script fails that test instead of `NOSCRIPT` at run time.
// Generated from packages/core/src/{_incr,_incr-fallback,_coalesce-set,_coalesce-incr,commands/_stampede,
// commands/_stampede-refresh}.ts,
// packages/lock/src/{_lock-scripts,_semaphore-scripts}.ts and packages/admin/src/{_cas,_container-read}.ts.

export const SOURCES = {
  /** incr:INCR_SCRIPT */
  INCR: "if redis.call('EXISTS', KEYS[1]) == 0 then\n  return false\nend\nlocal n = redis.pcall('INCRBY', KEYS[1], ARGV[1])\nif type(n) == 'table' and (string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true)) then\n  return {redis.call('GET', KEYS[1])}\nelseif type(n) == 'table' then\n  return n\nelseif n >= 4503599627370496 or n <= -4503599627370496 then\n  return redis.call('GET', KEYS[1])\nend\nreturn n",
  /** incr:INCR_NUMBER_SCRIPT */
  INCR_NUMBER:
    "local old = redis.call('GET', KEYS[1])\nif not old then\n  return false\nend\nlocal n = redis.pcall('INCRBY', KEYS[1], ARGV[1])\nif type(n) == 'table' and (string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true)) then\n  return {old}\nelseif type(n) == 'table' then\n  return n\nelseif n > 9007199254740991 or n < -9007199254740991 then\n  redis.call('SET', KEYS[1], old, 'KEEPTTL')\n  return 0\nend\nreturn redis.call('GET', KEYS[1])",
  /** incr-fallback:INCR_SWAP_SCRIPT */
  INCR_SWAP:
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then\n  return 0\nend\nredis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')\nreturn 1",
  /** coalesce-set:NOTHING_SCRIPT */
  NOTHING: 'return 1',
  /** coalesce-set:SET_MANY_SCRIPT */
  SET_MANY:
    "local n = #KEYS\nif #ARGV ~= n + 1 then\n  return redis.error_reply('ERR wrong number of arguments: an expiry, then one value per key')\nend\nlocal px = ARGV[1]\nredis.call('SET', KEYS[1], ARGV[2], 'PX', px)\nif n < 16 then\n  for i = 2, n do\n    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', px)\n  end\n  return n\nend\nlocal i = 2\nwhile i <= n do\n  local last = math.min(i + 999, n)\n  local args, k = {}, 0\n  for j = i, last do\n    args[k + 1] = KEYS[j]\n    args[k + 2] = ARGV[j + 1]\n    k = k + 2\n  end\n  redis.call('MSET', unpack(args))\n  i = last + 1\nend\nfor j = 2, n do\n  redis.call('PEXPIRE', KEYS[j], px)\nend\nreturn n",
  /** coalesce-incr:INCR_MANY_SCRIPT */
  INCR_MANY:
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n  return false\nend\nlocal out = {}\nfor i = 1, #ARGV do\n  local n = redis.pcall('INCRBY', KEYS[1], ARGV[i])\n  if type(n) == 'table' then\n    out[i] = n\n    if string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true) then\n      out[i] = {redis.call('GET', KEYS[1])}\n      n = {}\n    end\n    for j = i + 1, #ARGV do\n      out[j] = n\n    end\n    return out\n  elseif n >= 4503599627370496 or n <= -4503599627370496 then\n    out[i] = redis.call('GET', KEYS[1])\n  else\n    out[i] = n\n  end\nend\nreturn out",
  /** coalesce-incr:INCR_KEYS_SCRIPT */
  INCR_KEYS:
    "local out = {}\nlocal all = redis.call('EXISTS', unpack(KEYS)) == #KEYS\nlocal found = {}\nlocal failed = {}\nfor i = 1, #KEYS do\n  local key = KEYS[i]\n  local there = all\n  if not all then\n    there = found[key]\n    if there == nil then\n      there = redis.call('EXISTS', key) == 1\n      found[key] = there\n    end\n  end\n  if not there then\n    out[i] = false\n  elseif failed[key] then\n    out[i] = failed[key]\n  else\n    local n = redis.pcall('INCRBY', key, ARGV[i])\n    if type(n) == 'table' then\n      out[i] = n\n      if string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true) then\n        out[i] = {redis.call('GET', key)}\n        n = {}\n      end\n      failed[key] = n\n    elseif n >= 4503599627370496 or n <= -4503599627370496 then\n      out[i] = redis.call('GET', key)\n    else\n      out[i] = n\n    end\n  end\nend\nreturn out",
  /** stampede-refresh:REFRESH_SWAP_SCRIPT */
  REFRESH_SWAP:
    "local v = redis.call('GET', KEYS[1])\nif not v or redis.sha1hex(v) ~= ARGV[1] then\n  return 0\nend\nlocal ttl = redis.call('PTTL', KEYS[1])\nif ARGV[4] == '' then\n  if ttl ~= -1 then\n    return 0\n  end\nelseif ttl == -1 or ttl > tonumber(ARGV[4]) then\n  return 0\nend\nif ARGV[3] == '' then\n  redis.call('SET', KEYS[1], ARGV[2])\nelse\n  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\nend\nreturn 1",
  /** stampede:RELEASE */
  STAMPEDE_RELEASE:
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
  /** stampede:EXTEND */
  STAMPEDE_EXTEND:
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
  /** lock:RELEASE */
  LOCK_RELEASE:
    "local token = redis.call('get', KEYS[1])\nif not token then\n  return -1\nend\nif token ~= ARGV[1] then\n  return 0\nend\nredis.call('del', KEYS[1])\nreturn 1",
  /** lock:ACQUIRE */
  LOCK_ACQUIRE:
    "local set\nif ARGV[2] == '' then\n  set = redis.call('set', KEYS[1], ARGV[1], 'NX')\nelse\n  set = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\nend\nif not set then\n  return 0\nend\nlocal fence = redis.pcall('incr', KEYS[2])\nif type(fence) ~= 'number' or fence < 1 or fence > 9007199254740927 then\n  redis.call('del', KEYS[1])\n  return redis.error_reply('ERR the fencing counter ' .. KEYS[2] .. ' must hold a non-negative integer, for a positive token below 2^53 - 64: delete it, or set it above the last token handed out')\nend\nreturn fence",
  /** lock:EXTEND */
  LOCK_EXTEND:
    "local token = redis.call('get', KEYS[1])\nif not token or token ~= ARGV[1] then\n  return 0\nend\nlocal expiration = redis.call('pttl', KEYS[1])\nif not expiration then\n  expiration = 0\nend\nif expiration < 0 then\n  return 0\nend\nlocal newttl = ARGV[2]\nif ARGV[3] == \"0\" then\n  newttl = ARGV[2] + expiration\nend\nredis.call('pexpire', KEYS[1], newttl)\nreturn 1",
  /** lock:REACQUIRE */
  LOCK_REACQUIRE:
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then\n  return 0\nend\nredis.call('pexpire', KEYS[1], ARGV[2])\nreturn 1",
  /** semaphore:ACQUIRE */
  SEMAPHORE_ACQUIRE:
    "if redis.replicate_commands then\n  redis.replicate_commands()\nend\nlocal time = redis.call('time')\nlocal now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)\nlocal expired = string.format('%.0f', now)\nlocal used = tonumber(ARGV[2])\nlocal limit = tonumber(ARGV[3])\nlocal stale = redis.call('zrangebyscore', KEYS[1], '-inf', expired)\nfor i = 1, #stale do\n  if not string.match(stale[i], '^%d+:') then\n    return redis.error_reply('ERR the key holds a sorted set that is not a cachex semaphore')\n  end\nend\nif used > limit then\n  redis.call('zremrangebyscore', KEYS[1], '-inf', expired)\n  return 0\nend\nlocal holders = redis.call('zrangebyscore', KEYS[1], '(' .. expired, '+inf')\nfor i = 1, #holders do\n  local weight = tonumber(string.match(holders[i], '^(%d+):'))\n  if weight == nil then\n    return redis.error_reply('ERR the key holds a sorted set that is not a cachex semaphore')\n  end\n  used = used + weight\n  if used > limit then\n    redis.call('zremrangebyscore', KEYS[1], '-inf', expired)\n    return 0\n  end\nend\nlocal expiry = '+inf'\nif ARGV[4] ~= '' then\n  expiry = string.format('%.0f', now + tonumber(ARGV[4]))\nend\nredis.call('zadd', KEYS[1], expiry, ARGV[1])\nredis.call('zremrangebyscore', KEYS[1], '-inf', expired)\nlocal last = redis.call('zrange', KEYS[1], -1, -1, 'WITHSCORES')\nif last[2] == 'inf' then\n  redis.call('persist', KEYS[1])\nelseif last[2] then\n  redis.call('pexpireat', KEYS[1], string.format('%.0f', tonumber(last[2]) + 1))\nend\nreturn 1",
  /** semaphore:RELEASE */
  SEMAPHORE_RELEASE:
    "local held = redis.call('zcard', KEYS[1])\nlocal removed = redis.call('zrem', KEYS[1], ARGV[1])\nif removed == 1 and held > 1 then\nlocal last = redis.call('zrange', KEYS[1], -1, -1, 'WITHSCORES')\nif last[2] == 'inf' then\n  redis.call('persist', KEYS[1])\nelseif last[2] then\n  redis.call('pexpireat', KEYS[1], string.format('%.0f', tonumber(last[2]) + 1))\nend\nend\nreturn removed",
  /** admin:READ (container-read) */
  ADMIN_READ:
    "local kind, at, n = ARGV[1], ARGV[2], ARGV[3]\nlocal max, left, npairs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])\nlocal budget, big, step = tonumber(ARGV[7]), 1, 1\nlocal function int(x) return string.format('%.0f', x) end\nlocal function cap(v)\n  if type(v) ~= 'string' then return v end\n  budget = budget - #v\n  if #v > big then big = #v end\n  if #v > max or #v > left then return {#v, string.sub(v, 1, 256)} end\n  left = left - #v\n  return v\nend\nlocal function grow(fill)\n  step = math.max(1, math.min(step * 2, 64, math.floor(1 / fill / 2)))\nend\nif kind == 'hash' or kind == 'set' then\n  local out, cursor, asked, want = {}, at, 0, tonumber(n)\n  repeat\n    local count = math.max(1, math.min(step, want - asked))\n    local reply = redis.call(kind == 'hash' and 'HSCAN' or 'SSCAN', KEYS[1], cursor, 'COUNT', count)\n    cursor = reply[1]\n    for i = 1, #reply[2] do out[#out + 1] = cap(reply[2][i]) end\n    asked = asked + count\n    grow(big / budget)\n  until cursor == '0' or asked >= want or budget <= 0\n  return {cursor, out}\nend\nif kind == 'list' or kind == 'zset' then\n  local out, i, last, width = {}, tonumber(at), tonumber(n), kind == 'zset' and 2 or 1\n  while i <= last and budget > 0 do\n    local to = math.min(last, i + step - 1)\n    local got = kind == 'list' and redis.call('LRANGE', KEYS[1], int(i), int(to))\n      or redis.call('ZRANGE', KEYS[1], int(i), int(to), 'WITHSCORES')\n    for j = 1, #got, width do\n      out[#out + 1] = cap(got[j])\n      if width == 2 then out[#out + 1] = got[j + 1] end\n    end\n    if #got < (to - i + 1) * width then return {'', out} end\n    i = to + 1\n    grow(big / budget)\n  end\n  return {i <= last and int(i) or '', out}\nend\nlocal out, from, want, heavy, wide = {}, at, tonumber(n), 1, 1\nwhile want > 0 and npairs > 0 and budget > 0 do\n  local entries = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', math.min(step, want))\n  for i = 1, #entries do\n    if npairs <= 0 or budget <= 0 then return {from, out} end\n    local fields, sent, bytes = entries[i][2], {}, 0\n    local take = math.min(#fields, npairs * 2)\n    for j = 1, #fields do\n      bytes = bytes + #fields[j]\n      if j <= take then sent[j] = cap(fields[j]) else budget = budget - #fields[j] end\n    end\n    heavy, wide = math.max(heavy, bytes), math.max(wide, #fields / 2)\n    npairs = npairs - math.floor(take / 2)\n    out[#out + 1] = {entries[i][1], #fields / 2, sent}\n    from = '(' .. entries[i][1]\n  end\n  if #entries < math.min(step, want) then return {'', out} end\n  want = want - #entries\n  grow(math.max(heavy / budget, wide / npairs))\nend\nreturn {want > 0 and from or '', out}",
  /** admin:CAS */
  ADMIN_CAS:
    "local kind = redis.call('TYPE', KEYS[1])['ok']\nlocal function digest()\n  if kind ~= 'string' then\n    return ''\n  end\n  local n = redis.call('STRLEN', KEYS[1])\n  if n <= tonumber(ARGV[2]) then\n    return redis.sha1hex(redis.call('GET', KEYS[1]))\n  end\n  local parts = {tostring(n)}\n  for i = 0, 15 do\n    local at = math.floor(i * (n - 4096) / 15)\n    parts[#parts + 1] = redis.call('GETRANGE', KEYS[1], at, at + 4095)\n  end\n  return redis.sha1hex(table.concat(parts, ':'))\nend\nif ARGV[1] == 'digest' then\n  return {kind, digest()}\nend\nif kind ~= ARGV[3] or digest() ~= ARGV[4] then\n  return 0\nend\nif ARGV[1] == 'delete' then\n  return redis.call('UNLINK', KEYS[1])\nend\nif ARGV[1] == 'set' then\n  redis.call('SET', KEYS[1], ARGV[6], 'KEEPTTL')\nend\nif ARGV[5] == 'persist' then\n  redis.call('PERSIST', KEYS[1])\nelseif ARGV[5] ~= '' then\n  redis.call('PEXPIRE', KEYS[1], ARGV[5])\nend\nreturn 1",
} as const

/** The name of one of cachex's scripts. */
export type ScriptName = keyof typeof SOURCES
