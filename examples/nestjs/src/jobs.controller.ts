import { type Cache, ConnectionError, LockError, LockNotOwnedError } from '@cachex/redis'
import { ConflictException, Controller, Get, HttpCode, Logger, Post } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'

@Controller('jobs')
export class JobsController {
  /** How many times the nightly job ran in this process. */
  private runs = 0
  private readonly logger = new Logger(JobsController.name)

  constructor(@InjectCachex() private readonly cache: Cache) {}

  /**
   * Runs the nightly job unless it is already running anywhere: the lock is a Redis key, so this
   * holds across processes too. A second caller gets 409 at once (`blocking: false`).
   */
  @Post('nightly')
  @HttpCode(200)
  async nightly(): Promise<{ ran: true; runs: number }> {
    let started = false
    let result: { ran: true; runs: number } | undefined
    try {
      return await this.cache
        .lock('jobs:nightly', { timeout: 60, blocking: false })
        .withLock(async () => {
          started = true
          this.runs++
          await new Promise((resolve) => setTimeout(resolve, 300))
          result = { ran: true as const, runs: this.runs }
          return result
        })
    } catch (error) {
      if (!started && error instanceof LockError) {
        throw new ConflictException('the nightly job is already running')
      }
      // withLock rejects when the release fails, even after the job succeeded. A release Redis did
      // not answer (a ConnectionError; TimeoutError is one) must not turn a job that ran into a
      // 500, which the client would retry, running the job twice once the lock expired. Logged
      // instead; the lock expires by its `timeout`. Nor must a lock lost while the job ran
      // (LockNotOwnedError: it expired, or Redis restarted empty).
      if (result !== undefined && error instanceof LockNotOwnedError) {
        this.logger.error(`the nightly lock was lost while the job ran: ${error.message}`)
        return result
      }
      if (result !== undefined && error instanceof ConnectionError) {
        this.logger.error(`could not release the nightly lock; it expires in 60 s: ${error}`)
        return result
      }
      throw error
    }
  }

  @Get('nightly')
  status(): { runs: number } {
    return { runs: this.runs }
  }
}
