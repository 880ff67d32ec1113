/**
 * The inbox expiry sweep of one node: every `sweepMs`, expired messages of every user move to dead
 * letters ('expired'; those some device acked just leave), in batches until a short one. Each node runs
 * one; the store makes each message expire once across nodes.
 */
import type { InboxStore } from '../inbox/inbox-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { DeadLetterReporter } from './dead-letter-reporter.js';

/** Expired messages moved per store call; a full batch is followed by another at once. */
export const EXPIRE_BATCH = 500;

/** Runs `InboxStore.expire` on a timer and reports what it moved. */
export class InboxExpiry {
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly store: InboxStore,
    private readonly sweepMs: number,
    private readonly deadLetters: DeadLetterReporter,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => void this.sweep(), this.sweepMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** One sweep (skipped while the previous one runs); never rejects. */
  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const dead = await this.store.expire(this.clock.now(), EXPIRE_BATCH);
        if (dead.dropped > 0) this.metrics.deadLettersDropped(dead.dropped);
        for (const letter of dead.letters) {
          // The store names the user of each letter it expired (InboxStore.expire).
          const userId = letter.userId ?? '';
          this.deadLetters.report({ kind: 'inbox', userId }, { letters: [letter], dropped: 0 });
        }
        if (dead.letters.length < EXPIRE_BATCH) break;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'inbox expiry sweep failed');
    } finally {
      this.running = false;
    }
  }
}
