// Pickle opcodes (CPython's Lib/pickle.py names), shared by the reader and the writer.
export const MARK = 0x28
export const STOP = 0x2e
export const POP = 0x30
export const POP_MARK = 0x31
export const DUP = 0x32
export const FLOAT = 0x46
export const INT = 0x49
export const BININT = 0x4a
export const BININT1 = 0x4b
export const LONG = 0x4c
export const BININT2 = 0x4d
export const NONE = 0x4e
export const PERSID = 0x50
export const BINPERSID = 0x51
export const REDUCE = 0x52
export const STRING = 0x53
export const BINSTRING = 0x54
export const SHORT_BINSTRING = 0x55
export const UNICODE = 0x56
export const BINUNICODE = 0x58
export const APPEND = 0x61
export const BUILD = 0x62
export const GLOBAL = 0x63
export const DICT = 0x64
export const EMPTY_DICT = 0x7d
export const APPENDS = 0x65
export const GET = 0x67
export const BINGET = 0x68
export const INST = 0x69
export const LONG_BINGET = 0x6a
export const LIST = 0x6c
export const EMPTY_LIST = 0x5d
export const OBJ = 0x6f
export const PUT = 0x70
export const BINPUT = 0x71
export const LONG_BINPUT = 0x72
export const SETITEM = 0x73
export const TUPLE = 0x74
export const EMPTY_TUPLE = 0x29
export const SETITEMS = 0x75
export const BINFLOAT = 0x47
export const PROTO = 0x80
export const NEWOBJ = 0x81
export const EXT1 = 0x82
export const EXT2 = 0x83
export const EXT4 = 0x84
export const TUPLE1 = 0x85
export const TUPLE2 = 0x86
export const TUPLE3 = 0x87
export const NEWTRUE = 0x88
export const NEWFALSE = 0x89
export const LONG1 = 0x8a
export const LONG4 = 0x8b
export const BINBYTES = 0x42
export const SHORT_BINBYTES = 0x43
export const SHORT_BINUNICODE = 0x8c
export const BINUNICODE8 = 0x8d
export const BINBYTES8 = 0x8e
export const EMPTY_SET = 0x8f
export const ADDITEMS = 0x90
export const FROZENSET = 0x91
export const NEWOBJ_EX = 0x92
export const STACK_GLOBAL = 0x93
export const MEMOIZE = 0x94
export const FRAME = 0x95
export const BYTEARRAY8 = 0x96
export const NEXT_BUFFER = 0x97
export const READONLY_BUFFER = 0x98

/**
 * The opcodes that push no value: they store one (PUT), drop one (POP), or add to a container
 * (APPEND, SETITEM, BUILD…). Every other opcode pushes one (a number, a string, a container, a
 * call's result, or one taken again from the memo or the stack: GET, DUP): `MAKES` is 1 for it,
 * and inspection counts it against its bound (`maxItems`) before it runs. A value taken again
 * counts each time: a list of 60 million references to one empty list is 60 million items to
 * build and show (58 KB of zlib'd DUPs). A dict's keys are given back once set (`setItems` of
 * `_pickle-inspect.ts`): items are what JSON and msgpack count, values.
 */
const MAKES_NO_VALUE = [
  PROTO,
  FRAME,
  STOP,
  MARK,
  POP,
  POP_MARK,
  PUT,
  BINPUT,
  LONG_BINPUT,
  MEMOIZE,
  APPEND,
  APPENDS,
  SETITEM,
  SETITEMS,
  ADDITEMS,
  BUILD,
]
export const MAKES = new Uint8Array(256).fill(1)
for (const op of MAKES_NO_VALUE) MAKES[op] = 0
