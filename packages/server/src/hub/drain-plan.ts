/**
 * When a drain closes which connections: Phoenix's drainer (connections closed in batches over an
 * interval), with jitter. `n` connections are split into batches at most one per {@link MIN_BATCH_GAP_MS},
 * batch `i` due at `i * gap` plus up to half a gap of jitter, so the last is due before the window ends.
 * Each connection is told to come back after a delay drawn from [0, gap]: the reconnects of one batch
 * spread until the next batch, and the other nodes see a steady trickle instead of a step. Pure.
 */

/** Closes are batched no more often than this (ms): a timer per batch, not per connection. */
export const MIN_BATCH_GAP_MS = 50;

/** One batch of a drain. */
export interface DrainBatch {
  /** When it is due, from the start of the drain (ms). */
  readonly atMs: number;
  /** Where it starts in the (shuffled) connection list, and how many it closes. */
  readonly start: number;
  readonly size: number;
}

/** A drain's batches and the spread of the reconnect hints. */
export interface DrainPlan {
  readonly batches: readonly DrainBatch[];
  /** The gap between batches (ms): each closed connection's hint is drawn from [0, gapMs]. */
  readonly gapMs: number;
}

/** Plan the closes of `count` connections over `drainMs`; `random` returns values in [0, 1). */
export function drainPlan(count: number, drainMs: number, random: () => number): DrainPlan {
  if (count === 0) return { batches: [], gapMs: 0 };
  const batchCount = Math.max(1, Math.min(count, Math.floor(drainMs / MIN_BATCH_GAP_MS)));
  const gapMs = drainMs / batchCount;
  const batches: DrainBatch[] = [];
  let start = 0;
  for (let i = 0; i < batchCount; i++) {
    // Sizes differ by at most one: the remainder goes to the first batches.
    const size = Math.floor(count / batchCount) + (i < count % batchCount ? 1 : 0);
    const atMs = batchCount === 1 ? 0 : Math.round(i * gapMs + random() * (gapMs / 2));
    batches.push({ atMs, start, size });
    start += size;
  }
  return { batches, gapMs };
}

/** Shuffle `items` in place (Fisher-Yates): which connections go first is left to chance, not to age. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i] as T;
    items[i] = items[j] as T;
    items[j] = swap;
  }
  return items;
}
