import { Injectable } from '@nestjs/common'

/** An expensive report. */
export interface Report {
  /** How many times the report was built so far, this one included. */
  build: number
  generatedAt: string
}

@Injectable()
export class ReportService {
  builds = 0

  async build(): Promise<Report> {
    this.builds++
    const build = this.builds
    await new Promise((resolve) => setTimeout(resolve, 100))
    return { build, generatedAt: new Date().toISOString() }
  }
}
