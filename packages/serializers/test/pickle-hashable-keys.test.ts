// Dict keys and set items. Python needs them hashable: the reader turns a tuple into an array and
// a frozenset into a Set, so an array in a key position is written as a tuple and a Set as a
// frozenset (a value read from Django goes back as it was, byte for byte). Keys that JavaScript
// tells apart but Python finds equal (`==` and the same hash) are refused, since the dict or set
// Python reads back would keep one of them; keys Python tells apart are written. Every claim is
// checked against CPython at test time: equal pairs collide in a Python set, unequal ones do not
// (and Python reads back both of them from what cachex writes), and the bytes of a read value
// written back are CPython's.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PySafeString,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyUUID,
  PyZoneInfo,
  pickleSerializer,
  tuple,
} from '../src/pickle.ts'

const PYTHON =
  process.env.CACHEX_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')

const SCRIPT = `
import sys, json, pickle, types
from decimal import Decimal
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo
from uuid import UUID
try:
    from django.utils.safestring import SafeString
except ImportError:
    # Django's SafeString: a str subclass with no __eq__ or __hash__ of its own.
    class SafeData:
        __slots__ = ()
        def __html__(self): return self
    class SafeString(str, SafeData):
        __slots__ = ()
    for name in ('django', 'django.utils', 'django.utils.safestring'):
        sys.modules[name] = types.ModuleType(name)
    sys.modules['django.utils.safestring'].SafeString = SafeString
    SafeString.__module__ = 'django.utils.safestring'
utc = timezone.utc
plus1 = timezone(timedelta(hours=1))
env = dict(globals())

def canon(x):
    t = type(x).__name__
    if isinstance(x, (set, frozenset)):
        return (t, sorted(repr(canon(i)) for i in x))
    if isinstance(x, dict):
        return (t, sorted((repr(canon(k)), repr(canon(v))) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (t, [canon(i) for i in x])
    return (t, repr(x))

mode = sys.argv[1]
data = json.load(sys.stdin)
if mode == 'pairs':
    out = []
    for a_expr, b_expr in data:
        a, b = eval(a_expr, env), eval(b_expr, env)
        out.append({'equal': a == b and hash(a) == hash(b), 'size': len({a, b})})
elif mode == 'dumps':
    out = {name: [pickle.dumps(eval(expr, env), p).hex() for p in range(6)]
           for name, expr in data.items()}
elif mode == 'loads':
    out = []
    for hex_, expr in data:
        value = pickle.loads(bytes.fromhex(hex_))
        out.append(canon(value) == canon(eval(expr, env)) if expr else len(value))
elif mode == 'unhashable':
    out = []
    for expr in data:
        try:
            hash(eval(expr, env))
            out.append('hashable')
        except TypeError as error:
            out.append(str(error))
print(json.dumps(out))
`

function python<T>(mode: string, input: unknown): T {
  const result = spawnSync(PYTHON, ['-c', SCRIPT, mode], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `these tests need CPython 3 (${PYTHON}): ${result.error?.message ?? result.stderr}. ` +
        'Install python3 (apt-get install python3).',
    )
  }
  return JSON.parse(result.stdout) as T
}

const utc = PyTimezone.utc
const plus1 = new PyTimezone(new PyTimeDelta(0, 3600))
const NY = new PyZoneInfo('America/New_York')
const PARIS = new PyZoneInfo('Europe/Paris')
const PARIS_NO_CACHE = new PyZoneInfo('Europe/Paris', false)

/** [name, JS key a, JS key b, Python a, Python b] */
type Pair = [string, unknown, unknown, string, string]

