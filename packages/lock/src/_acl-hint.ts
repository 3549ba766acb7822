// A Redis ACL's refusal of a lock's acquisition, in words: the server's bare `NOPERM` does not
// say which key it refused, and the one a user limited to the cache's prefix (`~app:*`) lacks is
// cachex's own fencing counter, outside that prefix.
import { ResponseError } from '@cachex/core'
import { bounded } from '@cachex/core/internal'

/**
 * `error` (what an acquisition of the lock `name`, whose fencing counter is `fence`, rejected
 * with) with a hint when it is an ACL's refusal: of a key (`NOPERM … keys`), of the scripts
 * (`NOPERM … 'evalsha' command`), or of a command the script runs ("can't run this command");
 * or when the server does not know the scripts' command, renamed or disabled there as managed
 * services do (`ERR unknown command 'EVAL'`; Redis 6 quotes with backquotes).
 * Still a `ResponseError`, the server's text kept, the original as its `cause`; any other error
 * is returned as it is.
 */
export function withAclHint(error: unknown, name: string, fence: string): unknown {
  if (!(error instanceof ResponseError) || error.code !== 'E_RESPONSE') return error
  const message = error.message
  let hint: string | undefined
  if (message.startsWith('NOPERM') && message.includes('keys')) {
    hint = `the lock's keys are '${bounded(name)}' and its fencing counter '${fence}': the ACL user needs both — allow ~__cachex:* (cachex's own keys, outside any keyPrefix) as well as the cache's keys`
  } else if (message.startsWith('NOPERM') && /'eval(sha)?'/i.test(message)) {
    hint = 'a lock runs Lua scripts: the ACL user needs EVALSHA and EVAL (@scripting)'
  } else if (/^ERR unknown command [`']eval(sha)?[`']/i.test(message)) {
    hint =
      'a lock runs Lua scripts with EVAL, which is renamed or disabled on this server (rename-command): locks need EVAL under its own name, which a managed service may not allow'
  } else if (message.includes("can't run this command")) {
    hint = "the lock's script runs SET, INCR and DEL: the ACL user needs them, and @scripting"
  }
  if (hint === undefined) return error
  return new ResponseError(`lock '${bounded(name)}': ${message} (${hint})`, { cause: error })
}
