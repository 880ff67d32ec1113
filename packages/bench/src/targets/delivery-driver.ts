/**
 * The delivery targets' driver: calls the server's delivery API (`deliver`, or `sendToUser` for the
 * baseline) from inside the target process, at a fixed rate, round robin over the users. In process on
 * purpose: an HTTP driver (`POST /api/users/{id}/deliver`) would add request parsing and a socket per call
 * to every figure, and the point is what the store costs. The driver's own work (a timer, a payload
 * object per call) is the same for every target.
 *
 * Like the publisher, a 5 ms tick sends whatever is due since the start (a late tick catches up), and at
 * most `maxInFlight` calls are unresolved at once: a store that cannot keep up makes the driver fall
 * behind (counted in `stalls`) instead of queueing without bound.
 */
import { Histogram } from '../stats/histogram.js';
import { nowMs } from '../generator/timestamp.js';
import type { DriveParams, DriveResult } from './target.js';

const TICK_MS = 5;

/** One call of the API under test: resolves when the server has taken the message. */
export type SendCall = (userId: string, data: { ts: number; n: number; p: string }) => Promise<unknown>;

/** The user id of generator connection `index` (its JWT's subject, generator/switchboard-dialect.ts). */
export function userOf(index: number): string {
  return `user-${index}`;
}

/** Run `params` through `send`; resolves once every call settled. */
export function drive(api: DriveResult['api'], send: SendCall, params: DriveParams): Promise<DriveResult> {
  const padding = 'x'.repeat(Math.max(0, params.payloadBytes - 40));
  const users = Array.from({ length: params.count }, (_, k) => userOf(params.first + k));
  const callTimes = new Histogram();
  const started = performance.now();
  let called = 0;
  let resolved = 0;
  let refused = 0;
  let firstRefusal = '';
  let inFlight = 0;
  let stalls = 0;
  let lastSettled = started;
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished || called < params.messages || inFlight > 0) return;
      finished = true;
      clearInterval(timer);
      resolve({
        api,
        called,
        resolved,
        refused,
        firstRefusal,
        elapsedMs: lastSettled - started,
        callTimes: callTimes.snapshot(),
        stalls,
      });
    };
    const settle = (at: number, ok: boolean, error?: unknown): void => {
      inFlight--;
      lastSettled = performance.now();
      if (ok) {
        resolved++;
        callTimes.record((lastSettled - at) * 1000);
      } else if (refused++ === 0) {
        firstRefusal = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      finish();
    };
    const tick = (): void => {
      const elapsedS = (performance.now() - started) / 1000;
      const due = Math.min(params.messages, Math.floor(elapsedS * params.ratePerSecond) + 1);
      if (called < due && inFlight >= params.maxInFlight) stalls++;
      while (called < due && inFlight < params.maxInFlight) {
        const user = users[called % users.length] ?? '';
        const at = performance.now();
        const data = { ts: nowMs(), n: called, p: padding };
        called++;
        inFlight++;
        send(user, data).then(
          () => settle(at, true),
          (error: unknown) => settle(at, false, error),
        );
      }
      if (called >= params.messages) clearInterval(timer);
      finish();
    };
    const timer = setInterval(tick, TICK_MS);
    tick();
  });
}
