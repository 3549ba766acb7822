// Calls of the admin's JSON API, relative to the page (which is served at the base path, with a
// trailing slash). Writes carry the session's CSRF token; a 401 sends the app to its login form.
import type { SessionInfo } from './types.ts'

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** What an error says, for a notice. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

let csrf: string | null = null
let onUnauthorized: () => void = () => undefined

/** Remembers the session (its CSRF token) and what to do on a 401. */
export function useSession(session: SessionInfo | null, unauthorized: () => void): void {
  csrf = session?.csrf ?? null
  onUnauthorized = unauthorized
}

/** Builds `path?query` with every parameter encoded. */
export function url(path: string, query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(name, String(value))
  }
  const search = params.toString()
  return search === '' ? path : `${path}?${search}`
}

/** Encodes one path segment (a cache alias). */
export function segment(text: string): string {
  return encodeURIComponent(text)
}

/** Calls the API; resolves the JSON answer, rejects with `ApiError`. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET' && csrf !== null) headers['X-CSRF-Token'] = csrf
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (response.status === 204) return undefined as T
  let payload: unknown = null
  try {
    payload = await response.json()
  } catch {
    // Not JSON: the status says it all.
  }
  if (!response.ok) {
    const error = payload as { error?: string; message?: string } | null
    if (response.status === 401 && !path.startsWith('api/login')) onUnauthorized()
    throw new ApiError(
      response.status,
      error?.error ?? 'error',
      error?.message ?? `${response.status} ${response.statusText}`,
    )
  }
  return payload as T
}
