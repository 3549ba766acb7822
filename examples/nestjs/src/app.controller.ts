import { Controller, Get } from '@nestjs/common'

@Controller()
export class AppController {
  /** What this app shows; also what `test-start` waits for. */
  @Get()
  index(): Record<string, string> {
    return {
      'GET /items/:id': 'read-through with CacheInterceptor (X-Cache: HIT on the second read)',
      'DELETE /items': 'invalidate every cached item with deletePattern',
      'GET /report': 'cache.getOrSet',
      'POST /hits': 'an atomic counter with cache.incr',
      'POST /jobs/nightly': 'a job that runs once at a time, under cache.lock().withLock()',
    }
  }
}
