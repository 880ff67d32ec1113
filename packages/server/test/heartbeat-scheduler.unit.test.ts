import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatScheduler } from '../src/hub/heartbeat-scheduler.js';
import type { HeartbeatSchedulerOptions, HeartbeatTarget } from '../src/hub/heartbeat-scheduler.js';
import { FakeClock } from './fake-clock.js';

class Target implements HeartbeatTarget {
  heartbeatSlot = 0;
  constructor(readonly name: string) {}
}

interface Harness {
  readonly clock: FakeClock;
  readonly scheduler: HeartbeatScheduler<Target>;
  /** Visits per target, over the harness's lifetime. */
  readonly visits: Map<Target, number>;
  /** Number of visits in each tick that had any, as reported by onTick. */
  readonly ticks: number[];
  /** Runs inside each visit, after it is counted. */
  onVisit: (target: Target, now: number) => void;
  /** Run `n` ticks by advancing the fake clock. */
  runTicks(n: number): void;
}

function harness(
  intervalMs: number,
  extra: Partial<Pick<HeartbeatSchedulerOptions<Target>, 'maxSlots' | 'minTickMs'>> = {},
): Harness {
  const clock = new FakeClock();
  const visits = new Map<Target, number>();
  const ticks: number[] = [];
  const h: Harness = {
    clock,
    visits,
    ticks,
    onVisit: () => {},
    scheduler: new HeartbeatScheduler<Target>({
      intervalMs,
      clock,
      visit: (target, now) => {
        visits.set(target, (visits.get(target) ?? 0) + 1);
        h.onVisit(target, now);
      },
      onTick: (visited) => ticks.push(visited),
      ...extra,
    }),
    runTicks(n) {
      clock.advance(n * h.scheduler.tickMs);
    },
  };
  return h;
}

function targets(n: number, prefix = 't'): Target[] {
  return Array.from({ length: n }, (_, i) => new Target(`${prefix}${i}`));
}

describe('HeartbeatScheduler: slots and tick period', () => {
  it('divides the interval into slots of at least minTickMs, at most maxSlots of them', () => {
    const cases: [number, number, number][] = [
      [15_000, 100, 150],
      [1000, 100, 10],
      [999, 99, 999 / 99],
      [50, 5, 10],
      [25, 2, 12.5],
      [10, 1, 10],
      [5, 1, 5],
      [1, 1, 1],
      [3_600_000, 100, 36_000],
    ];
    for (const [intervalMs, slotCount, tickMs] of cases) {
      const { scheduler } = harness(intervalMs);
      assert.equal(scheduler.slotCount, slotCount, `slots for ${intervalMs}`);
      assert.equal(scheduler.tickMs, tickMs, `tick for ${intervalMs}`);
      assert.ok(Math.abs(scheduler.slotCount * scheduler.tickMs - intervalMs) < 1e-9, `${intervalMs}`);
    }
  });

  it('honours maxSlots and minTickMs', () => {
    const a = harness(15_000, { maxSlots: 10 });
    assert.equal(a.scheduler.slotCount, 10);
    assert.equal(a.scheduler.tickMs, 1500);
    const b = harness(15_000, { minTickMs: 1000 });
    assert.equal(b.scheduler.slotCount, 15);
    assert.equal(b.scheduler.tickMs, 1000);
  });
});

describe('HeartbeatScheduler: start and stop', () => {
  it('runs one interval timer of tickMs, however often start() is called', () => {
    const { clock, scheduler } = harness(15_000);
    assert.equal(clock.active.length, 0);
    scheduler.start();
    scheduler.start();
    assert.deepEqual(clock.active, [{ every: 150 }]);
  });

  it('cancels its timer on stop(); stop() is idempotent and safe before start()', () => {
    const { clock, scheduler } = harness(15_000);
    scheduler.stop();
    scheduler.start();
    scheduler.stop();
    scheduler.stop();
    assert.equal(clock.active.length, 0);
  });

  it('visits nothing after stop() and resumes after start()', () => {
    const h = harness(50);
    const [a] = targets(1);
    assert.ok(a);
    h.scheduler.add(a);
    h.scheduler.start();
    h.runTicks(5);
    assert.equal(h.visits.get(a), 1);
    h.scheduler.stop();
    h.runTicks(50);
    assert.equal(h.visits.get(a), 1);
    h.scheduler.start();
    h.runTicks(5);
    assert.equal(h.visits.get(a), 2);
    assert.equal(h.clock.active.length, 1);
  });

  it('visits nothing before start()', () => {
    const h = harness(50);
    h.scheduler.add(new Target('a'));
    h.runTicks(100);
    assert.equal(h.visits.size, 0);
  });
});

