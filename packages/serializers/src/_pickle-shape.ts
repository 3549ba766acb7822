// Whether bytes are shaped as a pickle, for the reader's messages: a refusal names what it read
// (a global's module and name, a memo index) only from a pickle, not from plain text read as one
// (`config\n…\n` starts with GLOBAL, `john:…` with LONG_BINGET, and a sentence ends with STOP).

/** What follows an opcode: nothing, `n` bytes, a line, two lines, or a length of `n` bytes. */
const LINE = -1
const TWO_LINES = -2
/** A length prefix of 1, 4 or 8 bytes (little-endian), then that many bytes. */
const PREFIXED_1 = -11
const PREFIXED_4 = -14
const PREFIXED_8 = -18

/** Each opcode of protocols 0–5 (by its byte) and its argument; `undefined`: no opcode. */
const ARGUMENTS: ReadonlyArray<number | undefined> = (() => {
  const table: Array<number | undefined> = new Array(256)
  for (const op of '(.012NRabdelostu)]}Q') table[op.charCodeAt(0)] = 0
  for (const op of [0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94]) {
    table[op] = 0
  }
  table[0x97] = 0 // NEXT_BUFFER
  table[0x98] = 0 // READONLY_BUFFER
  for (const op of 'ILFSVPpg') table[op.charCodeAt(0)] = LINE
  for (const op of 'ci') table[op.charCodeAt(0)] = TWO_LINES
  for (const [op, n] of [
    ['K', 1],
    ['M', 2],
    ['J', 4],
    ['G', 8],
    ['h', 1],
    ['j', 4],
    ['q', 1],
    ['r', 4],
  ] as const) {
    table[op.charCodeAt(0)] = n
  }
  for (const [op, n] of [
    [0x80, 1], // PROTO
    [0x82, 1], // EXT1
    [0x83, 2], // EXT2
    [0x84, 4], // EXT4
    [0x95, 8], // FRAME
  ] as const) {
    table[op] = n
  }
  for (const op of 'UC') table[op.charCodeAt(0)] = PREFIXED_1
  for (const op of 'TXB') table[op.charCodeAt(0)] = PREFIXED_4
  table[0x8c] = PREFIXED_1 // SHORT_BINUNICODE
  table[0x8a] = PREFIXED_1 // LONG1
  table[0x8b] = PREFIXED_4 // LONG4
  table[0x8d] = PREFIXED_8 // BINUNICODE8
  table[0x8e] = PREFIXED_8 // BINBYTES8
  table[0x96] = PREFIXED_8 // BYTEARRAY8
  return table
})()

/**
 * Whether `data` is a sequence of pickle opcodes, each whole with its argument (a line ended by
 * a newline, a length within the data), ending with STOP at its last byte: what a pickle of any
 * protocol is, and plain text almost never (a line of its first letter's opcode must end before
 * the next letter is a known opcode, and so on to a final `.`). One pass; nothing is read.
 */
export function isPickleShaped(data: Buffer): boolean {
  let at = 0
  while (at < data.length) {
    const op = data[at] as number
    const argument = ARGUMENTS[op]
    if (argument === undefined) return false
    at++
    if (op === 0x2e) return at === data.length
    if (argument >= 0) {
      at += argument
    } else if (argument === LINE || argument === TWO_LINES) {
      for (let lines = argument === LINE ? 1 : 2; lines > 0; lines--) {
        const end = data.indexOf(0x0a, at)
        if (end === -1) return false
        at = end + 1
      }
    } else {
      const width = argument === PREFIXED_1 ? 1 : argument === PREFIXED_4 ? 4 : 8
      if (at + width > data.length) return false
      const length =
        width === 1
          ? (data[at] as number)
          : width === 4
            ? data.readUInt32LE(at)
            : Number(data.readBigUInt64LE(at))
      at += width + length
    }
  }
  return false
}
