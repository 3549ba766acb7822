// The published types say what the runtime and the docs do: _exact-optional-sample.ts is compiled
// here with `exactOptionalPropertyTypes` on, as `tsc --init` sets it for a new project (the
// repository keeps it off, so `pnpm typecheck` cannot see these).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { typeErrors } from '@cachex/test-utils/type-errors'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))

describe('published types', () => {
  it('createKeyv takes namespace: undefined under exactOptionalPropertyTypes', () => {
    const errors = typeErrors(
      join(here, '_exact-optional-sample.ts'),
      join(here, '../tsconfig.json'),
      {
        exactOptionalPropertyTypes: true,
      },
    )
    expect(errors).toEqual([])
  }, 120_000)
})
