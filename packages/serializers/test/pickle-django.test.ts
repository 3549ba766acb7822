// What Django stores that is not plain data: pytz and zoneinfo time zones, SafeString, and an
// application's own classes through the `classes` table. CPython (with Debian's pytz and Django)
// is the reference: every vector is written by it at test time, and every instant is its own.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { InvalidArgumentError, SerializationError } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import {
  type PickleClasses,
  PyDateTime,
  PyGlobal,
  PySafeString,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PytzTimezone,
  PyZoneInfo,
  pickleSerializer,
} from '../src/pickle.ts'

const PYTHON =
  process.env.CACHEX_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')

function python<T>(script: string, input: unknown): T {
  const result = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONHASHSEED: '0' },
  })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `these tests need CPython 3 with pytz and Django (${PYTHON}; apt-get install python3-django ` +
        `python3-tz): ${result.error?.message ?? result.stderr}`,
    )
  }
  return JSON.parse(result.stdout) as T
}

// The Python side: each case is an expression; every protocol 0–5 by the C pickler and the
// pure-Python one (None where CPython cannot pickle the value at that protocol).
const GENERATE = `
import sys, json, pickle, datetime, zoneinfo, pytz
from django.utils.safestring import SafeString, mark_safe
from django.utils.html import format_html
Z = zoneinfo.ZoneInfo
paris = pytz.timezone('Europe/Paris')

class Money:
    def __init__(self, amount, currency):
        self.amount = amount
        self.currency = currency

class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __reduce__(self):
        return (Point, (self.x, self.y))

env = dict(globals())
def dumps(f, value, p):
    try:
        return f(value, p).hex()
    except Exception:
        return None
out = {}
for name, expr in json.load(sys.stdin).items():
    value = eval(expr, env)
    out[name] = {
        'c': [dumps(pickle.dumps, value, p) for p in range(6)],
        'py': [dumps(pickle._dumps, value, p) for p in range(6)],
    }
print(json.dumps(out))
`

interface Vectors {
  c: (string | null)[]
  py: (string | null)[]
}

interface Case {
  py: string
  /** The JS value that writes CPython's bytes at protocols 2–5 (and that reading gives). */
  js: unknown
  /** What reading protocols 0–3 gives, when it differs (they drop `fold`). */
  readProto3?: unknown
}

const utc = PytzTimezone.utc
const parisZi = new PyZoneInfo('Europe/Paris')
const nyZi = new PyZoneInfo('America/New_York')
const cet = new PytzTimezone('Europe/Paris', {
  utcoffsetSeconds: 3600,
  dstSeconds: 0,
  tzname: 'CET',
})
const cest = new PytzTimezone('Europe/Paris', {
  utcoffsetSeconds: 7200,
  dstSeconds: 3600,
  tzname: 'CEST',
})
const est = new PytzTimezone('EST')
const safe = new PySafeString('<b>x</b>')

const CASES: Record<string, Case> = {
  pytzUtc: {
    py: 'datetime.datetime(2024, 3, 31, 1, 30, 5, 123456, tzinfo=pytz.utc)',
    js: new PyDateTime(2024, 3, 31, 1, 30, 5, 123456, utc),
  },
  pytzUtcShared: {
    py: "[datetime.datetime(2024, 1, 1, tzinfo=pytz.utc), datetime.datetime(2024, 1, 2, tzinfo=pytz.utc), '_UTC', 'pytz', pytz.utc]",
    js: [
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, utc),
      new PyDateTime(2024, 1, 2, 0, 0, 0, 0, utc),
      '_UTC',
      'pytz',
      utc,
    ],
  },
  // A session as Django 3.2 stores it: timezone.now() + set_expiry(timedelta).
  djangoSession: {
    py: "{'_auth_user_id': '1', '_auth_user_backend': 'django.contrib.auth.backends.ModelBackend', '_auth_user_hash': 'a' * 64, '_session_expiry': datetime.datetime(2024, 6, 1, 12, 0, 0, 250, tzinfo=pytz.utc)}",
    js: {
      _auth_user_id: '1',
      _auth_user_backend: 'django.contrib.auth.backends.ModelBackend',
      _auth_user_hash: 'a'.repeat(64),
      _session_expiry: new PyDateTime(2024, 6, 1, 12, 0, 0, 250, utc),
    },
  },
  pytzTime: { py: 'datetime.time(1, 2, 3, tzinfo=pytz.utc)', js: new PyTime(1, 2, 3, 0, utc) },
  pytzStates: {
    py: "[paris.localize(datetime.datetime(2024, 1, 5, 12)), paris.localize(datetime.datetime(2024, 7, 5, 12)), paris.localize(datetime.datetime(2024, 1, 6)), pytz.timezone('EST'), 'CET', '_p', 'Europe/Paris', 'EST', pytz.timezone('Etc/GMT+5')]",
    js: [
      new PyDateTime(2024, 1, 5, 12, 0, 0, 0, cet),
      new PyDateTime(2024, 7, 5, 12, 0, 0, 0, cest),
      new PyDateTime(2024, 1, 6, 0, 0, 0, 0, cet),
      est,
      'CET',
      '_p',
      'Europe/Paris',
      'EST',
      new PytzTimezone('Etc/GMT+5'),
    ],
  },
  pytzNegative: {
    py: "pytz.timezone('America/St_Johns').localize(datetime.datetime(2024, 1, 5, 12))",
    js: new PyDateTime(
      2024,
      1,
      5,
      12,
      0,
      0,
      0,
      new PytzTimezone('America/St_Johns', {
        utcoffsetSeconds: -12600,
        dstSeconds: 0,
        tzname: 'NST',
      }),
    ),
  },
  // The pytz trap: a zone attached without localize() is its first state (local mean time).
  pytzLmt: {
    py: "datetime.datetime(2024, 1, 1, tzinfo=pytz.timezone('Europe/Paris'))",
    js: new PyDateTime(
      2024,
      1,
      1,
      0,
      0,
      0,
      0,
      new PytzTimezone('Europe/Paris', { utcoffsetSeconds: 540, dstSeconds: 0, tzname: 'LMT' }),
    ),
  },
  zoneinfo: {
    py: "datetime.datetime(2024, 3, 31, 1, 30, tzinfo=Z('Europe/Paris'))",
    js: new PyDateTime(2024, 3, 31, 1, 30, 0, 0, parisZi),
  },
  zoneinfoShared: {
    py: "[datetime.datetime(2024, 1, 1, tzinfo=Z('Europe/Paris')), datetime.datetime(2024, 1, 1, tzinfo=Z('America/New_York')), datetime.datetime(2024, 1, 2, tzinfo=Z('Europe/Paris')), 'getattr', '_unpickle', 'ZoneInfo', 'zoneinfo', 'builtins', Z('America/New_York')]",
    js: [
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, parisZi),
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, nyZi),
      new PyDateTime(2024, 1, 2, 0, 0, 0, 0, parisZi),
      'getattr',
      '_unpickle',
      'ZoneInfo',
      'zoneinfo',
      'builtins',
      nyZi,
    ],
  },
  zoneinfoNoCache: {
    py: "(lambda z: [datetime.datetime(2024, 1, 1, tzinfo=z), z, Z.no_cache('Europe/Berlin'), Z('Europe/Rome')])(Z.no_cache('Europe/Paris'))",
    js: (() => {
      const z = new PyZoneInfo('Europe/Paris', false)
      return [
        new PyDateTime(2024, 1, 1, 0, 0, 0, 0, z),
        z,
        new PyZoneInfo('Europe/Berlin', false),
        new PyZoneInfo('Europe/Rome'),
      ]
    })(),
  },
  zoneinfoFold: {
    py: "datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=Z('Europe/Paris'))",
    js: new PyDateTime(2024, 10, 27, 2, 30, 0, 0, parisZi, 1),
    readProto3: new PyDateTime(2024, 10, 27, 2, 30, 0, 0, parisZi),
  },
  mixedZones: {
    py: "[datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2024, 1, 1, tzinfo=pytz.utc), datetime.datetime(2024, 1, 1, tzinfo=Z('UTC'))]",
    js: [
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, PyTimezone.utc),
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, utc),
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, new PyZoneInfo('UTC')),
    ],
  },
  safeString: { py: "mark_safe('<b>x</b>')", js: safe },
  safeStrings: {
    py: "[mark_safe('a'), mark_safe('a'), 'a', mark_safe(''), '', mark_safe('漢字 😀'), 'SafeString', {'k': mark_safe('<i>')}]",
    js: [
      new PySafeString('a'),
      new PySafeString('a'),
      'a',
      new PySafeString(''),
      '',
      new PySafeString('漢字 😀'),
      'SafeString',
      { k: new PySafeString('<i>') },
    ],
  },
  formatHtml: {
    py: "format_html('<a href=\"{}\">{}</a>', '/x?a=1&b=2', '<script>')",
    js: new PySafeString('<a href="/x?a=1&amp;b=2">&lt;script&gt;</a>'),
  },
  sharedSafeString: {
    py: "(lambda s: [s, s])(mark_safe('<p>'))",
    js: ((s) => [s, s])(new PySafeString('<p>')),
  },
  references: {
    py: '[pytz._p, pytz._UTC, Z, SafeString]',
    js: [
      new PyGlobal('pytz', '_p'),
      new PyGlobal('pytz', '_UTC'),
      new PyGlobal('zoneinfo', 'ZoneInfo'),
      new PyGlobal('django.utils.safestring', 'SafeString'),
    ],
  },
}

