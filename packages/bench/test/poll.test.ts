// End to end: the long-polling target (protocol v1 over /v1/poll + POST) beside the WebSocket one, tiny
// sizes. Asserts correctness (every delivery arrives, pings answered by POST), never speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fanout } from '../src/scenarios/fanout.js';
import { runBench as run } from './bench-run.js';
import { idle } from '../src/scenarios/idle.js';

test(
  'fanout: polling subscribers beside WebSocket ones get every message, deliveries per poll reported',
  { timeout: 60_000 },
  async () => {
    const metrics = await run(
      [
        'fanout',
        '--targets',
        'switchboard,switchboard-poll',
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
    for (const target of ['switchboard', 'switchboard-poll']) {
      const m = metrics[target] ?? {};
      assert.equal(m['cpuPhaseLoss'], 0, `${target} lost messages`);
      assert.equal(m['heldLoss'], 0, `${target} lost messages`);
      assert.ok((m['cpuPerDelivery'] ?? 0) > 0 && (m['cpuPhaseP99'] ?? 0) > 0, target);
    }
    // Deliveries per poll answer and poll answers per second are reported for the CPU phase.
    const poll = metrics['switchboard-poll'] ?? {};
    assert.ok(
      (poll['cpuPhasePerWsMessage'] ?? 0) >= 1,
      `deliveries per poll ${poll['cpuPhasePerWsMessage']}`,
    );
    assert.ok(
      (poll['cpuPhaseWsMessagesPerSecond'] ?? 0) > 0,
      `polls/s ${poll['cpuPhaseWsMessagesPerSecond']}`,
    );
  },
);

test('idle: polling connections stay open, pings answered by POST', { timeout: 60_000 }, async () => {
  const metrics = await run(
    [
      'idle',
      '--targets',
      'switchboard-poll',
      '--connections',
      '100',
      '--idle-ms',
      '2500',
      '--heartbeat-ms',
      '1000',
    ],
    idle,
  );
  const m = metrics['switchboard-poll'] ?? {};
  assert.ok(
    Number.isFinite(m['heapPerConnection']) && (m['heapPerConnection'] ?? 0) > 0,
    `heap ${m['heapPerConnection']}`,
  );
  // The server's pings come down the polls; unanswered, the heartbeat would close the connections
  // (an unexpected close is a run note, which run() rejects).
  assert.ok((m['pingsPerSecond'] ?? 0) > 0, `pings ${m['pingsPerSecond']}`);
});
