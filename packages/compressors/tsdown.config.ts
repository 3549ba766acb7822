import { packageBuild } from '../../tsdown.shared.ts'

export default packageBuild([
  'src/index.ts',
  'src/zlib.ts',
  'src/gzip.ts',
  'src/brotli.ts',
  'src/lz4.ts',
  'src/zstd.ts',
  'src/lzma.ts',
])
