// The local tier's coherence checks, run on one topology (see local-tier-coherence.test.ts, the
// other local-tier-coherence-*.test.ts files and their topologies): by writes it did not make (from
// Django, redis-cli, another cachex process); read-after-write; a randomized history of writer and
// reader processes checked per key (modulo the invalidation delay); and through a failover
// (Sentinel, Cluster). One file per topology group, so vitest runs them side by side.
import { type Cache, createCache } from '@cachex/redis'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DjangoBatch, type Ref } from '../interop/django.ts'
import { eventually, held, type Op, readsBack, report, staleReads, startChild } from './helpers.ts'
import { startTopology, type Topology, type TopologyName } from './topologies.ts'

/** How long after a failover's first write a read may still return the value before it. */
const CATCH_UP_MS = 5000

/** Declares the coherence suite for each of `names` (call it at a test file's top level). */
export function coherenceSuite(...names: TopologyName[]): void {
  describe.each(names)('local tier coherence on %s', (name) => {
    let topology: Topology
    const caches: Cache[] = []

    beforeAll(async () => {
      topology = await startTopology(name)
    }, 180_000)

    afterAll(async () => {
      await Promise.all(caches.map((c) => c.close()))
      await topology?.stop()
    }, 60_000)

    function cache(options: object = {}): Cache {
      const created = createCache({
        ...topology.options,
        keyPrefix: uniquePrefix('coherence'),
        ...options,
      })
      caches.push(created)
      return created
    }

    /** A cache whose tracking connections are up (the tier serves from memory only then). */
    async function tracked(options: object = {}): Promise<Cache> {
      const created = cache({ local: {}, ...options })
      await created.get('warm-up')
      await eventually(() => created.localStats()?.tracking === true)
      return created
    }

    /** Runs one Django operation on `key` (django-redis configured for this topology). */
    async function django(local: Cache, key: string, op: (batch: DjangoBatch) => Ref) {
      const batch = new DjangoBatch()
      const ref = op(batch)
      const results = await batch.run({
        ...(await topology.django(local.makeKey(key))),
        serializer: 'pickle',
        compressor: 'none',
        prefix: local.keyPrefix,
      })
      return results.value(ref)
    }

    it('a write from Django (django-redis) replaces the value this process holds', async () => {
      const local = await tracked({ serializer: 'pickle' })
      await local.set('k', { from: 'node' })
      expect(await held(local, 'k')).toEqual({ from: 'node' })
      expect(
        await django(local, 'k', (b) => b.set('k', { from: 'django' }, { timeout: 300 })),
      ).toBe(true)
      // Django's write is acknowledged: the invalidation is at most one trip behind (from the
      // primary, or from the replica that applied it).
      await readsBack(local, 'k', { from: 'django' })
      expect(await held(local, 'k')).toEqual({ from: 'django' })
      // And a delete by Django drops it too.
      await local.set('gone', 1)
      expect(await held(local, 'gone')).toBe(1)
      expect(await django(local, 'gone', (b) => b.delete('gone'))).toBe(true)
      await readsBack(local, 'gone', null)
    }, 120_000)

    it('a write and a delete from redis-cli replace and drop the value this process holds', async () => {
      const local = await tracked()
      const rkey = local.makeKey('k')
      await local.set('k', 'mine')
      expect(await held(local, 'k')).toBe('mine')
      expect((await topology.cli(rkey, ['SET', rkey, '"cli"'])).trim()).toBe('OK')
      await readsBack(local, 'k', 'cli')
      expect(await held(local, 'k')).toBe('cli')
      expect((await topology.cli(rkey, ['DEL', rkey])).trim()).toBe('1')
      await readsBack(local, 'k', null)
    }, 120_000)

    it('a write from another cachex process replaces the value this process holds', async () => {
      const local = await tracked()
      await local.set('k', 'mine')
      expect(await held(local, 'k')).toBe('mine')
      const where = JSON.stringify(topology.options)
      const child = startChild(['set', where, local.keyPrefix, 'k', '"theirs"'])
      await child.line('done')
      expect(await child.exited).toBe(0)
      await readsBack(local, 'k', 'theirs')
      expect(await held(local, 'k')).toBe('theirs')
      expect(local.localStats()?.invalidations).toBeGreaterThan(0)
    }, 120_000)

    it('a process that wrote a value never reads its previous one afterwards', async () => {
      const local = await tracked()
      const rkey = local.makeKey('k')
      let stop = false
      // Reads in flight all along (they race with the writes), and another client writing too.
      const background = (async () => {
        while (!stop) {
          await Promise.all([local.get('k'), local.get('k'), delay(1)])
        }
      })()
      /** The other client's last acknowledged write. */
      let acked = -1
      const foreign = (async () => {
        for (let j = 0; !stop; j++) {
          await topology.send(rkey, ['SET', rkey, JSON.stringify(`other-${j}`)])
          acked = j
          await delay(7)
        }
      })()
      const bad: Array<[number, unknown]> = []
      for (let i = 0; i < 300; i++) {
        const before = acked
        await local.set('k', i)
        const back = await local.get('k')
        // Its own write, or a later one by the other client: never one of its own older values,
        // nor one the other client had written before this write.
        const ok =
          typeof back === 'number'
            ? back === i
            : typeof back === 'string' && Number(back.slice('other-'.length)) > before
        if (!ok) bad.push([i, back])
        if (i % 3 === 0) await delay(1)
      }
      stop = true
      await Promise.all([background, foreign])
      expect(bad).toEqual([])
      // Once the other writer stops, its last write is what this process reads.
      await local.set('k', 'last')
      expect(await local.get('k')).toBe('last')
      expect(await held(local, 'k')).toBe('last')
    }, 120_000)

    it('randomized writer and reader processes: every read returns a value current at some instant of the read (per key, modulo one invalidation delay)', async () => {
      const seeder = cache()
      const prefix = seeder.keyPrefix
      const keys = ['a', 'b', 'c']
      const seeded: Op[] = []
      for (const key of keys) {
        const start = Date.now()
        await seeder.set(key, `init:${key}`, 300)
        seeded.push([key, `init:${key}`, start, Date.now()])
      }
      const where = JSON.stringify(topology.options)
      const ms = '5000'
      const keyList = keys.join(',')
      const writers = [1, 2].map((w) =>
        startChild(['writer', where, prefix, `w${w}`, keyList, ms, String(1000 + w)]),
      )
      const readers = [1, 2].map((r) =>
        startChild(['reader', where, prefix, `r${r}`, keyList, ms, String(2000 + r)]),
      )
      const children = [...writers, ...readers]
      await Promise.all(children.map((c) => c.line('ready')))
      for (const c of children) c.process.stdin?.write('go\n')
      const writerReports = await Promise.all(writers.map(report))
      const readerReports = await Promise.all(readers.map(report))
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0])

      const writes = [...seeded, ...writerReports.flatMap((r) => r.ops)]
      const reads = readerReports.flatMap((r) => r.ops)
      // The history is worth checking: many writes, many reads, most of them from memory, and
      // values seen changing.
      expect(writes.length).toBeGreaterThan(20)
      expect(reads.length).toBeGreaterThan(300)
      const hits = readerReports.reduce((n, r) => n + r.hits, 0)
      const misses = readerReports.reduce((n, r) => n + r.misses, 0)
      expect(hits).toBeGreaterThan(misses)
      expect(new Set(reads.map((r) => r[1])).size).toBeGreaterThan(10)

      // Writers never read one of their own older values after a write.
      expect(writerReports.flatMap((r) => r.violations)).toEqual([])
      // Each read's value was current at some instant of [start - 1 s, end] (1 s: one
      // invalidation's trip, or a replica's lag, with room for a loaded machine). The writers
      // pause 2–3 s between bursts, so a stale copy that outlives its invalidation (a lost
      // message, a read reply that lost the race) is seen for longer than that.
      const stale = staleReads(writes, reads, 1000)
      expect(stale.slice(0, 5)).toEqual([])
    }, 120_000)

    if (name === 'sentinel' || name.startsWith('cluster')) {
      it('through a failover: no read older than the last write before it; the new value after a bounded catch-up', async () => {
        const local = await tracked()
        const rkey = local.makeKey('f')
        await topology.send(rkey, ['SET', rkey, '"old"'])
        await readsBack(local, 'f', 'old')
        await topology.send(rkey, ['SET', rkey, '"before"'])
        // Every replica has it: the failover cannot lose it (replication is asynchronous).
        await topology.synced(rkey)
        await readsBack(local, 'f', 'before')
        expect(await held(local, 'f')).toBe('before')

        // Read all along, from before the failover until the tier is back.
        const reads: Array<{ value: unknown; start: number }> = []
        let reading = true
        const reader = (async () => {
          while (reading) {
            const start = Date.now()
            try {
              reads.push({ value: await local.get('f'), start })
            } catch {
              // No node to read from for a moment: an error, never a stale value.
            }
            await delay(2)
          }
        })()

        await delay(50)
        await topology.failover?.(rkey)
        await eventually(async () => {
          await topology.send(rkey, ['SET', rkey, '"after"'])
          return true
        }, 120_000)
        const written = Date.now()
        await readsBack(local, 'f', 'after', 120_000)
        await eventually(() => reads.filter((r) => r.start > written + CATCH_UP_MS).length >= 10)
        // The killed node rejoins (as a replica): the tier serves again, still kept coherent.
        await topology.rejoin?.()
        await eventually(() => local.localStats()?.tracking === true, 120_000)
        expect(await held(local, 'f')).toBe('after')
        await topology.send(rkey, ['SET', rkey, '"later"'])
        await readsBack(local, 'f', 'later')
        expect(await held(local, 'f')).toBe('later')
        reading = false
        await reader

        // Never a value older than the last one written before the failover (nor none at all).
        expect(
          reads.filter((r) => !['before', 'after', 'later'].includes(r.value as string)),
        ).toEqual([])
        // 'before' no longer read once the new value had time to reach every node read.
        const lastBefore = Math.max(
          ...reads.filter((r) => r.value === 'before').map((r) => r.start),
        )
        console.info(
          `${name}: 'before' last read ${lastBefore - written} ms after 'after' was written`,
        )
        expect(
          reads.filter((r) => r.start > written + CATCH_UP_MS && r.value === 'before'),
        ).toEqual([])
      }, 300_000)
    }
  })
}
