/**
 * A line logged for every occurrence of an event an attacker can repeat at will (a wrong API key, a refused
 * handshake), at a bounded rate: up to `burst` lines at once, `perSecond` after that. The occurrences that find no room are
 * not lost: they are counted, and the next line that is logged carries that count as `suppressed`. No
 * timer: the count waits for the next occurrence (the metrics count every one as it happens).
 */
import type { Logger } from '../util/logger.js';
import { TokenBucket } from './token-bucket.js';

/** The rate of a {@link ThrottledLog}. */
export interface LogRate {
  /** Lines that may be written at once. */
  readonly burst: number;
  /** Lines per second after the burst. */
  readonly perSecond: number;
}

/** The levels a {@link ThrottledLog} can write at. */
export type ThrottledLevel = 'debug' | 'info' | 'warn' | 'error';

/** One message, logged at a bounded rate (at `level`, `warn` by default). */
export class ThrottledLog {
  private readonly bucket: TokenBucket;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    rate: LogRate,
    now: number,
    private readonly level: ThrottledLevel = 'warn',
  ) {
    this.bucket = new TokenBucket(rate.burst, rate.perSecond, now);
  }

  /** Log one occurrence with `fields` if the rate allows, else count it for the next line. */
  log(fields: Readonly<Record<string, unknown>>, now: number): void {
    if (!this.bucket.take(now)) {
      this.suppressed++;
      return;
    }
    if (this.suppressed === 0) {
      this.logger[this.level](fields, this.message);
      return;
    }
    this.logger[this.level]({ ...fields, suppressed: this.suppressed }, this.message);
    this.suppressed = 0;
  }

  /** {@link log}, under the name its first users (the API key check) call it by. */
  warn(fields: Readonly<Record<string, unknown>>, now: number): void {
    this.log(fields, now);
  }
}
