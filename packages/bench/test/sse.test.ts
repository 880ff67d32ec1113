// End to end: the SSE target (zero-SDK streams read over raw HTTP/1.1) beside the WebSocket one, tiny
// sizes. Asserts correctness (every delivery arrives, memory is measured), never speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fanout } from '../src/scenarios/fanout.js';
import { runBench as run } from './bench-run.js';
import { idle } from '../src/scenarios/idle.js';

test(
  'fanout: SSE subscribers beside WebSocket ones get every message, CPU per delivery measured',
  { timeout: 60_000 },
  async () => {
    const metrics = await run(
      [
        'fanout',
        '--targets',
        'switchboard,switchboard-sse',
        '--connections',
        '20',
        '--rates',
        '20',
        '--step-ms',
        '300',
        '--cpu-rate',
        '50',
        '--cpu-messages',
        '10',
      ],
      fanout,
    );
    for (const target of ['switchboard', 'switchboard-sse']) {
      const m = metrics[target] ?? {};
      assert.equal(m['cpuPhaseLoss'], 0, `${target} lost messages`);
      assert.equal(m['heldLoss'], 0, `${target} lost messages`);
      assert.ok((m['cpuPerDelivery'] ?? 0) > 0 && (m['cpuPhaseP99'] ?? 0) > 0, target);
    }
  },
);

test('idle: SSE streams held with keep-alives, memory per stream measured', { timeout: 60_000 }, async () => {
  const metrics = await run(
    [
      'idle',
      '--targets',
      'switchboard-sse',
      '--connections',
      '200',
      '--idle-ms',
      '1200',
      '--heartbeat-ms',
      '1000',
    ],
    idle,
  );
  const m = metrics['switchboard-sse'] ?? {};
  assert.ok(
    Number.isFinite(m['heapPerConnection']) && (m['heapPerConnection'] ?? 0) > 0,
    `heap ${m['heapPerConnection']}`,
  );
  // Keep-alive comments reach every stream (counted as pings).
  assert.ok((m['pingsPerSecond'] ?? 0) > 0, `keep-alives ${m['pingsPerSecond']}`);
});
