/** Dedupe and gap detection as pure logic: the stream cursor of a subscription. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryMessage, SubscribeResult } from '@switchboard/protocol';
import { StreamCursor, classifyArrival } from '../src/stream-cursor.js';

const E = 'epoch-1';

function messages(...ids: number[]): HistoryMessage[] {
  return ids.map((id) => ({ id, data: `m${id}`, time: id }));
}

function reply(offset: number, extra: Partial<SubscribeResult> = {}): SubscribeResult {
  return { channel: 'c', offset, epoch: E, ...extra };
}

describe('classifyArrival', () => {
  it('delivers only last + 1, drops what was delivered, and flags a jump as a gap', () => {
    assert.equal(classifyArrival(null, 1), 'unpositioned');
    assert.equal(classifyArrival(0, 1), 'next');
    assert.equal(classifyArrival(41, 42), 'next');
    assert.equal(classifyArrival(41, 41), 'duplicate');
    assert.equal(classifyArrival(41, 7), 'duplicate');
    assert.equal(classifyArrival(41, 43), 'gap');
    assert.equal(classifyArrival(0, 1000), 'gap');
  });
});

describe('StreamCursor', () => {
  it('takes its first position from a plain subscribe reply and advances message by message', () => {
    const cursor = new StreamCursor();
    assert.equal(cursor.position, null);
    assert.equal(cursor.classify(5), 'unpositioned');
    assert.deepEqual(cursor.applyReply(undefined, reply(4)), {
      deliver: [],
      lost: false,
      reason: '',
      previous: undefined,
      retry: false,
    });
    assert.deepEqual(cursor.position, { offset: 4, epoch: E });
    assert.equal(cursor.classify(5), 'next');
    cursor.advance(5);
    assert.equal(cursor.classify(5), 'duplicate');
    assert.equal(cursor.classify(7), 'gap');
    assert.deepEqual(cursor.position, { offset: 5, epoch: E });
    cursor.reset();
    assert.equal(cursor.position, null);
  });

  it('replays a recovery reply after the position, dropping what arrived in order while it was in flight', () => {
    const since = { offset: 10, epoch: E };
    const cursor = new StreamCursor(since);
    // 11 and 12 arrived live and were delivered before the reply, which covers 11..14.
    cursor.advance(11);
    cursor.advance(12);
    const plan = cursor.applyReply(since, reply(14, { recovered: true, messages: messages(11, 12, 13, 14) }));
    assert.deepEqual(
      plan.deliver.map((m) => m.id),
      [13, 14],
    );
    assert.equal(plan.lost, false);
    assert.deepEqual(plan.previous, { offset: 12, epoch: E });
    assert.deepEqual(cursor.position, { offset: 14, epoch: E });
  });

  it('recovered with nothing missed delivers nothing and keeps the position', () => {
    const since = { offset: 3, epoch: E };
    const cursor = new StreamCursor(since);
    const plan = cursor.applyReply(since, reply(3, { recovered: true, messages: [] }));
    assert.deepEqual(plan.deliver, []);
    assert.equal(plan.lost, false);
    assert.deepEqual(cursor.position, since);
  });

  it('reports a position past the history window as lost and jumps to the reply position', () => {
    const since = { offset: 10, epoch: E };
    const cursor = new StreamCursor(since);
    const plan = cursor.applyReply(since, reply(500, { recovered: false }));
    assert.equal(plan.lost, true);
    assert.equal(plan.retry, false);
    assert.deepEqual(plan.deliver, []);
    assert.deepEqual(plan.previous, since);
    assert.match(plan.reason, /after 10 are no longer in the channel's history/);
    assert.deepEqual(cursor.position, { offset: 500, epoch: E });
    assert.equal(cursor.classify(501), 'next');
  });

  it('does not report a loss the position outran: caught up, or to be re-synced from further on', () => {
    const since = { offset: 10, epoch: E };
    // The server could not replay from 10, but 11..14 arrived in order meanwhile (a resumed session's
    // own replay): nothing up to the reply's 14 is missing.
    const caughtUp = new StreamCursor(since);
    for (const id of [11, 12, 13, 14]) caughtUp.advance(id);
    const done = caughtUp.applyReply(since, reply(14, { recovered: false }));
    assert.deepEqual(
      { lost: done.lost, retry: done.retry, position: caughtUp.position },
      { lost: false, retry: false, position: { offset: 14, epoch: E } },
    );
    // Only up to 12 arrived: whether 13..20 are still in history is unknown, so re-sync from 12.
    const behind = new StreamCursor(since);
    behind.advance(11);
    behind.advance(12);
    const again = behind.applyReply(since, reply(20, { recovered: false }));
    assert.deepEqual(
      { lost: again.lost, retry: again.retry, position: behind.position },
      { lost: false, retry: true, position: { offset: 12, epoch: E } },
    );
  });

  it('reports a new epoch as lost, even where offsets look continuous', () => {
    const since = { offset: 2, epoch: E };
    const cursor = new StreamCursor(since);
    const plan = cursor.applyReply(since, { channel: 'c', offset: 3, epoch: 'epoch-2', recovered: false });
    assert.equal(plan.lost, true);
    assert.match(plan.reason, /new epoch/);
    assert.deepEqual(cursor.position, { offset: 3, epoch: 'epoch-2' });
    // A reply claiming recovery across epochs is not trusted either.
    const other = new StreamCursor(since);
    assert.equal(
      other.applyReply(since, { channel: 'c', offset: 3, epoch: 'epoch-2', recovered: true }).lost,
      true,
    );
  });

  it('does not trust a recovery reply with a hole: delivers up to the hole and reports the rest lost', () => {
    const since = { offset: 1, epoch: E };
    const cursor = new StreamCursor(since);
    const plan = cursor.applyReply(since, reply(6, { recovered: true, messages: messages(2, 3, 5, 6) }));
    assert.deepEqual(
      plan.deliver.map((m) => m.id),
      [2, 3],
    );
    assert.equal(plan.lost, true);
    assert.deepEqual(plan.previous, { offset: 3, epoch: E });
    assert.deepEqual(cursor.position, { offset: 6, epoch: E });
    // A reply that stops short of its own offset is a hole at the end.
    const short = new StreamCursor(since);
    const shortPlan = short.applyReply(since, reply(4, { recovered: true, messages: messages(2) }));
    assert.equal(shortPlan.lost, true);
    assert.match(shortPlan.reason, /skipped from 2 to 4/);
  });

  it('drops duplicates inside a reply and never moves backwards within an epoch', () => {
    const since = { offset: 5, epoch: E };
    const cursor = new StreamCursor(since);
    cursor.advance(6);
    cursor.advance(7);
    const plan = cursor.applyReply(since, reply(6, { recovered: true, messages: messages(6, 6) }));
    assert.deepEqual(plan.deliver, []);
    assert.equal(plan.lost, false);
    assert.deepEqual(cursor.position, { offset: 7, epoch: E });
  });
});
