import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionError, SEND_QUEUE_DEFAULTS, SendQueue } from '../src/index.js';
import type { DroppedItem, SendQueueOptions } from '../src/index.js';

/** A queue whose `onDrop` reports are recorded, one array per call. */
function recorded<T>(options: Omit<SendQueueOptions<T>, 'onDrop'> = {}) {
  const reports: DroppedItem<T>[][] = [];
  const queue = new SendQueue<T>({ ...options, onDrop: (dropped) => reports.push([...dropped]) });
  return { queue, reports };
}

describe('SendQueue', () => {
  it('hands items out in push order and empties as it drains', () => {
    const { queue, reports } = recorded<string>();
    for (const item of ['a', 'b', 'c']) assert.equal(queue.push(item, 0), 'queued');
    assert.equal(queue.size, 3);
    assert.deepEqual([...queue.drain(10)], ['a', 'b', 'c']);
    assert.equal(queue.size, 0);
    assert.deepEqual([...queue.drain(10)], []);
    assert.deepEqual(reports, []);
  });

  it('defaults to 100 items, no age limit, and evicting the oldest', () => {
    assert.deepEqual(SEND_QUEUE_DEFAULTS, { maxItems: 100, maxAgeMs: Infinity, overflow: 'drop-oldest' });
    const { queue, reports } = recorded<number>();
    for (let i = 0; i < 100; i++) queue.push(i, i);
    assert.equal(queue.push(100, 100), 'queued', 'the new item is queued; the oldest pays');
    assert.equal(queue.size, 100);
    assert.deepEqual(reports, [[{ item: 0, reason: 'overflow', queuedAt: 0 }]]);
    assert.equal(queue.push(101, 1e12), 'queued', 'no age limit by default');
    const drained = [...queue.drain(1e12)];
    assert.equal(drained[0], 2);
    assert.equal(drained.at(-1), 101);
    assert.deepEqual(queue.dropped, { overflow: 2, expired: 0, cleared: 0 });
  });

  it('reject-newest keeps the queue and answers dropped, without an onDrop report', () => {
    const { queue, reports } = recorded<string>({ maxItems: 2, overflow: 'reject-newest' });
    assert.equal(queue.push('a', 0), 'queued');
    assert.equal(queue.push('b', 0), 'queued');
    assert.equal(queue.push('c', 0), 'dropped');
    assert.deepEqual([...queue.drain(0)], ['a', 'b']);
    assert.deepEqual(reports, [], 'the caller heard it from push(); reporting it again would count it twice');
    assert.deepEqual(queue.dropped, { overflow: 1, expired: 0, cleared: 0 });
  });

  it('maxItems 0 disables queueing under either policy', () => {
    for (const overflow of ['drop-oldest', 'reject-newest'] as const) {
      const { queue, reports } = recorded<string>({ maxItems: 0, overflow });
      assert.equal(queue.push('a', 0), 'dropped');
      assert.equal(queue.size, 0);
      assert.deepEqual(reports, []);
    }
  });

  it('drops items that reached maxAgeMs when they would be handed out, and counts them', () => {
    const { queue, reports } = recorded<string>({ maxAgeMs: 1000 });
    queue.push('old', 0);
    queue.push('edge', 500);
    queue.push('fresh', 900);
    assert.equal(queue.size, 3, 'nothing expires by itself: there are no timers');
    assert.deepEqual([...queue.drain(1500)], ['fresh'], 'an item exactly maxAgeMs old is stale');
    assert.deepEqual(reports, [
      [
        { item: 'old', reason: 'expired', queuedAt: 0 },
        { item: 'edge', reason: 'expired', queuedAt: 500 },
      ],
    ]);
    assert.deepEqual(queue.dropped, { overflow: 0, expired: 2, cleared: 0 });
  });

  it('a full queue drops its expired items before applying the overflow policy', () => {
    for (const overflow of ['drop-oldest', 'reject-newest'] as const) {
      const { queue, reports } = recorded<string>({ maxItems: 2, maxAgeMs: 100, overflow });
      queue.push('a', 0);
      queue.push('b', 50);
      assert.equal(queue.push('c', 100), 'queued', `${overflow}: 'a' expired, so there is room`);
      assert.deepEqual(reports, [[{ item: 'a', reason: 'expired', queuedAt: 0 }]]);
      assert.deepEqual([...queue.drain(120)], ['b', 'c']);
    }
  });

  it('clear() returns what it discarded, oldest first, and does not report it to onDrop', () => {
    const { queue, reports } = recorded<string>();
    queue.push('a', 1);
    queue.push('b', 2);
    assert.deepEqual(queue.clear(), [
      { item: 'a', reason: 'cleared', queuedAt: 1 },
      { item: 'b', reason: 'cleared', queuedAt: 2 },
    ]);
    assert.equal(queue.size, 0);
    assert.deepEqual(queue.clear(), []);
    assert.deepEqual(reports, []);
    assert.deepEqual(queue.dropped, { overflow: 0, expired: 0, cleared: 2 });
  });

  it('stopping a drain early leaves the rest queued; items pushed while draining come out last', () => {
    const queue = new SendQueue<string>();
    for (const item of ['a', 'b', 'c']) queue.push(item, 0);
    for (const item of queue.drain(0)) {
      assert.equal(item, 'a');
      break;
    }
    assert.equal(queue.size, 2);
    const seen: string[] = [];
    for (const item of queue.drain(0)) {
      seen.push(item);
      if (item === 'b') queue.push('late', 0);
    }
    assert.deepEqual(seen, ['b', 'c', 'late']);
  });

  it('an onDrop that pushes lands after the item being pushed, in order', () => {
    const queue: SendQueue<string> = new SendQueue<string>({
      maxItems: 3,
      maxAgeMs: 10,
      onDrop: (dropped) => queue.push(`lost ${dropped.length}`, 10),
    });
    queue.push('a', 0);
    queue.push('b', 0);
    queue.push('c', 5);
    assert.equal(queue.push('d', 10), 'queued'); // full: a and b expire, d is queued, then the report
    assert.deepEqual([...queue.drain(10)], ['c', 'd', 'lost 2']);
  });

  it('accounts for every item exactly once (seeded random operations)', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (const overflow of ['drop-oldest', 'reject-newest'] as const) {
      const reported: number[] = [];
      const queue = new SendQueue<number>({
        maxItems: 7,
        maxAgeMs: 50,
        overflow,
        onDrop: (dropped) => reported.push(...dropped.map((d) => d.item)),
      });
      const accepted: number[] = [];
      const handedOut: number[] = [];
      const cleared: number[] = [];
      let now = 0;
      for (let i = 0; i < 5000; i++) {
        now += Math.floor(random() * 10);
        const roll = random();
        if (roll < 0.6) {
          if (queue.push(i, now) === 'queued') accepted.push(i);
        } else if (roll < 0.95) {
          const item = queue.shift(now);
          if (item !== undefined) handedOut.push(item);
        } else {
          cleared.push(...queue.clear().map((d) => d.item));
        }
      }
      cleared.push(...queue.clear().map((d) => d.item));
      const accounted = [...handedOut, ...reported, ...cleared].sort((x, y) => x - y);
      assert.deepEqual(accounted, accepted, overflow);
      const sorted = [...handedOut].sort((x, y) => x - y);
      assert.deepEqual(handedOut, sorted, `${overflow}: handed out in push order`);
    }
  });

  it('stays fast with many items (no O(n) shift per item)', () => {
    const queue = new SendQueue<number>({ maxItems: 200_000 });
    for (let i = 0; i < 200_000; i++) queue.push(i, 0);
    let count = 0;
    let last = -1;
    for (const item of queue.drain(0)) {
      assert.equal(item, last + 1);
      last = item;
      count += 1;
    }
    assert.equal(count, 200_000);
  });

  it('rejects invalid options with InvalidOptionError', () => {
    const cases: [SendQueueOptions<string>, string][] = [
      [{ maxItems: -1 }, 'maxItems'],
      [{ maxItems: 1.5 }, 'maxItems'],
      [{ maxAgeMs: 0 }, 'maxAgeMs'],
      [{ maxAgeMs: Number.NaN }, 'maxAgeMs'],
      [{ overflow: 'drop-newest' as 'drop-oldest' }, 'overflow'],
      [{ onDrop: 42 as unknown as () => void }, 'onDrop'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => new SendQueue(options),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
        option,
      );
    }
  });
});