const vectors = python<Record<string, Vectors>>(
  GENERATE,
  Object.fromEntries(Object.entries(CASES).map(([name, c]) => [name, c.py])),
)

const hex = (data: Buffer | string) =>
  (typeof data === 'string' ? Buffer.from(data) : data).toString('hex')
const reader = pickleSerializer()
const writers = [2, 3, 4, 5].map((p) => [p, pickleSerializer({ pickleVersion: p })] as const)

/** A canonical text of a value: types, fields, sharing; zones by their fields. */
function canon(value: unknown, seen = new Map<object, number>()): string {
  if (value === null) return 'None'
  if (typeof value !== 'object') return `${typeof value}:${String(value)}`
  const id = seen.get(value)
  if (id !== undefined) return `ref#${id}`
  seen.set(value, seen.size)
  if (value instanceof PySafeString) return `safe:${JSON.stringify(String(value))}`
  if (Array.isArray(value)) return `[${value.map((x) => canon(x, seen)).join(',')}]`
  const record = value as Record<string, unknown>
  const kind = Object.getPrototypeOf(value)?.constructor?.name ?? 'null'
  const fields = Object.keys(record).map((k) => `${k}:${canon(record[k], seen)}`)
  return `${kind}{${fields.join(',')}}`
}

function firstDifference(ours: string, theirs: string): string {
  let i = 0
  while (ours[i] === theirs[i]) i++
  return (
    `bytes differ from offset ${Math.floor(i / 2)}\n` +
    `  ours:    …${ours.slice(Math.max(0, i - 40), i + 40)}\n` +
    `  CPython: …${theirs.slice(Math.max(0, i - 40), i + 40)}`
  )
}

describe('pickle, Django values: byte for byte as CPython writes', () => {
  it.each(Object.entries(CASES))('%s', (name, c) => {
    const v = vectors[name] as Vectors
    for (const [p, writer] of writers) {
      const ours = hex(writer.serialize(c.js))
      const cpython = v.c[p] as string
      if (ours !== cpython) expect.fail(`protocol ${p}: ${firstDifference(ours, cpython)}`)
    }
  })
})