// Equal in Python: a == b and hash(a) == hash(b).
const EQUAL: Pair[] = [
  [
    'equal aware datetimes',
    new PyDateTime(2024, 1, 1, 12, 0, 0, 0, utc),
    new PyDateTime(2024, 1, 1, 12, 0, 0, 0, utc),
    'datetime(2024,1,1,12,tzinfo=utc)',
    'datetime(2024,1,1,12,tzinfo=utc)',
  ],
  [
    'one instant in two zones',
    new PyDateTime(2024, 1, 1, 12, 0, 0, 0, utc),
    new PyDateTime(2024, 1, 1, 13, 0, 0, 0, plus1),
    'datetime(2024,1,1,12,tzinfo=utc)',
    'datetime(2024,1,1,13,tzinfo=plus1)',
  ],
  [
    'a Date and an aware datetime at its instant',
    new Date(Date.UTC(2024, 0, 1, 12)),
    new PyDateTime(2024, 1, 1, 13, 0, 0, 0, plus1),
    'datetime(2024,1,1,12,tzinfo=utc)',
    'datetime(2024,1,1,13,tzinfo=plus1)',
  ],
  [
    'a Date and a zoneinfo datetime at its instant',
    new Date(Date.UTC(2024, 6, 1, 10)),
    new PyDateTime(2024, 7, 1, 12, 0, 0, 0, PARIS),
    'datetime(2024,7,1,10,tzinfo=utc)',
    "datetime(2024,7,1,12,tzinfo=ZoneInfo('Europe/Paris'))",
  ],
  [
    'cached and uncached zoneinfo, one instant',
    new PyDateTime(2024, 1, 1, 12, 0, 0, 0, PARIS),
    new PyDateTime(2024, 1, 1, 12, 0, 0, 0, PARIS_NO_CACHE),
    "datetime(2024,1,1,12,tzinfo=ZoneInfo('Europe/Paris'))",
    "datetime(2024,1,1,12,tzinfo=ZoneInfo.no_cache('Europe/Paris'))",
  ],
  [
    'a repeated wall time, fold 0 and 1, one zone',
    new PyDateTime(2024, 11, 3, 1, 30, 0, 0, NY, 0),
    new PyDateTime(2024, 11, 3, 1, 30, 0, 0, NY, 1),
    "datetime(2024,11,3,1,30,tzinfo=ZoneInfo('America/New_York'))",
    "datetime(2024,11,3,1,30,fold=1,tzinfo=ZoneInfo('America/New_York'))",
  ],
  [
    'a skipped wall time, fold 0 and 1, one zone',
    new PyDateTime(2024, 3, 31, 2, 30, 0, 0, PARIS, 0),
    new PyDateTime(2024, 3, 31, 2, 30, 0, 0, PARIS, 1),
    "datetime(2024,3,31,2,30,tzinfo=ZoneInfo('Europe/Paris'))",
    "datetime(2024,3,31,2,30,fold=1,tzinfo=ZoneInfo('Europe/Paris'))",
  ],
  [
    'naive datetimes, fold 0 and 1',
    new PyDateTime(2024, 1, 1, 1),
    new PyDateTime(2024, 1, 1, 1, 0, 0, 0, null, 1),
    'datetime(2024,1,1,1)',
    'datetime(2024,1,1,1,fold=1)',
  ],
  [
    'equal dates',
    new PyDate(2024, 1, 1),
    new PyDate(2024, 1, 1),
    'date(2024,1,1)',
    'date(2024,1,1)',
  ],
  [
    'equal timedeltas',
    new PyTimeDelta(1),
    new PyTimeDelta(0, 86400),
    'timedelta(1)',
    'timedelta(0,86400)',
  ],
  [
    'equal naive times',
    new PyTime(12, 30),
    new PyTime(12, 30, 0, 0, null, 1),
    'time(12,30)',
    'time(12,30,fold=1)',
  ],
  [
    // EST's offset to a time depends on the tzdata Python reads; one zone object compares the
    // fields whatever it says.
    "equal times in ZoneInfo('EST')",
    new PyTime(12, 0, 0, 0, new PyZoneInfo('EST')),
    new PyTime(12, 0, 0, 0, new PyZoneInfo('EST')),
    "time(12,tzinfo=ZoneInfo('EST'))",
    "time(12,tzinfo=ZoneInfo('EST'))",
  ],
  [
    'one time in two offsets',
    new PyTime(12, 0, 0, 0, utc),
    new PyTime(13, 0, 0, 0, plus1),
    'time(12,tzinfo=utc)',
    'time(13,tzinfo=plus1)',
  ],
  [
    'a time in a DST zone (no offset) and a naive time',
    new PyTime(12, 0, 0, 0, PARIS),
    new PyTime(12),
    "time(12,tzinfo=ZoneInfo('Europe/Paris'))",
    'time(12)',
  ],
  [
    'timezones of one offset, two names',
    new PyTimezone(new PyTimeDelta(0, 3600), 'A'),
    new PyTimezone(new PyTimeDelta(0, 3600), 'B'),
    "timezone(timedelta(hours=1),'A')",
    "timezone(timedelta(hours=1),'B')",
  ],
  [
    'one UUID, two spellings',
    new PyUUID('12345678-1234-5678-1234-567812345678'),
    new PyUUID('12345678123456781234567812345678'),
    "UUID('12345678-1234-5678-1234-567812345678')",
    "UUID('12345678123456781234567812345678')",
  ],
  ['Decimal 1 and 1', new PyDecimal('1'), 1, "Decimal('1')", '1'],
  ['Decimal 1 and True', new PyDecimal('1'), true, "Decimal('1')", 'True'],
  [
    'Decimal 1.0 and 1.00',
    new PyDecimal('1.0'),
    new PyDecimal('1.00'),
    "Decimal('1.0')",
    "Decimal('1.00')",
  ],
  ['Decimal 1.5 and 1.5', new PyDecimal('1.5'), 1.5, "Decimal('1.5')", '1.5'],
  [
    'Decimal 0.1 and 0.1 exactly',
    new PyDecimal('0.1000000000000000055511151231257827021181583404541015625'),
    0.1,
    "Decimal('0.1000000000000000055511151231257827021181583404541015625')",
    '0.1',
  ],
  ['Decimal 1E+3 and 1000n', new PyDecimal('1E+3'), 1000n, "Decimal('1E+3')", '1000'],
  [
    'Decimal 2**70 and 2n**70n',
    new PyDecimal((2n ** 70n).toString()),
    2n ** 70n,
    `Decimal('${2n ** 70n}')`,
    '2**70',
  ],
  ['Decimal -0 and 0', new PyDecimal('-0'), 0, "Decimal('-0')", '0'],
  ['Decimal -0E+3 and -0.0', new PyDecimal('-0E+3'), -0, "Decimal('-0E+3')", '-0.0'],
  [
    'Decimal Infinity and Infinity',
    new PyDecimal('Infinity'),
    Number.POSITIVE_INFINITY,
    "Decimal('Infinity')",
    "float('inf')",
  ],
  ['a SafeString and its str', new PySafeString('a'), 'a', "SafeString('a')", "'a'"],
  [
    'one global, two objects',
    new PyGlobal('datetime', 'date'),
    new PyGlobal('datetime', 'date'),
    'date',
    'date',
  ],
  ['equal arrays (tuples)', [1, 2], [1, 2], '(1, 2)', '(1, 2)'],
  ['an array and an equal tuple', [1, 'a'], tuple(true, 'a'), "(1, 'a')", "(True, 'a')"],
  ['nested arrays', [[1, [2]], 3], [[1, [2]], 3], '((1, (2,)), 3)', '((1, (2,)), 3)'],
  [
    'a tuple of a Decimal and of an int',
    tuple(new PyDecimal('2'), 'x'),
    [2, 'x'],
    "(Decimal('2'), 'x')",
    "(2, 'x')",
  ],
  [
    'Sets of one items, two orders (frozensets)',
    new Set([1, 2]),
    new Set([2, 1]),
    'frozenset({1, 2})',
    'frozenset({2, 1})',
  ],
  [
    'Sets of equal items',
    new Set([1]),
    new Set([new PyDecimal('1.0')]),
    'frozenset({1})',
    "frozenset({Decimal('1.0')})",
  ],
]

