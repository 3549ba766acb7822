export { jsonSerializer } from './json.ts'
