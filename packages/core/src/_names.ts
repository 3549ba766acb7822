// Suggestions for a misspelt option name: the checks that refuse unknown names (createCache's,
// configureCaches' and memory://'s options) say which known one was meant.

/**
 * The name in `allowed` that `name` most likely meant, if one is close: an alias (`aliases`, by
 * the normalized name: lower case, letters and digits only), a case or separator difference
 * (`keyprefix`, `KEY_PREFIX`), else one typo, two in a name longer than 5.
 */
export function closestName(
  name: string,
  allowed: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): string | undefined {
  const wanted = normalize(name)
  const alias = Object.hasOwn(aliases, wanted) ? aliases[wanted] : undefined
  if (alias !== undefined && allowed.includes(alias)) return alias
  const typos = wanted.length > 5 ? 2 : 1
  return (
    allowed.find((candidate) => normalize(candidate) === wanted) ??
    allowed.find((candidate) => distance(normalize(candidate), wanted) <= typos)
  )
}

/** The first own key of `options` that is not in `allowed`. */
export function unknownName(options: object, allowed: readonly string[]): string | undefined {
  for (const name of Object.keys(options)) if (!allowed.includes(name)) return name
  return undefined
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** The Levenshtein distance of `a` and `b` (short option names: a table row at a time). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + cost,
      )
    }
    row = next
  }
  return row[b.length] as number
}
