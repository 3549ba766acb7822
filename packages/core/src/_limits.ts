// Bounds on what one stored value may cost to read. Each is public through the index.

/**
 * The default of the cache option `maxValueSize`: 64 MiB. A cache value beyond it is almost always
 * a mistake, and the limit bounds the memory and event-loop time one poisoned key can cost (a
 * 1.6 KB brotli value expands to 2.2 GB). Redis itself stores values up to its
 * `proto-max-bulk-len` (512 MB); Django's backends have no limit.
 */
export const DEFAULT_MAX_VALUE_SIZE = 64 * 1024 * 1024

/**
 * The most digits an integer may have, on the integer fast path and in JSON: Python's `int()` and
 * `json.loads` refuse more (`sys.int_info.default_max_str_digits`, "Exceeds the limit (4300
 * digits) for integer string conversion"), for the same reason as here: turning n decimal digits
 * into a binary integer takes time quadratic in n (32 million digits spend 10 s in `BigInt`).
 */
export const MAX_INTEGER_DIGITS = 4300

/**
 * The deepest nesting of arrays and objects the JSON serializer reads. Its readers walk values
 * recursively, and V8's default stack holds about 5,800 of their frames, so a limit below that
 * turns hostile nesting (a million `[`) into a `SerializationError` instead of a stack overflow.
 * It is as deep as `JSON.stringify` writes (about 4,100 levels on the default stack); Python's
 * `json` stops near 1,000.
 */
export const MAX_JSON_DEPTH = 4096

/**
 * The longest delay a Node.js timer keeps: 2^31 - 1 ms (about 24.8 days). A longer one fires
 * after 1 ms instead (with a TimeoutOverflowWarning), so every timer whose delay comes from an
 * option is capped here and re-checks when it fires.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1
