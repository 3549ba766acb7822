// The admin's web app: a login form, then the page of the hash, under a header with the
// cache's tabs. Built into assets/app.js; no framework, every element made by dom.ts.
import { ApiError, api, useSession } from './api.ts'
import { append, badge, clear, h, notice } from './dom.ts'
import { type Context, cachesPage, keyPage, keysPage } from './pages-keys.ts'
import { deletePage, infoPage, slowlogPage, statsPage } from './pages-server.ts'
import { currentPlace, href } from './router.ts'
import type { SessionInfo } from './types.ts'

const PAGES: Record<string, (view: HTMLElement, context: Context) => Promise<void>> = {
  caches: cachesPage,
  keys: keysPage,
  key: keyPage,
  info: infoPage,
  slowlog: slowlogPage,
  stats: statsPage,
  delete: deletePage,
}

const TABS: Array<[page: string, label: string]> = [
  ['keys', 'Keys'],
  ['info', 'INFO'],
  ['slowlog', 'Slow log'],
  ['stats', 'Charts'],
  ['delete', 'Delete by pattern'],
]

const root = document.getElementById('app') as HTMLElement
let session: SessionInfo | null = null
let renders = 0

function showLogin(reason?: string): void {
  session = null
  renders++
  clear(root)
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    'aria-label': 'token',
  })
  const messages = h('div', {})
  if (reason !== undefined) messages.appendChild(notice('info', reason))
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        try {
          await api('POST', 'api/login', { token: input.value })
          input.value = ''
          await start()
        } catch (error) {
          messages.replaceChildren(
            notice('error', error instanceof Error ? error.message : String(error)),
          )
        }
      },
    },
    h('h1', {}, 'cachex admin'),
    h('label', { class: 'block' }, 'Admin token', input),
    h('button', { type: 'submit' }, 'Log in'),
    messages,
  )
  root.appendChild(h('main', { class: 'login-page' }, form))
  input.focus()
}

function header(): HTMLElement {
  const place = currentPlace()
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'cache pages' })
  if (place.alias !== undefined) {
    for (const [page, label] of TABS) {
      if (page === 'delete' && session?.readOnly === true) continue
      const active = place.page === page || (page === 'keys' && place.page === 'key')
      tabs.appendChild(
        h(
          'a',
          {
            href: href(page, place.alias),
            class: active ? 'active' : undefined,
            'aria-current': active ? 'page' : undefined,
          },
          label,
        ),
      )
    }
  }
  const logout = h('button', { type: 'button', class: 'link' }, 'Log out')
  logout.addEventListener('click', async () => {
    await api('POST', 'api/logout').catch(() => undefined)
    showLogin('Logged out.')
  })
  return h(
    'header',
    { class: 'top' },
    h('a', { href: '#/', class: 'brand' }, 'cachex admin'),
    place.alias === undefined
      ? null
      : h('span', { class: 'crumb' }, '/ ', h('strong', {}, place.alias)),
    tabs,
    h(
      'span',
      { class: 'who' },
      session?.readOnly === true ? badge('read-only', 'ro') : null,
      session?.who ?? '',
      session?.auth === 'token' && session.csrf !== null ? logout : null,
    ),
  )
}

async function render(): Promise<void> {
  if (session === null) return
  const token = ++renders
  const place = currentPlace()
  clear(root)
  const view = h('main', { class: 'view' })
  append(root, header(), view)
  const page = PAGES[place.alias === undefined ? 'caches' : place.page] ?? cachesPage
  const context: Context = { session, place, current: () => token === renders }
  try {
    await page(view, context)
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return
    if (context.current())
      view.appendChild(notice('error', error instanceof Error ? error.message : String(error)))
  }
}

async function start(): Promise<void> {
  try {
    session = await api<SessionInfo>('GET', 'api/session')
  } catch (error) {
    showLogin(error instanceof ApiError && error.status === 401 ? undefined : String(error))
    return
  }
  useSession(session, () => showLogin('Your session ended: log in again.'))
  await render()
}

window.addEventListener('hashchange', () => void render())
useSession(null, () => undefined)
void start()
