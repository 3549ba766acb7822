// Bytes a decoded value holds, in an ArrayBuffer of their own. `Buffer.from` of fewer than 4 KB
// slices Node's shared 8 KB pool: a value kept (by the local tier, in the application's own map)
// would keep that whole pool slab alive, which no size estimate of the value sees (the local
// tier counts a view's whole buffer).

/** A copy of `data[start, end)` that owns its memory. */
export function unpooledCopy(data: Uint8Array, start = 0, end = data.length): Buffer {
  const bytes = Buffer.allocUnsafeSlow(end - start)
  bytes.set(data.subarray(start, end))
  return bytes
}

/** `text` encoded, in a buffer that owns its memory. */
export function unpooledText(text: string, encoding: 'latin1' | 'utf8'): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text, encoding))
  bytes.write(text, encoding)
  return bytes
}
