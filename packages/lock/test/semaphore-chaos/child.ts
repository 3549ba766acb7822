// One process of the semaphore kill test: one holder per weight given, each looping try / hold /
// release on one semaphore until told to stop on stdin. Each holder says on stdout what it did,
// with the machine's clock (which the Redis server on the same machine shares):
//   <holder> enter <ms before the try was sent> <ms after it was admitted>
//   <holder> leaving <ms before the release was sent>
//   <holder> left ok|lost
// so that each recorded hold lies inside the true one. `lost` means the release found the
// permits dropped (the holder was paused past its timeout).
import { standalone } from '@cachex/connections'
import { LockNotOwnedError, Semaphore } from '../../src/index.ts'

const [url, name, limit, weights, timeout, holdMin, holdMax] = process.argv.slice(2)
const connection = standalone({ location: url as string })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let stopping = false

async function holder(id: number, weight: number): Promise<void> {
  const semaphore = new Semaphore(connection, name as string, {
    limit: Number(limit),
    weight,
    timeout: Number(timeout),
    blocking: false,
  })
  while (!stopping) {
    const start = Date.now()
    if (await semaphore.acquire()) {
      process.stdout.write(`${id} enter ${start} ${Date.now()}\n`)
      await sleep(Number(holdMin) + Math.random() * (Number(holdMax) - Number(holdMin)))
      process.stdout.write(`${id} leaving ${Date.now()}\n`)
      let outcome = 'ok'
      try {
        await semaphore.release()
      } catch (error) {
        if (!(error instanceof LockNotOwnedError)) throw error
        outcome = 'lost'
      }
      process.stdout.write(`${id} left ${outcome}\n`)
    } else {
      await sleep(2 + Math.random() * 8)
    }
  }
}

await connection.command(['PING'])
process.stdout.write('ready\n')
await new Promise((resolve) => process.stdin.once('data', resolve))
process.stdin.on('data', (data) => {
  if (String(data).includes('stop')) stopping = true
})
await Promise.all(
  String(weights)
    .split(',')
    .map((w, id) => holder(id, Number(w))),
)
await connection.close()
process.stdin.destroy()
