// A key's edit form on its page: its value as JSON and its TTL, saved against the revision the
// page loaded (a key changed since is a conflict, nothing saved), and its deletion, confirmed.
import { ApiError, api, errorText, url } from './api.ts'
import { append, clear, h, notice } from './dom.ts'
import { href } from './router.ts'
import type { KeyView } from './types.ts'

/**
 * The form that edits the key of `data` (at `path`, the key's API) and deletes it; what a save or
 * a delete did is said in `messages`, and `reload` shows the key again.
 */
export function editForm(
  data: KeyView,
  alias: string,
  path: string,
  key: string,
  version: string,
  messages: HTMLElement,
  reload: () => void,
): HTMLElement {
  const json = data.string?.json
  const editable = json !== undefined
  const textarea = h('textarea', {
    name: 'value',
    rows: 12,
    spellcheck: 'false',
    'aria-label': 'value as JSON',
  })
  textarea.value = json ?? ''
  const ttlInput = h('input', {
    type: 'number',
    name: 'ttl',
    min: 1,
    step: 'any',
    'aria-label': 'TTL in seconds',
    value: data.ttl === null ? '' : String(Math.round(data.ttl)),
    placeholder: 'no expiry',
  })
  let ttlTouched = false
  ttlInput.addEventListener('input', () => {
    ttlTouched = true
  })
  const saveButton = h('button', { type: 'submit' }, 'Save')
  const say = (...nodes: Array<Node | string>) => {
    clear(messages)
    append(messages, ...nodes)
  }
  const form = h(
    'form',
    {
      class: 'edit',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        const body: Record<string, unknown> = { revision: data.revision }
        if (editable && textarea.value !== json) body.value = textarea.value
        if (ttlTouched) body.ttl = ttlInput.value.trim() === '' ? null : Number(ttlInput.value)
        if (!('value' in body) && !('ttl' in body)) {
          say(notice('info', 'Nothing changed.'))
          return
        }
        saveButton.disabled = true
        try {
          await api('PUT', url(path, { key, version }), body)
          say(notice('ok', 'Saved.'))
          reload()
        } catch (error) {
          if (error instanceof ApiError && error.status === 409) {
            say(
              notice(
                'error',
                h('strong', {}, 'Conflict: '),
                'this key was changed by someone else since you loaded it. Nothing was saved. ',
                h(
                  'button',
                  { type: 'button', class: 'secondary', onclick: reload },
                  'Reload the key',
                ),
              ),
            )
          } else {
            say(notice('error', errorText(error)))
          }
        } finally {
          saveButton.disabled = false
        }
      },
    },
    h('h2', {}, 'Edit'),
    editable
      ? h(
          'label',
          { class: 'block' },
          'Value (JSON, stored through the cache’s serializer)',
          textarea,
        )
      : h(
          'p',
          { class: 'muted' },
          data.type === 'string'
            ? 'This value holds what JSON cannot carry (Python types, bytes…), or is too large: only its TTL can be changed here.'
            : 'Only the TTL of a container can be changed here.',
        ),
    h('label', {}, 'TTL (seconds, empty: no expiry) ', ttlInput),
    h('div', { class: 'buttons' }, saveButton),
  )
  const confirmBox = h('span', { class: 'confirm', hidden: true })
  const deleteButton = h('button', { type: 'button', class: 'danger' }, 'Delete key')
  deleteButton.addEventListener('click', () => {
    deleteButton.hidden = true
    confirmBox.hidden = false
  })
  append(
    confirmBox,
    'Delete this key? ',
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          try {
            await api('DELETE', url(path, { key, version, revision: data.revision }))
            say(notice('ok', 'Deleted.'))
            location.hash = href('keys', alias)
          } catch (error) {
            say(
              notice(
                'error',
                error instanceof ApiError && error.status === 409
                  ? 'Conflict: this key changed since you loaded it; it was not deleted.'
                  : errorText(error),
              ),
            )
          }
        },
      },
      'Yes, delete',
    ),
    ' ',
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          confirmBox.hidden = true
          deleteButton.hidden = false
        },
      },
      'Cancel',
    ),
  )
  return h('div', {}, form, h('div', { class: 'delete' }, deleteButton, confirmBox))
}