describe('pickle, Django values: reads what CPython writes', () => {
  it.each(Object.entries(CASES))('%s', (name, c) => {
    const v = vectors[name] as Vectors
    for (let p = 0; p <= 5; p++) {
      const expected = canon(p <= 3 && c.readProto3 !== undefined ? c.readProto3 : c.js)
      for (const [pickler, data] of [
        ['pickle.dumps', v.c[p]],
        ['pickle._dumps', v.py[p]],
      ] as const) {
        // CPython cannot pickle a SafeString at protocols 0 and 1 (its __str__ returns itself,
        // and copyreg's reduction recurses): there is nothing to read.
        if (data === null || data === undefined) {
          expect(name, `${pickler} protocol ${p}`).toMatch(/safe|Safe|formatHtml/)
          expect(p).toBeLessThan(2)
          continue
        }
        const value = reader.deserialize(Buffer.from(data, 'hex'))
        expect(canon(value), `${pickler} protocol ${p}`).toBe(expected)
        // Written back, CPython's exact bytes (protocols 2–5, from the C pickler).
        if (p >= 2 && pickler === 'pickle.dumps' && (p > 3 || c.readProto3 === undefined)) {
          const again = hex(pickleSerializer({ pickleVersion: p }).serialize(value))
          if (again !== data)
            expect.fail(`protocol ${p} round trip: ${firstDifference(again, data)}`)
        }
      }
    }
  })

  it('writes equal zones as one object, as Python shares them', () => {
    const one = [
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, parisZi),
      new PyDateTime(2024, 1, 2, 0, 0, 0, 0, new PyZoneInfo('Europe/Paris')),
      new PyDateTime(2024, 1, 3, 0, 0, 0, 0, cet),
      new PyDateTime(
        2024,
        1,
        4,
        0,
        0,
        0,
        0,
        new PytzTimezone('Europe/Paris', { utcoffsetSeconds: 3600, dstSeconds: 0, tzname: 'CET' }),
      ),
      new PyDateTime(2024, 1, 5, 0, 0, 0, 0, new PytzTimezone('UTC')),
      new PyDateTime(2024, 1, 6, 0, 0, 0, 0, utc),
    ]
    // (ZoneInfo.no_cache() zones are distinct objects in Python: shared by identity only.)
    const shared = [
      new PyDateTime(2024, 1, 1, 0, 0, 0, 0, parisZi),
      new PyDateTime(2024, 1, 2, 0, 0, 0, 0, parisZi),
      new PyDateTime(2024, 1, 3, 0, 0, 0, 0, cet),
      new PyDateTime(2024, 1, 4, 0, 0, 0, 0, cet),
      new PyDateTime(2024, 1, 5, 0, 0, 0, 0, utc),
      new PyDateTime(2024, 1, 6, 0, 0, 0, 0, utc),
    ]
    expect(hex(reader.serialize(one))).toBe(hex(reader.serialize(shared)))
  })

  it('reads pytz.utc as the one PytzTimezone.utc, and one pytz state as one object', () => {
    const value = reader.deserialize(
      Buffer.from((vectors.pytzUtcShared as Vectors).c[4] as string, 'hex'),
    ) as [PyDateTime, PyDateTime, string, string, PytzTimezone]
    expect(value[0].tzinfo).toBe(PytzTimezone.utc)
    expect(value[4]).toBe(PytzTimezone.utc)
    const states = reader.deserialize(
      Buffer.from((vectors.pytzStates as Vectors).c[2] as string, 'hex'),
    ) as PyDateTime[]
    expect(states[2]?.tzinfo).toBe(states[0]?.tzinfo)
  })
})

// ---------------------------------------------------------------------------------------------
// Instants: every wall-clock time around the transitions of many zones, in both folds, read and
// converted here against Python's own utcoffset(), timestamp() and isoformat().

const INSTANTS = `
import sys, json, pickle, datetime
from zoneinfo import ZoneInfo
req = json.load(sys.stdin)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
DAY = 86400
def offset(z, t):
    return datetime.datetime.fromtimestamp(t, z).utcoffset().total_seconds()
def transitions(z, year):
    start = int(datetime.datetime(year, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    found = []
    for d in range(366):
        a, b = start + d * DAY, start + (d + 1) * DAY
        if offset(z, a) != offset(z, b):
            while b - a > 1:
                m = (a + b) // 2
                if offset(z, m) == offset(z, a): a = m
                else: b = m
            found.append(b)
    return found
dts, meta, instants = [], [], []
for name in req['zones']:
    z = ZoneInfo(name)
    for year in req['years']:
        ts = transitions(z, year) or [int(datetime.datetime(year, 6, 1, tzinfo=datetime.timezone.utc).timestamp())]
        for t in ts:
            before, after = offset(z, t - 1), offset(z, t)
            lo, hi = min(before, after), max(before, after)
            walls = {t + lo - 1, t + lo, t + (lo + hi) // 2, t + hi - 1, t + hi, t + hi + 1800, t - 3600 * 5 + hi, t + 3600 * 7 + lo}
            for w in sorted(walls):
                naive = EPOCH.replace(tzinfo=None) + datetime.timedelta(seconds=w)
                for fold in (0, 1):
                    dt = naive.replace(tzinfo=z, fold=fold, microsecond=250000)
                    dts.append(dt)
                    meta.append([name, dt.timestamp(), dt.utcoffset().total_seconds(), dt.isoformat()])
            for u in (t - 1801, t - 1, t, t + 1, t + 1799):
                local = datetime.datetime.fromtimestamp(u, z)
                instants.append([name, u, [local.year, local.month, local.day, local.hour, local.minute, local.second, local.fold]])
print(json.dumps({'pickle': pickle.dumps(dts, 4).hex(), 'meta': meta, 'instants': instants}))
`

const ZONES = [
  'Europe/Paris',
  'Europe/London',
  'Europe/Dublin', // negative DST in the database: winter is the "DST" period
  'America/New_York',
  'America/St_Johns', // half-hour offset
  'America/Sao_Paulo',
  'America/Santiago',
  'America/Havana', // transitions at midnight
  'Australia/Lord_Howe', // 30-minute DST
  'Pacific/Chatham', // +12:45 / +13:45
  'Pacific/Apia', // skipped a whole day (2011-12-30)
  'Asia/Kolkata',
  'Asia/Tehran',
  'Africa/Casablanca', // DST suspended during Ramadan
  'Antarctica/Troll', // +00 / +02: a two-hour DST
  'UTC',
]
const YEARS = [1975, 1996, 2011, 2024, 2037, 2099]

describe('pickle: zoneinfo datetimes read as the instants Python gives', () => {
  const data = python<{
    pickle: string
    meta: [string, number, number, string][]
    instants: [string, number, number[]][]
  }>(INSTANTS, { zones: ZONES, years: YEARS })
  const read = reader.deserialize(Buffer.from(data.pickle, 'hex')) as PyDateTime[]

  it(`${data.meta.length} wall-clock times around transitions, both folds, ${ZONES.length} zones`, () => {
    expect(read).toHaveLength(data.meta.length)
    const wrong: string[] = []
    read.forEach((dt, i) => {
      const [zone, timestamp, offset, iso] = data.meta[i] as [string, number, number, string]
      const got = {
        ms: dt.toDate().getTime(),
        offset: dt.utcoffset()?.totalSeconds(),
        iso: dt.toString(),
      }
      const want = { ms: Math.round(timestamp * 1000), offset, iso }
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        wrong.push(`${zone} ${iso} fold=${dt.fold}: ${JSON.stringify(got)}`)
      }
    })
    expect(wrong.slice(0, 10)).toEqual([])
    expect(data.meta.length).toBeGreaterThan(1500)
  })

  it(`${data.instants.length} instants placed in zones as datetime.fromtimestamp(t, ZoneInfo(key))`, () => {
    const wrong: string[] = []
    for (const [zone, t, want] of data.instants) {
      const dt = PyDateTime.fromDate(new Date(t * 1000), new PyZoneInfo(zone))
      const got = [dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.fold]
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        wrong.push(`${zone} ${t}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`)
      }
      // And back: the same instant.
      if (dt.toDate().getTime() !== t * 1000) wrong.push(`${zone} ${t}: back ${dt.toDate()}`)
    }
    expect(wrong.slice(0, 10)).toEqual([])
  })
})

