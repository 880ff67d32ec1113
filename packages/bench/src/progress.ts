/**
 * Progress on the terminal: one line rewritten in place when stdout is a TTY, otherwise plain lines
 * (at most one status line every few seconds, so logs stay readable).
 */
import type { Writable } from 'node:stream';

/** Status output of a run. */
export class Progress {
  private lastPlain = 0;
  private lineShown = false;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly quiet = false,
    private readonly plainEveryMs = 5000,
  ) {}

  /** Replace the status line (TTY) or print it if enough time has passed (not a TTY). */
  update(text: string): void {
    if (this.quiet) return;
    if (this.out.isTTY === true) {
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      this.out.write(`\r\x1b[2K${text.slice(0, width)}`);
      this.lineShown = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain < this.plainEveryMs) return;
    this.lastPlain = now;
    this.out.write(`${text}\n`);
  }

  /** Print a line that stays (after clearing the status line on a TTY). */
  log(text: string): void {
    if (this.quiet) return;
    if (this.lineShown) {
      this.out.write('\r\x1b[2K');
      this.lineShown = false;
    }
    this.out.write(`${text}\n`);
  }

  /** Clear the status line. */
  done(): void {
    if (this.lineShown) this.out.write('\r\x1b[2K');
    this.lineShown = false;
  }
}
