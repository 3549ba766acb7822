// `redact`: a password is cut from every text cachex shows, also when a server quoted it cut short,
// and nothing else is.
import { describe, expect, it } from 'vitest'
import { redact } from '../src/_errors.ts'

const SECRET = 'S3cr3t-p@ss-0123456789abcdef'

describe('redact', () => {
  it('cuts the whole secret, and a start of it that a server cut short', () => {
    expect(redact(`auth ${SECRET} failed`, [SECRET])).toBe('auth *** failed')
    // Cut short at the text's end, before a quote, an ellipsis or a line break.
    for (const after of ['', "'", '"', '`', '...', '…', '\nnext']) {
      const out = redact(`quoted: ${SECRET.slice(0, 12)}${after}`, [SECRET])
      expect(out).toBe(`quoted: ***${after}`)
    }
  })

  it('leaves ordinary words and host names that merely start like the secret', () => {
    const wrongpass = 'WRONGPASS invalid username-password pair or user is disabled.'
    expect(redact(wrongpass, ['password-of-prod'])).toBe(wrongpass)
    const refused = 'connect ECONNREFUSED cache.internal.example:6379'
    expect(redact(refused, ['cache.internal.example-pw'])).toBe(refused)
  })

  it('cuts secrets with characters special to regular expressions and replacements', () => {
    expect(redact('x (a+b)*[c]$^.|?{1} y', ['(a+b)*[c]$^.|?{1}'])).toBe('x *** y')
    expect(redact('x $&$1$` y', ['$&$1$`'])).toBe('x *** y')
  })

  it('hides the arguments of an unknown command, which may quote the handshake', () => {
    const text = `ERR unknown command 'HELLO', with args beginning with: '3' 'AUTH' 'default' '${SECRET.slice(0, 5)}`
    expect(redact(text, [])).toBe(
      "ERR unknown command 'HELLO', with args beginning with: (arguments redacted)",
    )
  })
})
