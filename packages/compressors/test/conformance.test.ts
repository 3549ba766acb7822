import { runCompressorSuite } from '@cachex/core/testing'
import {
  brotliCompressor,
  gzipCompressor,
  lz4Compressor,
  lzmaCompressor,
  zlibCompressor,
  zstdCompressor,
} from '../src/index.ts'

runCompressorSuite('zlib', () => zlibCompressor())
runCompressorSuite('gzip', () => gzipCompressor())
runCompressorSuite('brotli', () => brotliCompressor({ quality: 5 }))
runCompressorSuite('lz4', () => lz4Compressor())
runCompressorSuite('zstd', () => zstdCompressor())
runCompressorSuite('lzma', () => lzmaCompressor())