describe('HeartbeatScheduler: coverage and spread', () => {
  for (const n of [1, 7, 99, 100, 101, 250, 1000]) {
    it(`visits each of ${n} targets exactly once per full pass, over several passes`, () => {
      const h = harness(15_000);
      const all = targets(n);
      for (const t of all) h.scheduler.add(t);
      assert.equal(h.scheduler.count, n);
      h.scheduler.start();
      for (let pass = 1; pass <= 3; pass++) {
        h.runTicks(h.scheduler.slotCount);
        for (const t of all) assert.equal(h.visits.get(t), pass, `${t.name} after pass ${pass}`);
      }
    });

    it(`never visits more than ceil(${n}/slotCount) targets in one tick`, () => {
      const h = harness(15_000);
      for (const t of targets(n)) h.scheduler.add(t);
      h.scheduler.start();
      h.runTicks(h.scheduler.slotCount * 2);
      const bound = Math.ceil(n / h.scheduler.slotCount);
      assert.ok(Math.max(...h.ticks) <= bound, `max ${Math.max(...h.ticks)} > ${bound}`);
      assert.equal(
        h.ticks.reduce((a, b) => a + b, 0),
        2 * n,
      );
    });
  }

  it('covers every target in any window of slotCount consecutive ticks, wherever the cursor starts', () => {
    const h = harness(50);
    h.scheduler.start();
    h.runTicks(3);
    const all = targets(12);
    for (const t of all) h.scheduler.add(t);
    h.runTicks(h.scheduler.slotCount);
    for (const t of all) assert.equal(h.visits.get(t), 1, t.name);
  });

  it('keeps slots even when targets arrive in bursts between ticks', () => {
    const h = harness(50);
    h.scheduler.start();
    for (let burst = 0; burst < 4; burst++) {
      for (const t of targets(3, `b${burst}-`)) h.scheduler.add(t);
      h.runTicks(1);
    }
    h.ticks.length = 0;
    h.runTicks(h.scheduler.slotCount);
    assert.ok(Math.max(...h.ticks) <= Math.ceil(12 / 5), String(h.ticks));
  });

  it('passes the clock time to each visit', () => {
    const h = harness(50);
    const seen: number[] = [];
    h.onVisit = (_target, now) => seen.push(now);
    h.scheduler.add(new Target('a'));
    h.scheduler.start();
    const start = h.clock.now();
    h.runTicks(5);
    assert.deepEqual(seen, [start + 10]);
  });
});

describe('HeartbeatScheduler: onTick', () => {
  it('reports the number of visits and a non-negative duration, and is silent on empty ticks', () => {
    const clock = new FakeClock();
    const reports: [number, number][] = [];
    const scheduler = new HeartbeatScheduler<Target>({
      intervalMs: 50,
      clock,
      visit: () => {},
      onTick: (visited, durationMs) => reports.push([visited, durationMs]),
    });
    const all = targets(7);
    for (const t of all) scheduler.add(t);
    scheduler.start();
    clock.advance(50);
    assert.deepEqual(
      reports.map(([visited]) => visited),
      [2, 2, 1, 1, 1],
    );
    for (const [, duration] of reports) assert.ok(Number.isFinite(duration) && duration >= 0);
    // Remove everything: the ticks go on, but report nothing.
    reports.length = 0;
    for (const t of all) scheduler.remove(t);
    clock.advance(500);
    assert.equal(reports.length, 0);
  });

  it('counts only targets actually visited when a visit removes others in the same slot', () => {
    const h = harness(5);
    const all = targets(4);
    for (const t of all) h.scheduler.add(t);
    h.onVisit = (target) => {
      if (target === all[0]) for (const other of all.slice(1)) h.scheduler.remove(other);
    };
    h.scheduler.start();
    h.runTicks(1);
    assert.deepEqual(h.ticks, [1]);
  });
});