// Told apart by Python: both stay in a dict.
const UNEQUAL: Pair[] = [
  [
    'naive and aware datetimes',
    new PyDateTime(2024, 1, 1, 12),
    new PyDateTime(2024, 1, 1, 12, 0, 0, 0, utc),
    'datetime(2024,1,1,12)',
    'datetime(2024,1,1,12,tzinfo=utc)',
  ],
  [
    'a Date and a naive datetime of its UTC wall time',
    new Date(Date.UTC(2024, 0, 1, 12)),
    new PyDateTime(2024, 1, 1, 12),
    'datetime(2024,1,1,12,tzinfo=utc)',
    'datetime(2024,1,1,12)',
  ],
  [
    'a date and a datetime',
    new PyDate(2024, 1, 1),
    new PyDateTime(2024, 1, 1),
    'date(2024,1,1)',
    'datetime(2024,1,1)',
  ],
  [
    'a repeated wall time (fold 0) and UTC at its instant',
    new PyDateTime(2024, 11, 3, 1, 30, 0, 0, NY, 0),
    new PyDateTime(2024, 11, 3, 5, 30, 0, 0, utc),
    "datetime(2024,11,3,1,30,tzinfo=ZoneInfo('America/New_York'))",
    'datetime(2024,11,3,5,30,tzinfo=utc)',
  ],
  [
    'a repeated wall time (fold 1) and UTC at its instant',
    new PyDateTime(2024, 11, 3, 1, 30, 0, 0, NY, 1),
    new PyDateTime(2024, 11, 3, 6, 30, 0, 0, utc),
    "datetime(2024,11,3,1,30,fold=1,tzinfo=ZoneInfo('America/New_York'))",
    'datetime(2024,11,3,6,30,tzinfo=utc)',
  ],
  [
    'a repeated wall time in cached and uncached zoneinfo',
    new PyDateTime(2024, 10, 27, 2, 30, 0, 0, PARIS),
    new PyDateTime(2024, 10, 27, 2, 30, 0, 0, PARIS_NO_CACHE),
    "datetime(2024,10,27,2,30,tzinfo=ZoneInfo('Europe/Paris'))",
    "datetime(2024,10,27,2,30,tzinfo=ZoneInfo.no_cache('Europe/Paris'))",
  ],
  [
    'a skipped wall time and the instant it gives',
    new PyDateTime(2024, 3, 31, 2, 30, 0, 0, PARIS),
    new PyDateTime(2024, 3, 31, 3, 30, 0, 0, PARIS),
    "datetime(2024,3,31,2,30,tzinfo=ZoneInfo('Europe/Paris'))",
    "datetime(2024,3,31,3,30,tzinfo=ZoneInfo('Europe/Paris'))",
  ],
  [
    'naive and aware times',
    new PyTime(12),
    new PyTime(12, 0, 0, 0, utc),
    'time(12)',
    'time(12,tzinfo=utc)',
  ],
  [
    'times a day apart once offset (no wrap)',
    new PyTime(0, 0, 0, 0, plus1),
    new PyTime(23, 0, 0, 0, utc),
    'time(0,tzinfo=plus1)',
    'time(23,tzinfo=utc)',
  ],
  [
    'a time in a fixed zoneinfo and a naive time',
    new PyTime(12, 0, 0, 0, new PyZoneInfo('Etc/GMT+5')),
    new PyTime(12),
    "time(12,tzinfo=ZoneInfo('Etc/GMT+5'))",
    'time(12)',
  ],
  [
    'timedeltas',
    new PyTimeDelta(1),
    new PyTimeDelta(0, 86399),
    'timedelta(1)',
    'timedelta(0,86399)',
  ],
  ['timezone.utc and ZoneInfo UTC', utc, new PyZoneInfo('UTC'), 'utc', "ZoneInfo('UTC')"],
  ['a UUID and its int', new PyUUID(5n), 5n, 'UUID(int=5)', '5'],
  ['Decimal 0.1 and 0.1', new PyDecimal('0.1'), 0.1, "Decimal('0.1')", '0.1'],
  ['1e300 and 10n**300n', 1e300, 10n ** 300n, '1e300', '10**300'],
  ['Decimal 1.5 and 1', new PyDecimal('1.5'), 1, "Decimal('1.5')", '1'],
  [
    'two Decimal NaNs',
    new PyDecimal('NaN'),
    new PyDecimal('NaN'),
    "Decimal('NaN')",
    "Decimal('NaN')",
  ],
  [
    'a float NaN and a Decimal NaN',
    Number.NaN,
    new PyDecimal('NaN'),
    "float('nan')",
    "Decimal('NaN')",
  ],
  ['tuples of two NaNs', [Number.NaN], [Number.NaN], "(float('nan'),)", "(float('nan'),)"],
  ['a SafeString and another str', new PySafeString('a'), 'b', "SafeString('a')", "'b'"],
  ['bytes and str', Buffer.from('a'), 'a', "b'a'", "'a'"],
  ['tuples in two orders', [1, 2], [2, 1], '(1, 2)', '(2, 1)'],
  ['an empty tuple and an empty frozenset', [], new Set(), '()', 'frozenset()'],
  ['a tuple and a frozenset of one item', [1], new Set([1]), '(1,)', 'frozenset({1})'],
  ['an array and a str', ['a'], 'a', "('a',)", "'a'"],
]

