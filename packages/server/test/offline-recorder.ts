/** Records onUserOffline fires for the offline-hooks tests. */

/** The users onUserOffline fired for, and a way to await the next one. */
export class OfflineRecorder {
  readonly fired: { userId: string; at: number }[] = [];
  private waiters: (() => void)[] = [];

  readonly hook = (userId: string): void => {
    this.fired.push({ userId, at: Date.now() });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  };

  /** Resolves once `count` fires have happened; rejects after `timeoutMs`. */
  async count(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.fired.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.fired.length} onUserOffline fires, expected ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  users(): string[] {
    return this.fired.map((f) => f.userId);
  }
}

/** Wait `ms` to see that nothing (more) fires. */
export const quiet = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