describe('HeartbeatScheduler: removal', () => {
  it('stops visiting a removed target and keeps visiting the others', () => {
    const h = harness(50);
    const all = targets(10);
    for (const t of all) h.scheduler.add(t);
    h.scheduler.start();
    const [gone] = all;
    assert.ok(gone);
    h.scheduler.remove(gone);
    assert.equal(h.scheduler.count, 9);
    h.runTicks(h.scheduler.slotCount * 3);
    assert.equal(h.visits.get(gone), undefined);
    for (const t of all.slice(1)) assert.equal(h.visits.get(t), 3, t.name);
  });

  it('is idempotent: removing twice, or removing a target never added, changes nothing', () => {
    const h = harness(50);
    const [a, b, stranger] = targets(3);
    assert.ok(a && b && stranger);
    h.scheduler.add(a);
    h.scheduler.add(b);
    h.scheduler.remove(a);
    h.scheduler.remove(a);
    assert.equal(h.scheduler.count, 1);
    // A stranger whose heartbeatSlot happens to equal b's must not remove b.
    stranger.heartbeatSlot = b.heartbeatSlot;
    h.scheduler.remove(stranger);
    stranger.heartbeatSlot = -1;
    h.scheduler.remove(stranger);
    stranger.heartbeatSlot = 1e9;
    h.scheduler.remove(stranger);
    assert.equal(h.scheduler.count, 1);
    h.scheduler.start();
    h.runTicks(h.scheduler.slotCount);
    assert.equal(h.visits.get(b), 1);
  });

  it('records an in-range slot index on each target, round-robin', () => {
    const h = harness(50);
    const all = targets(12);
    for (const t of all) h.scheduler.add(t);
    assert.deepEqual(
      all.map((t) => t.heartbeatSlot),
      [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1],
    );
  });

  it('removes in constant time: 200,000 adds and removes finish quickly', () => {
    const h = harness(15_000);
    const all = targets(200_000);
    const started = performance.now();
    for (const t of all) h.scheduler.add(t);
    for (const t of all) h.scheduler.remove(t);
    const elapsed = performance.now() - started;
    assert.equal(h.scheduler.count, 0);
    // A removal that scanned slots or targets would take minutes here; a generous bound avoids flakiness.
    assert.ok(elapsed < 2000, `${elapsed} ms`);
  });

  it('lets a visit remove its own target: it is not visited again and the rest of the slot still is', () => {
    const h = harness(5);
    const all = targets(3);
    for (const t of all) h.scheduler.add(t);
    const [first] = all;
    h.onVisit = (target) => {
      if (target === first) h.scheduler.remove(target);
    };
    h.scheduler.start();
    h.runTicks(4);
    assert.equal(h.visits.get(first as Target), 1);
    for (const t of all.slice(1)) assert.equal(h.visits.get(t), 4, t.name);
    assert.equal(h.scheduler.count, 2);
  });

  it('never visits a target another visit removed earlier in the same tick', () => {
    const h = harness(5);
    const all = targets(3);
    for (const t of all) h.scheduler.add(t);
    const [closer, victim] = all;
    assert.ok(closer && victim);
    h.onVisit = (target) => {
      if (target === closer) h.scheduler.remove(victim);
    };
    h.scheduler.start();
    h.runTicks(3);
    assert.equal(h.visits.get(victim), undefined);
    assert.equal(h.visits.get(closer), 3);
  });

  it('visits a re-added target once per pass', () => {
    const h = harness(50);
    const [a] = targets(1);
    assert.ok(a);
    h.scheduler.add(a);
    h.scheduler.remove(a);
    h.scheduler.add(a);
    assert.equal(h.scheduler.count, 1);
    h.scheduler.start();
    h.runTicks(h.scheduler.slotCount * 2);
    assert.equal(h.visits.get(a), 2);
  });
});

describe('HeartbeatScheduler: adding', () => {
  it('ignores a second add of a scheduled target: one visit per pass, and remove() stops it', () => {
    const h = harness(50);
    const [a, b] = targets(2);
    assert.ok(a && b);
    h.scheduler.add(a);
    h.scheduler.add(b);
    h.scheduler.add(a);
    assert.equal(h.scheduler.count, 2);
    h.scheduler.start();
    h.runTicks(h.scheduler.slotCount);
    assert.equal(h.visits.get(a), 1);
    h.scheduler.remove(a);
    assert.equal(h.scheduler.count, 1);
    h.runTicks(h.scheduler.slotCount * 2);
    assert.equal(h.visits.get(a), 1);
  });

  it('handles targets added during a tick: not visited in that tick, then once per pass', () => {
    const h = harness(5); // one slot: a target added during the tick lands in the slot being visited
    const [a] = targets(1);
    assert.ok(a);
    const added = targets(3, 'late');
    h.scheduler.add(a);
    let adding = true;
    h.onVisit = (target) => {
      if (target === a && adding) {
        adding = false;
        for (const t of added) h.scheduler.add(t);
      }
    };
    h.scheduler.start();
    h.runTicks(1);
    assert.deepEqual(h.ticks, [1]);
    for (const t of added) assert.equal(h.visits.get(t), undefined);
    h.runTicks(2);
    for (const t of added) assert.equal(h.visits.get(t), 2, t.name);
    assert.equal(h.visits.get(a), 3);
  });

  it('terminates when every visit adds a new target (work added during a tick waits)', () => {
    const h = harness(5);
    h.scheduler.add(new Target('seed'));
    let created = 0;
    h.onVisit = () => {
      created++;
      h.scheduler.add(new Target(`spawn${created}`));
    };
    h.scheduler.start();
    h.runTicks(3);
    assert.deepEqual(h.ticks, [1, 2, 4]);
  });

  it('can be driven by tick() alone, without a running timer', () => {
    const h = harness(50);
    const all = targets(5);
    for (const t of all) h.scheduler.add(t);
    for (let i = 0; i < h.scheduler.slotCount; i++) h.scheduler.tick();
    for (const t of all) assert.equal(h.visits.get(t), 1);
  });
});
