import type { NextApiRequest, NextApiResponse } from 'next'
import { admin } from '@/lib/admin'

// The admin UI at /api/admin. It is a `node:http` handler: a Pages Router API route (which works
// beside the App Router) hands it Node's request and response. The admin reads its JSON bodies
// itself (`bodyParser: false`) and answers after this function returned (`externalResolver`).
export const config = { api: { bodyParser: false, externalResolver: true } }

export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  if (admin === undefined) {
    // No CACHEX_ADMIN_TOKEN: no admin.
    res
      .status(404)
      .json({ error: 'not_found', message: 'set CACHEX_ADMIN_TOKEN to serve the admin' })
    return
  }
  admin(req, res)
}
