/**
 * Connection churn: connections opened at a fixed rate, each counted once it is ready and subscribed;
 * whenever more than `poolSize` churning connections are open, the oldest is closed (a clean close).
 * Their receipts are not counted, so the stable members' loss stays exact.
 */
import { Histogram } from '../stats/histogram.js';
import type { Client, ClientPool } from './client-pool.js';
import type { ChurnParams, ChurnResult } from './plan.js';
import { roomOf } from './plan.js';

const TICK_MS = 10;
/** Churn connections get global indices far above the stable ones (tokens and rooms need an index). */
const CHURN_INDEX_BASE = 10_000_000;

/** Churn connections on `pool` as `params` says, then close the remaining ones. */
export function churn(pool: ClientPool, generatorIndex: number, params: ChurnParams): Promise<ChurnResult> {
  const times = new Histogram();
  const open: Client[] = [];
  const started = performance.now();
  let launched = 0;
  let connected = 0;
  let disconnected = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - started;
      if (elapsed >= params.durationMs) {
        clearInterval(timer);
        for (const client of open) pool.close(client);
        disconnected += open.length;
        resolve({ connected, disconnected, failed, connectTimes: times.snapshot() });
        return;
      }
      const due = Math.floor((elapsed / 1000) * params.ratePerSecond);
      while (launched < due) {
        const index = CHURN_INDEX_BASE * (generatorIndex + 1) + launched++;
        const client = pool.newClient(index, true);
        client.onSettled = (ok) => {
          if (!ok) {
            failed++;
            return;
          }
          client.onAcked = () => {
            client.onAcked = null;
            connected++;
            times.record((performance.now() - client.startedAt) * 1000);
            open.push(client);
            while (open.length > params.poolSize) {
              const oldest = open.shift();
              if (oldest !== undefined) {
                pool.close(oldest);
                disconnected++;
              }
            }
          };
          if (!pool.subscribeOne(client, roomOf(params.rooms, index))) failed++;
        };
        void pool.open(client, 10_000).catch(() => failed++);
      }
    };
    const timer = setInterval(tick, TICK_MS);
  });
}
