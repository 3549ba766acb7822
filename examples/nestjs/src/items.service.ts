import { Injectable } from '@nestjs/common'

/** An item as the "database" returns it. */
export interface Item {
  id: string
  name: string
  /** How many loads the database had served when it loaded this one: a cached copy repeats it. */
  load: number
}

/** Stands in for a slow database. */
@Injectable()
export class ItemsService {
  /** Loads served so far. */
  loads = 0

  async load(id: string): Promise<Item> {
    this.loads++
    const load = this.loads
    await new Promise((resolve) => setTimeout(resolve, 50))
    return { id, name: `Item ${id}`, load }
  }
}