describe('pickle: pytz datetimes read as the instants Python gives', () => {
  const data = python<{ pickle: string; meta: [number, string][] }>(
    `
import sys, json, pickle, datetime, pytz
dts = []
for name in ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'EST', 'Etc/GMT-14', 'UTC']:
    z = pytz.timezone(name)
    for wall in [datetime.datetime(2024, 1, 15, 12), datetime.datetime(2024, 7, 15, 12), datetime.datetime(2024, 3, 31, 2, 30), datetime.datetime(2024, 10, 27, 2, 30), datetime.datetime(1999, 12, 31, 23, 59, 59, 999999)]:
        for is_dst in (True, False):
            dts.append(z.normalize(z.localize(wall, is_dst=is_dst)))
dts.append(datetime.datetime(2024, 1, 1, tzinfo=pytz.timezone('Europe/Paris')))
print(json.dumps({'pickle': pickle.dumps(dts, 2).hex(), 'meta': [[dt.timestamp(), dt.isoformat()] for dt in dts]}))
`,
    null,
  )

  it('every localized and normalized datetime, and an unlocalized one (LMT)', () => {
    const read = reader.deserialize(Buffer.from(data.pickle, 'hex')) as PyDateTime[]
    expect(read.map((dt) => [dt.toDate().getTime() / 1000, dt.toString()])).toEqual(
      data.meta.map(([t, iso]) => [Math.floor(t * 1000) / 1000, iso]),
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Refusals: each allowed global only in the exact shape its pickler writes; nothing else called.

const b = (text: string) => Buffer.from(text, 'latin1')
const GETATTR2 = 'c__builtin__\ngetattr\n'
const ZONEINFO2 = 'czoneinfo\nZoneInfo\n'

describe('pickle: refuses every other shape of getattr, pytz, zoneinfo and SafeString', () => {
  it.each([
    [
      "getattr(__import__('os'), 'system')",
      `\x80\x02${GETATTR2}c__builtin__\n__import__\nX\x02\x00\x00\x00os\x85RX\x06\x00\x00\x00system\x86R.`,
      /refusing to load global builtins\.__import__/,
    ],
    [
      "getattr(zoneinfo.ZoneInfo, 'something_else')",
      `\x80\x02${GETATTR2}${ZONEINFO2}X\x0e\x00\x00\x00something_else\x86R.`,
      /refusing builtins\.getattr\(global zoneinfo\.ZoneInfo, "something_else"\)/,
    ],
    [
      "getattr(builtins.object, '__subclasses__')",
      `\x80\x02${GETATTR2}c__builtin__\nobject\nX\x0e\x00\x00\x00__subclasses__\x86R.`,
      /refusing builtins\.getattr\(global builtins\.object, "__subclasses__"\)/,
    ],
    [
      "getattr(getattr, '__self__')",
      `\x80\x02${GETATTR2}${GETATTR2}X\x08\x00\x00\x00__self__\x86R.`,
      /refusing builtins\.getattr\(builtins\.getattr, "__self__"\)/,
    ],
    [
      "getattr(datetime.datetime, 'now')",
      `\x80\x02${GETATTR2}cdatetime\ndatetime\nX\x03\x00\x00\x00now\x86R.`,
      /refusing builtins\.getattr\(global datetime\.datetime, "now"\)/,
    ],
    [
      "getattr on a non-class: getattr('abc', 'upper')",
      `\x80\x02${GETATTR2}X\x03\x00\x00\x00abcX\x05\x00\x00\x00upper\x86R.`,
      /refusing builtins\.getattr\("abc", "upper"\)/,
    ],
    [
      // The arguments shown are four at most, each cut whole: the list cut at 200 characters
      // ended inside the fifth's quotes.
      'getattr of six long strings',
      `\x80\x02${GETATTR2}(${'X\x32\x00\x00\x00'.concat('s'.repeat(50)).repeat(5)}X\x06\x00\x00\x00fifthxtR.`,
      new RegExp(
        `refusing builtins\\.getattr\\(${`"${'s'.repeat(40)}…", `.repeat(4)}… and 2 more\\)`,
      ),
    ],
    [
      "getattr(zoneinfo.ZoneInfo, '_unpickle', None)",
      `\x80\x02${GETATTR2}${ZONEINFO2}X\t\x00\x00\x00_unpickleN\x87R.`,
      /refusing builtins\.getattr/,
    ],
    ['getattr through NEWOBJ', `\x80\x02${GETATTR2})\x81.`, /builtins\.getattr is not a class/],
    [
      'getattr as a value',
      `\x80\x02${GETATTR2}.`,
      /builtins\.getattr is read only as the callable/,
    ],
    ['getattr inside a list', `\x80\x02](${GETATTR2}e.`, /builtins\.getattr is read only/],
    ['getattr as a dict key', `\x80\x02}(${GETATTR2}K\x01u.`, /builtins\.getattr is read only/],
    [
      'ZoneInfo._unpickle as a value',
      `\x80\x02${GETATTR2}${ZONEINFO2}X\t\x00\x00\x00_unpickle\x86R.`,
      /zoneinfo\.ZoneInfo\._unpickle is read only as the callable/,
    ],
    [
      'ZoneInfo._unpickle through NEWOBJ',
      `\x80\x02${GETATTR2}${ZONEINFO2}X\t\x00\x00\x00_unpickle\x86RX\x0c\x00\x00\x00Europe/ParisK\x01\x86\x81.`,
      /zoneinfo\.ZoneInfo\._unpickle is not a class/,
    ],
    [
      'ZoneInfo._unpickle(key, 2)',
      `\x80\x02${GETATTR2}${ZONEINFO2}X\t\x00\x00\x00_unpickle\x86RX\x0c\x00\x00\x00Europe/ParisK\x02\x86R.`,
      /ZoneInfo\._unpickle\(\) takes \(key: str, from_cache: 0 or 1\)/,
    ],
    [
      'ZoneInfo._unpickle(5, 1)',
      `\x80\x02${GETATTR2}${ZONEINFO2}X\t\x00\x00\x00_unpickle\x86RK\x05K\x01\x86R.`,
      /ZoneInfo\._unpickle\(\) takes/,
    ],
    [
      'ZoneInfo._unpickle(key)',
      `\x80\x02${GETATTR2}${ZONEINFO2}X\t\x00\x00\x00_unpickle\x86RX\x03\x00\x00\x00UTC\x85R.`,
      /ZoneInfo\._unpickle\(\) takes/,
    ],
    [
      "ZoneInfo('Europe/Paris') called directly",
      `\x80\x02${ZONEINFO2}X\x0c\x00\x00\x00Europe/Paris\x85R.`,
      /refusing to call zoneinfo\.ZoneInfo/,
    ],
    [
      'ZoneInfo._unpickle as a dotted global',
      '\x80\x04\x8c\x08zoneinfo\x8c\x12ZoneInfo._unpickle\x93.',
      /refusing to load global zoneinfo\.ZoneInfo\._unpickle/,
    ],
    ['pytz._UTC(1)', '\x80\x02cpytz\n_UTC\nK\x01\x85R.', /pytz\._UTC\(\) takes no arguments/],
    ['pytz._UTC through NEWOBJ', '\x80\x02cpytz\n_UTC\n)\x81.', /pytz\._UTC\(\) takes no arg/],
    ['pytz._p(1)', '\x80\x02cpytz\n_p\nK\x01\x85R.', /pytz\._p\(\) takes \(zone: str\)/],
    [
      "pytz._p('Europe/Paris', '3600', 0, 'CET')",
      '\x80\x02cpytz\n_p\n(X\x0c\x00\x00\x00Europe/ParisX\x04\x00\x00\x003600K\x00X\x03\x00\x00\x00CETtR.',
      /pytz\._p\(\) takes .* got \("Europe\/Paris", "3600", int, "CET"\)/,
    ],
    [
      "pytz._p('Europe/Paris', 3600, 0)",
      '\x80\x02cpytz\n_p\nX\x0c\x00\x00\x00Europe/ParisM\x10\x0eK\x00\x87R.',
      /pytz\._p\(\) takes/,
    ],
    [
      "pytz._p('Europe/Paris', 3600.5, 0, 'CET')",
      '\x80\x02cpytz\n_p\n(X\x0c\x00\x00\x00Europe/ParisG@\xac\x21\x00\x00\x00\x00\x00K\x00X\x03\x00\x00\x00CETtR.',
      /pytz\._p\(\) takes .*float/,
    ],
    [
      "pytz._p('Europe/Paris', 90000, 0, 'CET')",
      '\x80\x02cpytz\n_p\n(X\x0c\x00\x00\x00Europe/ParisJ\x90\x5f\x01\x00K\x00X\x03\x00\x00\x00CETtR.',
      /invalid arguments to pytz\._p\(\): pytz utcoffset must be an integer/,
    ],
    ['pytz._p through NEWOBJ', '\x80\x02cpytz\n_p\n)\x81.', /pytz\._p is not a class/],
    [
      "SafeString('x') through REDUCE",
      '\x80\x02cdjango.utils.safestring\nSafeString\nX\x01\x00\x00\x00x\x85R.',
      /SafeString is read only as CPython pickles it/,
    ],
    [
      'SafeString of an int',
      '\x80\x02cdjango.utils.safestring\nSafeString\nK\x01\x85\x81.',
      /SafeString is read only as CPython pickles it/,
    ],
    [
      'SafeString with state',
      '\x80\x02cdjango.utils.safestring\nSafeString\nX\x01\x00\x00\x00x\x85\x81}b.',
      /BUILD is only supported for uuid\.UUID, not PySafeString/,
    ],
    [
      'a datetime whose tzinfo is a SafeString',
      '\x80\x03cdatetime\ndatetime\nC\n\x07\xe8\x01\x01\x00\x00\x00\x00\x00\x00cdjango.utils.safestring\nSafeString\nX\x01\x00\x00\x00x\x85\x81\x86R.',
      /tzinfo must be None, a datetime\.timezone, a zoneinfo\.ZoneInfo or a pytz zone, got PySafeString/,
    ],
    [
      'another django.utils.safestring global',
      '\x80\x02cdjango.utils.safestring\nmark_safe\nX\x01\x00\x00\x00x\x85R.',
      /refusing to load global django\.utils\.safestring\.mark_safe/,
    ],
    [
      "a lazy translation string (gettext_lazy('Hello'))",
      '\x80\x02cdjango.utils.functional\n_lazy_proxy_unpickle\n.',
      /refusing to load global django\.utils\.functional\._lazy_proxy_unpickle/,
    ],
  ])('refuses %s', (_, text, message) => {
    let error: unknown
    try {
      reader.deserialize(b(text))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SerializationError)
    expect((error as Error).message).toMatch(/^pickle: /)
    expect((error as Error).message).toMatch(message)
  })

  it('fuzz: mutated and truncated zone and SafeString pickles load or throw a pickle error', () => {
    let seed = 9
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const sources = Object.values(vectors).flatMap((v) =>
      [...v.c, ...v.py].filter((x): x is string => typeof x === 'string'),
    )
    let loaded = 0
    for (let i = 0; i < 2000; i++) {
      const data = Buffer.from(sources[random(sources.length)] as string, 'hex')
      const mutated = Buffer.from(data)
      for (let k = 0; k <= random(3); k++) mutated[random(mutated.length)] = random(256)
      const input = random(4) === 0 ? mutated.subarray(0, random(mutated.length)) : mutated
      try {
        reader.deserialize(input)
        loaded++
      } catch (error) {
        if (!(error instanceof SerializationError) || !error.message.startsWith('pickle: ')) {
          throw error
        }
      }
    }
    expect(loaded).toBeGreaterThan(0)
  })

  it('names the global, and the two ways forward, when it refuses one', () => {
    expect(() => reader.deserialize(b('\x80\x02cmyapp.models\nMoney\n)\x81.'))).toThrow(
      /refusing to load global myapp\.models\.Money: .*never runs code.*Store plain data .* or read this global with a handler of your own \(pickleSerializer\(\{ classes \}\), createCache\(\{ pickleClasses \}\)\)/,
    )
  })
})

// ---------------------------------------------------------------------------------------------
// The value classes.

describe('pickle: PySafeString, PyZoneInfo, PytzTimezone', () => {
  it('a PySafeString works as text', () => {
    const s = new PySafeString('<b>hi</b>')
    expect(typeof s).toBe('object')
    expect(String(s)).toBe('<b>hi</b>')
    expect(`${s}!`).toBe('<b>hi</b>!')
    expect(s.length).toBe(9)
    expect(s.toUpperCase()).toBe('<B>HI</B>')
    expect(JSON.stringify({ s })).toBe('{"s":"<b>hi</b>"}')
    // biome-ignore lint/suspicious/noDoubleEquals: what a newcomer may write, and it holds
    expect(s == '<b>hi</b>').toBe(true)
    expect(s instanceof String).toBe(true)
    expect(() => new PySafeString(5 as unknown as string)).toThrow(TypeError)
  })

  it('zones validate their names against the time zone database', () => {
    expect(() => new PyZoneInfo('Europe/Pariss')).toThrow(/unknown time zone "Europe\/Pariss"/)
    expect(() => new PyZoneInfo('')).toThrow(TypeError)
    expect(() => new PytzTimezone('Europe/Paris')).toThrow(/not one of pytz's fixed-offset zones/)
    expect(new PytzTimezone('EST').toString()).toBe('EST')
    expect(new PytzTimezone('utc').isUtc).toBe(true)
    expect(
      () => new PytzTimezone('Europe/Paris', { utcoffsetSeconds: 1.5, dstSeconds: 0, tzname: 'X' }),
    ).toThrow(RangeError)
  })

  it('reads a zone this Node does not know, and says so when asked for the instant', () => {
    const bytes = pickleSerializer().serialize(new PyDateTime(2024, 1, 1, 0, 0, 0, 0, parisZi))
    const edited = Buffer.from(hex(bytes).replace(hex('Europe/Paris'), hex('Europe/Nowhe')), 'hex')
    const dt = reader.deserialize(edited) as PyDateTime
    expect((dt.tzinfo as PyZoneInfo).key).toBe('Europe/Nowhe')
    expect(() => dt.toDate()).toThrow(/unknown time zone "Europe\/Nowhe"/)
  })

  it('gives utcoffset() and isoformat() as Python does', () => {
    expect(new PyDateTime(2024, 7, 1, 12, 0, 0, 0, parisZi).toString()).toBe(
      '2024-07-01T12:00:00+02:00',
    )
    expect(new PyDateTime(2024, 7, 1, 12, 0, 0, 0, cet).toString()).toBe(
      '2024-07-01T12:00:00+01:00',
    )
    expect(new PyTime(1, 2, 3, 0, utc).toString()).toBe('01:02:03+00:00')
    expect(new PyTime(1, 2, 3, 0, parisZi).toString()).toBe('01:02:03')
    expect(new PyTime(1, 2, 3, 0, est).utcoffset()).toEqual(new PyTimeDelta(0, -5 * 3600))
  })

  it('fromDate places an instant in a zone, and refuses a pytz state', () => {
    const instant = new Date(Date.UTC(2024, 9, 27, 1, 30))
    const dt = PyDateTime.fromDate(instant, parisZi)
    expect([dt.hour, dt.minute, dt.fold, dt.toString()]).toEqual([
      2,
      30,
      1,
      '2024-10-27T02:30:00+01:00',
    ])
    expect(PyDateTime.fromDate(instant, utc).tzinfo).toBe(utc)
    expect(PyDateTime.fromDate(instant, est).hour).toBe(20)
    expect(() => PyDateTime.fromDate(instant, cet)).toThrow(/use new PyZoneInfo\('Europe\/Paris'\)/)
  })
})

// ---------------------------------------------------------------------------------------------
// The extension point.

class Money {
  constructor(
    public amount: string,
    public currency: string,
  ) {}
}

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const classes: PickleClasses = {
  '__main__.Money': {
    read(args, kind) {
      if (kind !== 'new' || args.length !== 0) throw new Error('Money is made by __new__ alone')
      return new Money('0', '')
    },
    setState(value, state) {
      const s = state as Record<string, unknown>
      if (typeof s?.amount !== 'string' || typeof s.currency !== 'string') {
        throw new Error('Money needs a str amount and currency')
      }
      ;(value as Money).amount = s.amount
      ;(value as Money).currency = s.currency
    },
    type: Money,
    write: (value) => ({
      args: [],
      state: { amount: (value as Money).amount, currency: (value as Money).currency },
    }),
  },
  '__main__.Point': {
    read(args, kind) {
      const [x, y] = args
      if (kind !== 'reduce' || typeof x !== 'number' || typeof y !== 'number') {
        throw new Error('Point(x, y) takes two numbers')
      }
      return new Point(x, y)
    },
    type: Point,
    write: (value) => ({ args: [(value as Point).x, (value as Point).y], kind: 'reduce' }),
  },
}

describe('pickle: an application class table (classes)', () => {
  const appVectors = python<Record<string, Vectors>>(GENERATE, {
    money: "[Money('12.50', 'EUR'), Money('1', 'USD'), 'Money', 'amount']",
    point: "[Point(1, 2), Point(3, 4.5), 'Point']",
    sharedMoney: "(lambda m: {'a': m, 'b': m})(Money('3', 'GBP'))",
  })
  const withClasses = (p = 4) => pickleSerializer({ pickleVersion: p, classes })
  const money = [new Money('12.50', 'EUR'), new Money('1', 'USD'), 'Money', 'amount']
  const point = [new Point(1, 2), new Point(3, 4.5), 'Point']
  const m = new Money('3', 'GBP')

  it.each([
    ['money', money],
    ['point', point],
    ['sharedMoney', { a: m, b: m }],
  ])('reads %s at every protocol and writes CPython’s bytes at 2–5', (name, js) => {
    const v = appVectors[name] as Vectors
    for (let p = 0; p <= 5; p++) {
      for (const data of [v.c[p], v.py[p]]) {
        expect(withClasses().deserialize(Buffer.from(data as string, 'hex'))).toEqual(js)
      }
    }
    for (const p of [2, 3, 4, 5]) {
      const ours = hex(withClasses(p).serialize(js))
      if (ours !== v.c[p]) expect.fail(`protocol ${p}: ${firstDifference(ours, v.c[p] as string)}`)
    }
  })

  it('is off by default: the same pickle is refused without it', () => {
    const data = Buffer.from((appVectors.money as Vectors).c[4] as string, 'hex')
    expect(() => reader.deserialize(data)).toThrow(/refusing to load global __main__\.Money/)
    expect(() => pickleSerializer().serialize(new Money('1', 'X'))).toThrow(
      /cannot pickle an instance of Money/,
    )
  })

  it('a handler that refuses its arguments refuses the value, with its error as cause', () => {
    const bad = '\x80\x02c__main__\nPoint\nX\x01\x00\x00\x00xK\x02\x86R.'
    let error: unknown
    try {
      withClasses().deserialize(b(bad))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SerializationError)
    expect((error as Error).message).toMatch(
      /^pickle: the handler of __main__\.Point refused the pickled arguments: Point\(x, y\) takes two numbers/,
    )
    expect(((error as Error).cause as Error).message).toBe('Point(x, y) takes two numbers')
  })

  it("a handler's error reaches the user through copyreg._reconstructor at protocol 0 too", () => {
    // Protocol 0 and 1 pickle an instance as copyreg._reconstructor(cls, object, None); the
    // reader quotes no argument of theirs (text could be one), but the handler's error is the
    // application's own.
    const bad = 'ccopy_reg\n_reconstructor\n(c__main__\nPoint\nc__builtin__\nobject\nNtR.'
    let error: unknown
    try {
      withClasses().deserialize(b(bad))
    } catch (e) {
      error = e
    }
    expect((error as Error).message).toMatch(
      /^pickle: the handler of __main__\.Point refused the pickled arguments: /,
    )
    expect((error as Error).cause).toBeInstanceOf(Error)
  })

  it('state for a class without setState is refused; getattr never reaches a handler', () => {
    expect(() =>
      withClasses().deserialize(b('\x80\x02c__main__\nPoint\nK\x01K\x02\x86R}b.')),
    ).toThrow(/__main__\.Point carries state \(BUILD\), and its handler has no setState/)
    expect(() =>
      withClasses().deserialize(b(`\x80\x02c__main__\nPoint\n${GETATTR2}K\x02\x86R.`)),
    ).toThrow(/builtins\.getattr is read only as the callable/)
  })

  it('checks the table', () => {
    const read = () => null
    for (const [table, message] of [
      [{ 'datetime.datetime': { read } }, /read by the serializer itself/],
      [{ 'builtins.getattr': { read } }, /read by the serializer itself/],
      [{ Money: { read } }, /is not a global name/],
      [{ 'a.b': {} }, /needs a read\(args, kind\) function/],
      [{ 'a.b': { read, type: Money } }, /needs both type and write/],
      [{ 'a.b': { read, type: {}, write: read } }, /a\.b\.type must be a function/],
      [{ 'a.b': { read, setState: 1 } }, /a\.b\.setState must be a function/],
    ] as const) {
      expect(() => pickleSerializer({ classes: table as unknown as PickleClasses })).toThrow(
        InvalidArgumentError,
      )
      expect(() => pickleSerializer({ classes: table as unknown as PickleClasses })).toThrow(
        message,
      )
    }
    // A nested class: module:qualname.
    const nested = pickleSerializer({
      classes: { 'app.models:Outer.Inner': { read: () => 'inner' } },
    })
    expect(nested.deserialize(b('\x80\x04\x8c\napp.models\x8c\x0bOuter.Inner\x93)R.'))).toBe(
      'inner',
    )
  })

  it('reads a nested class as protocols 0, 2 and 3 write it: getattr(module.Outer, name)', () => {
    // pickle.dumps(Outer.Inner(), protocol) of `class Outer: class Inner: a = 1 in __init__`,
    // and of Outer.Inner.Deep() (CPython 3.11).
    const state = {
      read: () => ({ inner: true }),
      setState: (v: Record<string, unknown>, s: unknown) => {
        v.s = s
      },
    }
    const nested = pickleSerializer({
      classes: {
        'app.models:Outer.Inner': state,
        'app.models:Outer.Inner.Deep': { read: (_args, kind) => `deep ${kind}` },
      },
    })
    const tail =
      'q\x01X\x05\x00\x00\x00Innerq\x02\x86q\x03Rq\x04)\x81q\x05}q\x06X\x01\x00\x00\x00aq\x07K\x01sb.'
    for (const bytes of [
      `\x80\x02c__builtin__\ngetattr\nq\x00capp.models\nOuter\n${tail}`,
      `\x80\x03cbuiltins\ngetattr\nq\x00capp.models\nOuter\n${tail}`,
      'ccopy_reg\n_reconstructor\np0\n(c__builtin__\ngetattr\np1\n(capp.models\nOuter\np2\nVInner\np3\ntp4\nRp5\nc__builtin__\nobject\np6\nNtp7\nRp8\n(dp9\nVa\np10\nI1\nsb.',
    ]) {
      expect(nested.deserialize(b(bytes))).toEqual({ inner: true, s: { a: 1 } })
    }
    expect(
      nested.deserialize(
        b(
          '\x80\x02c__builtin__\ngetattr\nq\x00h\x00capp.models\nOuter\nq\x01X\x05\x00\x00\x00Innerq\x02\x86q\x03Rq\x04X\x04\x00\x00\x00Deepq\x05\x86q\x06Rq\x07)\x81q\x08.',
        ),
      ),
    ).toBe('deep new')
    // The class a nested class is found in is no value, and cannot be called; getattr goes no
    // further than the handlers' names.
    expect(() => nested.deserialize(b('\x80\x02capp.models\nOuter\nq\x00.'))).toThrow(
      /app\.models\.Outer is read only as the class a nested class is found in/,
    )
    expect(() => nested.deserialize(b('\x80\x02capp.models\nOuter\n)R.'))).toThrow(
      /app\.models\.Outer is read only as the class a nested class is found in/,
    )
    expect(() =>
      nested.deserialize(
        b('\x80\x02c__builtin__\ngetattr\ncapp.models\nOuter\nX\x09\x00\x00\x00__class__\x86R.'),
      ),
    ).toThrow(/refusing builtins\.getattr\(app\.models\.Outer/)
    // Without a handler under it, Outer stays refused as before.
    expect(() =>
      pickleSerializer().deserialize(
        b(`\x80\x02c__builtin__\ngetattr\nq\x00capp.models\nOuter\n${tail}`),
      ),
    ).toThrow(/refusing to load global app\.models\.Outer/)
  })

  it('reads a list shared by many handler calls, then a dict of int keys, in linear time', () => {
    // What was handed to the handlers is checked again once, all of it in one walk: one list of
    // 20,000 items handed to 300 calls is walked once, not 300 times (over the input's budget).
    const shared = pickleSerializer({
      classes: { 'app.models:P': { read: (args) => ({ n: (args[0] as unknown[]).length }) } },
    })
    const bytes = `\x80\x02]q\x00(${'K\x01'.repeat(20_000)}e0](${'capp.models\nP\nh\x00\x85R'.repeat(300)}}K\x01K\x02se.`
    const value = shared.deserialize(b(bytes)) as unknown[]
    expect(value.length).toBe(301)
    expect(value[0]).toEqual({ n: 20_000 })
    expect(value[300]).toEqual(new Map([[1, 2]]))
  })

  it('refuses getattr or Outer put into a container after it was handed to a handler', () => {
    const handed: unknown[] = []
    const keep = (v: unknown) => {
      handed.push(v)
      return { kept: v }
    }
    const nested = pickleSerializer({
      classes: {
        'app.models:Outer.Inner': { read: (args) => keep(args[0]) },
        'app.models:Outer.Inner.Deep': {
          read: () => ({}),
          setState: (_v, s: unknown) => {
            keep(s)
          },
        },
      },
    })
    const outer = 'capp.models\nOuter\n'
    const inner = 'capp.models\nOuter.Inner\n'
    // Each shape as it is, then after a dict of int keys (popped): what is handed out is then
    // walked at the call already, and the write after it is checked by itself.
    for (const first of ['', '}K\x01K\x02s0']) {
      for (const bytes of [
        // A memoized list handed to Inner(list), then Outer appended to it, after the call.
        `\x80\x02${first}]q\x00${inner}h\x00\x85Rq\x01h\x00${outer}a0.`,
        // The same with getattr itself.
        `\x80\x02${first}]q\x00${inner}h\x00\x85Rq\x01h\x00c__builtin__\ngetattr\na0.`,
        // A dict handed over, then Outer set as one of its values.
        `\x80\x02${first}}q\x00${inner}h\x00\x85Rq\x01h\x00X\x01\x00\x00\x00k${outer}s0.`,
        // A BUILD state handed to setState, then Outer appended to it.
        `\x80\x02${first}capp.models\nOuter.Inner.Deep\n)\x81q\x01]q\x00bh\x00${outer}a0.`,
      ]) {
        expect(() => nested.deserialize(b(bytes))).toThrow(SerializationError)
      }
    }
    // Each handler was called before the marker came (so the check at the call passed): the
    // read fails at STOP all the same, and the caller gets none of what they made.
    expect(handed.length).toBe(8)
  })

  it('a dict that becomes a Map after a call is a Map at the next call, in what was handed out', () => {
    const seen: unknown[] = []
    const reader = pickleSerializer({
      classes: {
        'app.models:P': {
          read: (args) => {
            seen.push((args[0] as unknown[])[0])
            return { items: args[0] }
          },
        },
      },
    })
    const call = 'capp.models\nP\nh\x00\x85R'
    // A dict of int keys first (so the list is walked at the first call), then list = [d];
    // P(list); d[5] = 6 (d becomes a Map); P(list).
    const bytes = `\x80\x02}K\x01K\x02s0]q\x00}q\x01a${call}0h\x01K\x05K\x06s0${call}.`
    const value = reader.deserialize(b(bytes)) as { items: unknown[] }
    expect(seen).toEqual([{}, new Map([[5, 6]])])
    expect(value.items[0]).toEqual(new Map([[5, 6]]))
  })

  it('an object its setState changed is walked again: a dict put in it is a Map if it becomes one', () => {
    const reader = pickleSerializer({
      classes: {
        'app.models:O': {
          read: () => ({}),
          setState: (value, state) => {
            Object.assign(value as object, state)
          },
        },
        'app.models:Q': { read: (args) => ({ q: args[0] }) },
      },
    })
    // A dict of int keys first; obj = O.__new__(O); Q(obj); obj.__setstate__({'d': d}); d[5] = 6.
    const bytes =
      '\x80\x02}K\x01K\x02s0capp.models\nO\n)\x81q\x00capp.models\nQ\nh\x00\x85R0' +
      '}q\x01X\x01\x00\x00\x00d}q\x02sbh\x02K\x05K\x06s0.'
    expect(reader.deserialize(b(bytes))).toEqual({ d: new Map([[5, 6]]) })
  })

  describe('what is handed to handlers is checked in linear time, whatever the sharing', () => {
    const handler = { read: (args: unknown[]) => ({ items: args[0] }) }
    const reader = pickleSerializer({
      classes: { 'app.models:P': handler, '__main__:P': handler },
    })
    const call = 'capp.models\nP\nh\x00\x85R'
    const list = `]q\x00(${'K\x01'.repeat(20_000)}e0`

    // One list of 20,000 items handed to 300 calls is walked once, not 300 times (over the
    // input's budget), once something is to be checked at each call: a dict became a Map, or
    // getattr was loaded.
    it.each([
      ['after a dict of int keys', `\x80\x02${list}](}K\x01K\x02s${call.repeat(300)}e.`, 301],
      [
        'after getattr was loaded',
        `\x80\x02cbuiltins\ngetattr\n0${list}](${call.repeat(300)}e.`,
        300,
      ],
    ])('a list shared by 300 calls, %s', (_, bytes, length) => {
      const value = reader.deserialize(b(bytes)) as { items: unknown[] }[]
      expect(value.length).toBe(length)
      expect(value[length - 1]?.items).toBe(value[length - 2]?.items)
      expect(value[length - 1]?.items.length).toBe(20_000)
    })

    it('a list written between the calls is visited again only where it was written', () => {
      // 2,000 times: list.append(1); P(list). The list is walked once, then each item appended.
      const bytes = `\x80\x02}K\x01K\x02s0${list}${`h\x00K\x01a0${call}0`.repeat(2000)}h\x00.`
      expect((reader.deserialize(b(bytes)) as unknown[]).length).toBe(22_000)
    })

    it('what CPython writes, at every protocol', () => {
      const vectors = python<Record<string, string[]>>(
        `
import sys, json, pickle
class P:
    def __init__(self, items): self.items = items
    def __reduce__(self): return (P, (self.items,))
shared = list(range(20000))
def filled_later():
    out = []
    for _ in range(300):
        d = {}
        d[1] = P([d, shared])
        out.append(d)
    return out
shapes = {
    'dictFirst': [{1: 2}] + [P(shared) for _ in range(300)],
    'dictInArgs': [P([{1: 2}, shared]) for _ in range(300)],
    'filledLater': filled_later(),
}
print(json.dumps({k: [pickle.dumps(v, p).hex() for p in range(6)] for k, v in shapes.items()}))
`,
        null,
      )
      for (let p = 0; p <= 5; p++) {
        const read = (name: string) =>
          reader.deserialize(Buffer.from(vectors[name]?.[p] as string, 'hex')) as unknown[]
        const dictFirst = read('dictFirst') as { items: unknown[] }[]
        expect(dictFirst[0]).toEqual(new Map([[1, 2]]))
        expect(dictFirst[300]?.items).toBe(dictFirst[1]?.items)
        expect(dictFirst[300]?.items.length).toBe(20_000)
        const dictInArgs = read('dictInArgs') as { items: unknown[] }[]
        expect(dictInArgs[299]?.items[0]).toEqual(new Map([[1, 2]]))
        expect(dictInArgs[299]?.items[1]).toBe(dictInArgs[0]?.items[1])
        // d = {}; d[1] = P([d, shared]): d became a Map after the call, in the list it was given.
        const filledLater = read('filledLater') as Map<number, { items: unknown[] }>[]
        expect(filledLater.length).toBe(300)
        for (const d of [filledLater[0], filledLater[299]]) {
          expect(d?.get(1)?.items[0]).toBe(d)
          expect(d?.get(1)?.items[1]).toBe(filledLater[0]?.get(1)?.items[1])
        }
      }
    })
  })
})
