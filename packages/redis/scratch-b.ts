import { brotliCompressor } from '@cachex/redis'
const br = brotliCompressor()
const hits: string[] = []
const chars: number[] = []
for (let i = 0x20; i < 0x7f; i++) chars.push(i)
for (const a of chars) for (const b of chars) for (const c of chars) {
  const buf = Buffer.from([a, b, c])
  try { const out = br.decompress(buf); hits.push(JSON.stringify(buf.toString('latin1')) + '->' + JSON.stringify(out.toString('latin1'))) } catch {}
}
console.log(hits.length, hits.slice(0, 30))
for (const s of ['"a"', '1.5', 'true', 'null', '[]', '{}', '""', 'false', '-1.5', '0.1']) { try { console.log(s, br.decompress(Buffer.from(s))) } catch (e) { console.log(s, 'err') } }
