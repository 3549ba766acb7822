import { type Cache, LockError } from '@cachex/redis'
import { ConflictException, Controller, Get, HttpCode, Post } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'

@Controller('jobs')
export class JobsController {
  /** How many times the nightly job ran in this process. */
  private runs = 0

  constructor(@InjectCachex() private readonly cache: Cache) {}

  /**
   * Runs the nightly job unless it is already running anywhere: the lock is a Redis key, so this
   * holds across processes too. A second caller gets 409 at once (`blocking: false`).
   */
  @Post('nightly')
  @HttpCode(200)
  async nightly(): Promise<{ ran: true; runs: number }> {
    let started = false
    try {
      return await this.cache
        .lock('jobs:nightly', { timeout: 60, blocking: false })
        .withLock(async () => {
          started = true
          this.runs++
          await new Promise((resolve) => setTimeout(resolve, 300))
          return { ran: true as const, runs: this.runs }
        })
    } catch (error) {
      if (!started && error instanceof LockError) {
        throw new ConflictException('the nightly job is already running')
      }
      throw error
    }
  }

  @Get('nightly')
  status(): { runs: number } {
    return { runs: this.runs }
  }
}