describe('pickle: keys Python finds equal', () => {
  const serializer = pickleSerializer()
  const cpython = python<Array<{ equal: boolean; size: number }>>(
    'pairs',
    [...EQUAL, ...UNEQUAL].map(([, , , a, b]) => [a, b]),
  )

  it('CPython agrees with each claim', () => {
    for (const [i, [name]] of EQUAL.entries()) {
      expect(cpython[i], name).toEqual({ equal: true, size: 1 })
    }
    for (const [i, [name]] of UNEQUAL.entries()) {
      expect(cpython[EQUAL.length + i], name).toEqual({ equal: false, size: 2 })
    }
  })

  it.each(EQUAL)('refuses %s as Map keys and as Set items', (_, a, b) => {
    for (const value of [
      new Map([
        [a, 1],
        [b, 2],
      ]),
      new Set([a, b]),
      // Inside a key, as Python compares tuples item by item.
      new Set([
        [a, 'x'],
        [b, 'x'],
      ]),
    ]) {
      // (The cache turns the serializer's Error into a SerializationError.)
      expect(() => serializer.serialize(value)).toThrow(/^pickle: the .* are equal in Python/)
    }
  })

  it('writes each pair Python tells apart, and Python reads back both', () => {
    const written: Array<[string, string]> = []
    for (const [, a, b] of UNEQUAL) {
      for (const protocol of [2, 4]) {
        const s = pickleSerializer({ pickleVersion: protocol })
        const map = new Map([
          [a, 1],
          [b, 2],
        ])
        written.push([Buffer.from(s.serialize(map) as Buffer).toString('hex'), ''])
        written.push([Buffer.from(s.serialize(new Set([a, b])) as Buffer).toString('hex'), ''])
      }
    }
    const sizes = python<number[]>('loads', written)
    for (const [i, [name]] of UNEQUAL.entries()) {
      expect(sizes.slice(i * 4, i * 4 + 4), name).toEqual([2, 2, 2, 2])
    }
  })

  it('refuses equal items of a Set inside a key (a frozenset)', () => {
    expect(() => serializer.serialize(new Set([new Set([1, true])]))).toThrow(
      /the Set items 1 and true are equal in Python/,
    )
  })

  it('refuses what Python cannot hash: a signalling NaN Decimal, a key that contains itself', () => {
    expect(python<string[]>('unhashable', ["Decimal('sNaN')", "Decimal('-sNaN5')"])).toEqual([
      'Cannot hash a signaling NaN value',
      'Cannot hash a signaling NaN value',
    ])
    expect(() => serializer.serialize(new Set([new PyDecimal('sNaN')]))).toThrow(
      /a Set item must be hashable in Python; got a signaling NaN PyDecimal/,
    )
    expect(() => serializer.serialize(new Map([[[new PyDecimal('-sNaN5')], 1]]))).toThrow(
      /a Map key must be hashable in Python; got a signaling NaN PyDecimal/,
    )
    const loop: unknown[] = [1]
    loop.push(loop)
    expect(() => serializer.serialize(new Set([loop]))).toThrow(/contains itself/)
    const set = new Set<unknown>()
    set.add(set)
    expect(() => serializer.serialize(new Map([[set, 1]]))).toThrow(/contains itself/)
    // Still unhashable inside a tuple or a frozenset: dicts.
    expect(() => serializer.serialize(new Set([[1, { a: 1 }]]))).toThrow(
      /a Set item must be hashable in Python; got Object/,
    )
    expect(() => serializer.serialize(new Map([[new Set([new Map()]), 1]]))).toThrow(
      /a Map key must be hashable in Python; got Map/,
    )
  })
})

