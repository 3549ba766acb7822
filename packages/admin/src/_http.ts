// What every response of the admin carries (a strict CSP and its companions), JSON replies and
// errors, and reading a request body with a bound, whether or not a framework parsed it first.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ownOptions } from '@cachex/core/internal'

/** No inline script or style, nothing from elsewhere, no framing. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/** Bytes of a request body the admin reads at most (an edited value, as JSON text). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024
/**
 * A body that sends nothing for this long is answered 408: a client that stalls mid-body must not
 * hold a request (and what it sent so far) for as long as the socket lives.
 */
const BODY_IDLE_MS = 10_000
/** …and one still arriving after this long is answered 408 too, however it trickles. */
const BODY_TOTAL_MS = 60_000

/** An error answered with its status and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'error',
  ) {
    super(message)
  }
}

/** Sets the headers every response gets, whatever the route. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
}

/** A JSON reply, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
}

/** An error reply: `{ error: code, message }`. */
export function sendError(res: ServerResponse, status: number, message: string, code = 'error') {
  // A body refused unread (too large, too slow) is not drained: the connection ends with the
  // reply, so its sender holds no socket and no buffer of ours.
  if (status === 408 || status === 413) res.setHeader('Connection', 'close')
  sendJson(res, status, { error: code, message: scrub(message) })
}

/**
 * Removes what looks like credentials from a message bound for the browser: the user and
 * password of a URL (`redis://user:pw@host` → `redis://***@host`). cachex's own errors name no
 * password; this guards messages from elsewhere (a server reply, a user's code).
 */
export function scrub(message: string): string {
  return message.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
}

/**
 * The JSON body of a request: what a framework already parsed (`req.body`, Express's
 * `express.json()`, Next.js), else the stream, read up to `maxBytes` (413 beyond), in
 * `BODY_IDLE_MS` between chunks and `BODY_TOTAL_MS` in all (408 beyond). A body that is not a
 * JSON object is a 400. Copied without a prototype (`ownOptions`): a field it lacks reads
 * `undefined`, whatever a polluted `Object.prototype` holds.
 */
export async function readJsonBody(
  req: IncomingMessage,
  maxBytes = MAX_BODY_BYTES,
): Promise<Record<string, unknown>> {
  const given = (req as { body?: unknown }).body
  let value: unknown
  if (given !== undefined && given !== null && !isEmptyParsed(given)) {
    value = typeof given === 'string' || Buffer.isBuffer(given) ? parse(String(given)) : given
  } else {
    const type = String(req.headers['content-type'] ?? '')
    if (!/^application\/json\b/i.test(type)) {
      throw new HttpError(415, 'send the body as application/json')
    }
    value = parse(await readBody(req, maxBytes))
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the body must be a JSON object')
  }
  // Its own fields only: a field it lacks is not read from a polluted Object.prototype.
  return ownOptions(value) as Record<string, unknown>
}

/** `{}` is what Express and others leave when they parsed nothing (no body, another type). */
function isEmptyParsed(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Buffer.isBuffer(value) &&
    Object.keys(value).length === 0
  )
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new HttpError(400, 'the body is not valid JSON')
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(tooLarge(maxBytes))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const timedOut = () =>
      finish(new HttpError(408, 'the body did not arrive in time', 'request_timeout'))
    let idle = setTimeout(timedOut, BODY_IDLE_MS)
    const total = setTimeout(timedOut, BODY_TOTAL_MS)
    const finish = (error: Error | null, text?: string) => {
      if (done) return
      done = true
      clearTimeout(idle)
      clearTimeout(total)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      if (error !== null) {
        // Stop reading: what was buffered goes now, and the rest of the body is dropped. The
        // reply (sent by the caller) closes the connection, so a stalled sender holds nothing.
        chunks.length = 0
        req.resume()
        reject(error)
      } else resolve(text ?? '')
    }
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += buffer.length
      if (size > maxBytes) {
        finish(tooLarge(maxBytes))
        return
      }
      chunks.push(buffer)
      clearTimeout(idle)
      idle = setTimeout(timedOut, BODY_IDLE_MS)
    }
    const onEnd = () => finish(null, Buffer.concat(chunks).toString('utf8'))
    const onError = (error: Error) => finish(error)
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    if (req.readableEnded) finish(null, '')
  })
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `the body exceeds ${maxBytes} bytes`, 'too_large')
}

/** The value of one cookie of the request, or `undefined`. */
export function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie
  if (typeof header !== 'string') return undefined
  for (const part of header.split(';')) {
    const equals = part.indexOf('=')
    if (equals === -1) continue
    if (part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim()
  }
  return undefined
}

/** Whether the request came over TLS (directly, or as a proxy in front says). */
export function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) return true
  const proto = req.headers['x-forwarded-proto']
  return typeof proto === 'string' && proto.split(',')[0]?.trim().toLowerCase() === 'https'
}
