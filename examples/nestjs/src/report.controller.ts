import { type JsonValue, toJSONSafe } from '@cachex/example-shared/json'
import type { Cache } from '@cachex/redis'
import { Controller, Get } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'
import { ReportService } from './report.service.ts'

@Controller('report')
export class ReportController {
  constructor(
    private readonly reports: ReportService,
    @InjectCachex() private readonly cache: Cache,
  ) {}

  /**
   * Built at most once per 30 s: `getOrSet` reads, or builds and stores (`SET NX`). A report
   * another app stored (Django) may hold integers beyond 2^53: cachex reads them as bigints, which
   * Nest's JSON.stringify refuses; toJSONSafe answers them as decimal strings.
   */
  @Get()
  async report(): Promise<JsonValue> {
    const report = await this.cache.getOrSet('report:daily', () => this.reports.build(), {
      timeout: 30,
    })
    return toJSONSafe(report)
  }
}
