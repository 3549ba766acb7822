import { jsonSerializer } from '@cachex/core'
import { runSerializerSuite } from '@cachex/core/testing'
import { msgpackSerializer } from '../src/msgpack.ts'

runSerializerSuite('json', () => jsonSerializer())
runSerializerSuite('json (pythonFormat)', () => jsonSerializer({ pythonFormat: true }), {
  nonFinite: true,
  bigint: true,
})
runSerializerSuite('msgpack', () => msgpackSerializer(), { bytes: true, bigint: 'int64' })
