/**
 * Publishing at a fixed rate: a 5 ms tick sends whatever is due since the start (so a late tick
 * catches up instead of lowering the rate), round-robin over the publishing connections.
 *
 * With `burst` > 1 messages go out in bursts of that many, back to back from one connection in one
 * TCP write (the socket is corked around them), so that the server reads them in one event-loop turn:
 * what a busy room looks like, and what lets a server batch its deliveries.
 */
import type { Client, ClientPool } from './client-pool.js';
import type { Dialect } from './dialect.js';
import type { PublishParams, RoomSpec } from './plan.js';
import { inRange, roomOf } from './plan.js';
import { payload, tickerPayload } from './timestamp.js';

const TICK_MS = 5;

/**
 * The order publishers take turns in: for rooms in groups, the first member of every room, then the
 * second of every room, ..., so that consecutive messages go to different rooms and each room's share
 * arrives evenly spread over time (also when only a fraction of the members get a turn). Otherwise
 * index order.
 */
export function publishOrder(indices: readonly number[], rooms: RoomSpec): number[] {
  if (rooms.kind !== 'groups') return [...indices];
  const size = rooms.size;
  return [...indices].sort((a, b) => (a % size) - (b % size) || a - b);
}

/** How many messages are due `elapsedS` after the start: whole bursts, never more than `messages`. */
export function dueMessages(
  elapsedS: number,
  ratePerSecond: number,
  burst: number,
  messages: number,
): number {
  const bursts = Math.floor((elapsedS * ratePerSecond) / burst) + 1;
  return Math.min(messages, bursts * burst);
}

/**
 * Publish `params.messages` messages at `params.ratePerSecond` from the pool's connections in range; ends
 * early once `stopped()` says so (a run that publishes until an event, not for a count).
 */
export function publish(
  pool: ClientPool,
  dialect: Dialect,
  params: PublishParams,
  stopped: () => boolean = () => false,
): Promise<{ published: number; elapsedMs: number }> {
  const byIndex = new Map<number, Client>();
  for (const client of pool.clients)
    if (inRange(params.range, client.index)) byIndex.set(client.index, client);
  const order = publishOrder([...byIndex.keys()], params.rooms);
  const publishers = order.map((index) => byIndex.get(index) as Client);
  const rooms = order.map((index) => roomOf(params.rooms, index));
  const burst = Math.max(1, Math.round(params.burst ?? 1));
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
      if (stopped()) {
        done();
        return;
      }
      const due = dueMessages(
        (performance.now() - started) / 1000,
        params.ratePerSecond,
        burst,
        params.messages,
      );
      let skipped = 0;
      while (sent < due && skipped < publishers.length) {
        const i = next++ % publishers.length;
        const client = publishers[i];
        if (client?.ws == null || client.state !== 'ready') {
          skipped++;
          continue;
        }
        skipped = 0;
        const room = rooms[i] ?? '';
        const n = Math.min(burst, due - sent);
        const socket = n > 1 ? client.socket : null;
        socket?.cork();
        for (let k = 0; k < n; k++) {
          const data =
            params.payloadShape === 'ticker'
              ? tickerPayload(sent, params.payloadBytes)
              : payload(sent, params.payloadBytes, padding);
          client.ws.send(dialect.publish(room, data));
          sent++;
        }
        socket?.uncork();
        pool.countPublished(n);
      }
      if (sent >= params.messages || publishers.length === 0 || skipped >= publishers.length) done();
    };
    const timer = setInterval(tick, TICK_MS);
    tick();
  });
}
