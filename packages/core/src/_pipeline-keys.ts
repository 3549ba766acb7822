// The key commands of the standard API in a pipeline (ttl, expire…, persist, rename): each a
// `context.run` command, queued by the recorder, as in `_pipeline-standard.ts`.
import { checkMs, checkOptions, moveVersions, VERSION_ONLY } from './_args.ts'
import { bounded } from './_bounded.ts'
import { contextOf } from './_context.ts'
import {
  checked,
  type Entry,
  type EntryPipe,
  type PipelineCommand,
  run,
  ttlOf,
  versionOf,
} from './_pipeline-standard.ts'
import { isOne } from './_replies.ts'
import { checkSeconds } from './_timeout.ts'
import type { MoveOptions, VersionOption } from './cache-options.ts'
import { KeyNotFoundError } from './errors.ts'

/** The pipeline versions of the key commands, by method name. */
export const keyEntries: Record<string, Entry> = {
  ttl(pipe: EntryPipe, key: string, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked<number | null>(pipe, context, 'ttl', 0, () => {
      checkOptions(options, 'ttl', VERSION_ONLY)
      return run<number | null>(
        context,
        key,
        versionOf(options),
        'ttl',
        'read',
        (k) => ['TTL', k],
        ttlOf,
        0,
      )
    })
  },

  pttl(pipe: EntryPipe, key: string, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked<number | null>(pipe, context, 'pttl', 0, () => {
      checkOptions(options, 'pttl', VERSION_ONLY)
      return run<number | null>(
        context,
        key,
        versionOf(options),
        'pttl',
        'read',
        (k) => ['PTTL', k],
        ttlOf,
        0,
      )
    })
  },

  expire(pipe: EntryPipe, key: string, seconds: number, options?: VersionOption) {
    return expiry(pipe, 'expire', 'PEXPIRE', key, options, () =>
      Math.trunc(checkSeconds(seconds, 'seconds') * 1000),
    )
  },

  pexpire(pipe: EntryPipe, key: string, milliseconds: number, options?: VersionOption) {
    return expiry(pipe, 'pexpire', 'PEXPIRE', key, options, () => Math.trunc(checkMs(milliseconds)))
  },

  expireAt(pipe: EntryPipe, key: string, when: Date | number, options?: VersionOption) {
    return expiry(pipe, 'expireAt', 'PEXPIREAT', key, options, () =>
      when instanceof Date
        ? checkMs(when.getTime(), true)
        : Math.trunc(checkSeconds(when, 'when', false, true) * 1000),
    )
  },

  pexpireAt(pipe: EntryPipe, key: string, when: Date | number, options?: VersionOption) {
    return expiry(pipe, 'pexpireAt', 'PEXPIREAT', key, options, () =>
      Math.trunc(checkMs(when instanceof Date ? when.getTime() : when, true)),
    )
  },

  persist(pipe: EntryPipe, key: string, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'persist', false, () => {
      checkOptions(options, 'persist', VERSION_ONLY)
      return run(
        context,
        key,
        versionOf(options),
        'persist',
        'write',
        (k) => ['PERSIST', k],
        isOne,
        false,
      )
    })
  },

  rename(pipe: EntryPipe, source: string, destination: string, options?: MoveOptions) {
    return rename(pipe, 'RENAME', source, destination, options)
  },

  renamenx(pipe: EntryPipe, source: string, destination: string, options?: MoveOptions) {
    return rename(pipe, 'RENAMENX', source, destination, options)
  },
}

function expiry(
  pipe: EntryPipe,
  method: string,
  command: 'PEXPIRE' | 'PEXPIREAT',
  key: string,
  options: VersionOption | undefined,
  ms: () => number,
): Promise<boolean> {
  const context = contextOf(pipe.cache)
  return checked(pipe, context, method, false, () => {
    checkOptions(options, method, VERSION_ONLY)
    const value = String(ms())
    return run(
      context,
      key,
      versionOf(options),
      method,
      'write',
      (k) => [command, k, value],
      isOne,
      false,
    )
  })
}

/** rename/renamenx: a missing source is never ignored (`KeyNotFoundError`), as the method. */
function rename(
  pipe: EntryPipe,
  command_: 'RENAME' | 'RENAMENX',
  source: string,
  destination: string,
  options?: MoveOptions,
): Promise<boolean> {
  const context = contextOf(pipe.cache)
  const method = command_.toLowerCase()
  return checked(pipe, context, method, false, () => {
    const [from, toVersion] = moveVersions(options, method)
    const to = context.key(destination, toVersion)
    const command: PipelineCommand<boolean> = {
      label: method,
      access: 'write',
      build: (rkey) => [command_, rkey, to],
      convert: (reply) => command_ === 'RENAME' || isOne(reply),
      fallback: false,
      alsoWrites: [to],
      // A missing source is the caller's to know, as Django's ValueError: never ignored.
      onError: (error) =>
        error instanceof Error && /\bno such key\b/i.test(error.message)
          ? Promise.reject(
              new KeyNotFoundError(`${method}(): the key '${bounded(source)}' does not exist`, {
                cause: error,
              }),
            )
          : undefined,
    }
    return context.run(source, from, command)
  })
}
