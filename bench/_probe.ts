import { startCluster, delay } from '@cachex/test-utils'
import { createCluster, createClient } from '@redis/client'
const tc = await startCluster({ nodeTimeout: 1000 })
const nr = createCluster({ rootNodes: tc.seeds.map((url) => ({ url })), useReplicas: true })
nr.on('error', () => {})
await nr.connect()
console.log('replicas', nr.replicas.length, nr.slots[0]?.replicas?.length)
const cl = createClient({ url: tc.seeds[0] }); await cl.connect()
console.log(JSON.stringify(await cl.sendCommand(['CLUSTER', 'SLOTS'])))
console.log(JSON.stringify(await cl.clusterSlots()))
cl.destroy(); nr.destroy(); await tc.stop(); process.exit(0)
