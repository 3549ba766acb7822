import type { Cache } from '@cachex/redis'
import { Controller, Get } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'
import { type Report, ReportService } from './report.service.ts'

@Controller('report')
export class ReportController {
  constructor(
    private readonly reports: ReportService,
    @InjectCachex() private readonly cache: Cache,
  ) {}

  /** Built at most once per 30 s: `getOrSet` reads, or builds and stores (`SET NX`). */
  @Get()
  report(): Promise<Report> {
    return this.cache.getOrSet('report:daily', () => this.reports.build(), { timeout: 30 })
  }
}
