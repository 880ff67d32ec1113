/** The last errors sent to clients, for /stats: a fixed ring, so its memory is bounded whatever the error rate. */

/** Default number of errors kept. */
export const RECENT_ERRORS_KEPT = 100;

/** One error sent to a client. */
export interface RecentError {
  readonly code: string;
  /** When it was sent (ms since the Unix epoch). */
  readonly time: number;
  readonly connectionId: string;
}

/** The last `capacity` errors, oldest first when listed. */
export class RecentErrors {
  private readonly ring: (RecentError | undefined)[];
  private next = 0;

  constructor(readonly capacity = RECENT_ERRORS_KEPT) {
    this.ring = new Array<RecentError | undefined>(capacity);
  }

  /** Keep one error, forgetting the oldest when full. */
  add(code: string, time: number, connectionId: string): void {
    if (this.capacity === 0) return;
    this.ring[this.next] = { code, time, connectionId };
    this.next = (this.next + 1) % this.capacity;
  }

  /** The kept errors, oldest first. */
  list(): RecentError[] {
    const out: RecentError[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const entry = this.ring[(this.next + i) % this.capacity];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }
}
