import { keySlot } from '@cachex/core'

export { keySlot } from '@cachex/core'
export { SLOT_COUNT } from '@cachex/core/internal'

/**
 * The one slot every key matching the glob `pattern` hashes to, when the pattern pins it: the
 * pattern up to the first `}` after its first `{` is literal (no `*`, `?`, `[` or `\`) and the tag
 * is not empty. Otherwise `undefined` (matching keys may be anywhere).
 */
export function patternSlot(pattern: string): number | undefined {
  const open = pattern.indexOf('{')
  if (open === -1) return undefined
  const close = pattern.indexOf('}', open + 1)
  if (close <= open + 1) return undefined
  if (/[*?[\\]/.test(pattern.slice(0, close))) return undefined
  return keySlot(pattern.slice(0, close + 1))
}
