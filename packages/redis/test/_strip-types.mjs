// `node --import ./_strip-types.mjs`: runs .ts files through _strip-types-hooks.mjs.
import { register } from 'node:module'

register('./_strip-types-hooks.mjs', import.meta.url)