describe('pickle: tuples and frozensets in key positions', () => {
  // Values Django stores that the reader gives as arrays and Sets in key positions.
  const CASES: Record<string, string> = {
    setOfTuples: '{(1, 2), (3, 4)}',
    tupleKeys: "{('fr', 'EUR'): 1.5, ('us', 'USD'): 1}",
    setOfFrozensets: '{frozenset({1}), 2}',
    session: "{'_auth_user_id': '1', 'seen': {('post', 7)}}",
    nested: "{((1, ('a', 'b')), frozenset({(2, 3)})): [4, 5]}",
    frozensetKeys: "{frozenset({'x', 'y'}): 1, frozenset(): 2}",
    emptyTupleKey: "{(): 'empty', (None,): 'none'}",
    shared: "(lambda t: [{t: 1}, {t: 2}])(('k', 1))",
    // The same frozenset as a key in two places: one object, memoized.
    sharedFrozenset: '(lambda f: [{f}, {f: 0}])(frozenset({1, 2}))',
    big: '{(i, str(i)) for i in range(2500)}',
    bigFrozenset: '{frozenset(range(1500))}',
    tupleOfValues: "{(Decimal('1.5'), date(2024, 1, 1), b'x', None, True): 1}",
  }
  const V = python<Record<string, string[]>>('dumps', CASES)

  for (const protocol of [2, 3, 4, 5]) {
    it(`protocol ${protocol}: a value read from CPython, written back, is CPython's bytes`, () => {
      const s = pickleSerializer({ pickleVersion: protocol })
      for (const name of Object.keys(CASES)) {
        const data = Buffer.from(V[name]?.[protocol] as string, 'hex')
        const back = Buffer.from(s.serialize(s.deserialize(data)) as Buffer)
        expect(back.toString('hex'), name).toBe(data.toString('hex'))
      }
    })
  }

  it('Python reads back the value it wrote, with tuples and frozensets', () => {
    const checks: Array<[string, string]> = []
    for (const protocol of [2, 4]) {
      const s = pickleSerializer({ pickleVersion: protocol })
      for (const [name, expr] of Object.entries(CASES)) {
        const read = s.deserialize(Buffer.from(V[name]?.[4] as string, 'hex'))
        checks.push([Buffer.from(s.serialize(read) as Buffer).toString('hex'), expr])
      }
    }
    expect(python<boolean[]>('loads', checks)).toEqual(checks.map(() => true))
  })

  it('writes arrays made in JS as tuples and Sets as frozensets in key positions only', () => {
    const s = pickleSerializer()
    const shared = [1, 2]
    const value = new Map<unknown, unknown>([
      [shared, shared],
      [new Set(['a']), new Set(['a'])],
      [[[1], new Set([[2]])], [[1]]],
    ])
    const expr = "{(1, 2): [1, 2], frozenset({'a'}): {'a'}, ((1,), frozenset({(2,)})): [[1]]}"
    expect(
      python<boolean[]>('loads', [
        [Buffer.from(s.serialize(value) as Buffer).toString('hex'), expr],
      ]),
    ).toEqual([true])
  })
})
