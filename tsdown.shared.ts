import { defineConfig, type UserConfig } from 'tsdown'

/** The build every published package shares: ESM + CJS + `.d.mts`/`.d.cts` for Node 20. */
export function packageBuild(entry: string[] | Record<string, string>): UserConfig {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    fixedExtension: true,
    platform: 'node',
    target: 'node20',
    sourcemap: false,
    clean: true,
    // `import.meta.url` (used to load optional peers) needs a shim in the CJS build.
    shims: true,
  })
}
