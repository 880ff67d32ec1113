/**
 * Publishing at a fixed rate: a 5 ms tick sends whatever is due since the start (so a late tick
 * catches up instead of lowering the rate), round-robin over the publishing connections.
 */
import type { ClientPool } from './client-pool.js';
import type { Dialect } from './dialect.js';
import type { PublishParams } from './plan.js';
import { inRange, roomOf } from './plan.js';
import { payload } from './timestamp.js';

const TICK_MS = 5;

/** Publish `params.messages` messages at `params.ratePerSecond` from the pool's connections in range. */
export function publish(
  pool: ClientPool,
  dialect: Dialect,
  params: PublishParams,
): Promise<{ published: number; elapsedMs: number }> {
  const publishers = pool.clients.filter((c) => inRange(params.range, c.index));
  const rooms = publishers.map((client) => roomOf(params.rooms, client.index));
  const padding = 'x'.repeat(Math.max(0, params.payloadBytes));
  const started = performance.now();
  let sent = 0;
  let next = 0;
  return new Promise((resolve) => {
    const done = (): void => {
      clearInterval(timer);
      resolve({ published: sent, elapsedMs: performance.now() - started });
    };
    const tick = (): void => {
      const elapsed = (performance.now() - started) / 1000;
      const due = Math.min(params.messages, Math.floor(elapsed * params.ratePerSecond) + 1);
      let skipped = 0;
      while (sent < due && skipped < publishers.length) {
        const i = next++ % publishers.length;
        const client = publishers[i];
        if (client?.ws == null || client.state !== 'ready') {
          skipped++;
          continue;
        }
        skipped = 0;
        client.ws.send(dialect.publish(rooms[i] ?? '', payload(sent, params.payloadBytes, padding)));
        sent++;
        pool.countPublished(1);
      }
      if (sent >= params.messages || publishers.length === 0 || skipped >= publishers.length) done();
    };
    const timer = setInterval(tick, TICK_MS);
    tick();
  });
}
