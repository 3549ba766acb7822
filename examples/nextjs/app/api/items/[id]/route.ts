import { loadCount, loadItem } from '@cachex/example-shared/backend'
import { toJSONSafe } from '@cachex/example-shared/json'
import { cache } from '@/lib/cache'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

type Context = { params: Promise<{ id: string }> }

// Read-through: served from Redis when cached, loaded from the backend (and cached) otherwise.
export async function GET(_request: Request, { params }: Context): Promise<Response> {
  const { id } = await params
  let loaded = false
  const item = await cache.getOrSet(
    `item:${id}`,
    () => {
      loaded = true
      return loadItem(id)
    },
    { timeout: 60 },
  )
  // A value another app stored (Django) may hold integers beyond 2^53: cachex reads them as
  // bigints, which Response.json refuses. toJSONSafe answers them as decimal strings.
  return Response.json(toJSONSafe({ item, loaded, loads: loadCount(id) }))
}

// Invalidation of one item.
export async function DELETE(_request: Request, { params }: Context): Promise<Response> {
  const { id } = await params
  return Response.json({ deleted: await cache.delete(`item:${id}`) })
}
