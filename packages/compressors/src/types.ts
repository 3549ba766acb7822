/** Options every compressor takes. */
export interface CompressorOptions {
  /** Values of this many bytes or fewer are stored uncompressed. @default 15 (lzma: 100) */
  minLength?: number
}
