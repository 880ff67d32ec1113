/**
 * The HistoryStore contract, run against every engine (engine-contract.test.ts): the store reads what the
 * engine's broker appended. Positions, reads with `since`/`limit` and their `complete` flag, trimming by
 * size and by age, and recovery that is all or nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryPolicy } from '../src/history/history-store.js';
import { Recorder, durable, freshChannel } from './broker-contract.js';
import type { ContractOptions, EngineFactory, EngineFixture } from './broker-contract.js';

/** Register the HistoryStore contract's tests for one engine. */
export function historyContract(name: string, make: EngineFactory, options: ContractOptions = {}): void {
  const TEST = { skip: options.skip ?? false, timeout: 10_000 };

  async function withEngine(body: (engine: EngineFixture) => Promise<void>): Promise<void> {
    const engine = await make();
    try {
      await engine.broker.start(new Recorder());
      await body(engine);
    } finally {
      await engine.close();
    }
  }

  /** Publish `count` messages `{"n":1}`, `{"n":2}`… (numbered from `from`) with `policy`. */
  async function publishMany(
    engine: EngineFixture,
    channel: string,
    count: number,
    policy: HistoryPolicy,
    from = 1,
  ): Promise<void> {
    for (let n = from; n < from + count; n++) {
      await engine.broker.publish(channel, durable(`{"n":${n}}`, { history: policy }));
    }
  }

  describe(`HistoryStore contract: ${name}`, () => {
    test('a channel never published to is at offset 0 with a stable epoch, empty and complete', TEST, () =>
      withEngine(async ({ history }) => {
        const channel = freshChannel();
        const position = await history.position(channel);
        assert.equal(position.offset, 0);
        assert.ok(position.epoch.length > 0);
        const page = await history.read(channel, { limit: 10 });
        assert.deepEqual(page, { position, messages: [], complete: true });
        assert.deepEqual(await history.recover(channel, position, 10), {
          recovered: true,
          position,
          messages: [],
        });
        assert.notEqual((await history.position(freshChannel())).epoch, '', 'another channel has its own');
      }),
    );

    test('read returns retained messages oldest first, after `since`, at most `limit`', TEST, () =>
      withEngine(async (engine) => {
        const { history, clock } = engine;
        const channel = freshChannel();
        const before = clock.now();
        await publishMany(engine, channel, 5, { size: 10, ttlMs: 60_000 });
        const all = await history.read(channel, { limit: 100 });
        assert.equal(all.complete, true);
        assert.equal(all.position.offset, 5);
        assert.deepEqual(
          all.messages.map((m) => [m.offset, m.json]),
          [1, 2, 3, 4, 5].map((n) => [n, `{"n":${n}}`]),
        );
        for (const m of all.messages) assert.ok(m.time >= before && m.time <= clock.now());
        const middle = await history.read(channel, { since: 2, limit: 2 });
        assert.deepEqual(
          middle.messages.map((m) => m.offset),
          [3, 4],
        );
        assert.equal(middle.complete, true);
        const end = await history.read(channel, { since: 5, limit: 10 });
        assert.deepEqual(end.messages, []);
        assert.equal(end.complete, true);
      }),
    );

    test('history keeps the last `size` messages; reads before them are incomplete', TEST, () =>
      withEngine(async (engine) => {
        const { history } = engine;
        const channel = freshChannel();
        await publishMany(engine, channel, 5, { size: 3, ttlMs: 60_000 });
        const page = await history.read(channel, { limit: 10 });
        assert.deepEqual(
          page.messages.map((m) => m.offset),
          [3, 4, 5],
        );
        assert.equal(page.complete, false, 'offsets 1 and 2 are gone');
        assert.equal((await history.read(channel, { since: 2, limit: 10 })).complete, true);
        const { epoch } = page.position;
        assert.equal((await history.recover(channel, { offset: 1, epoch }, 100)).recovered, false);
        const recovery = await history.recover(channel, { offset: 2, epoch }, 100);
        assert.equal(recovery.recovered, true);
        assert.deepEqual(recovery.recovered ? recovery.messages.map((m) => m.json) : [], [
          '{"n":3}',
          '{"n":4}',
          '{"n":5}',
        ]);
      }),
    );

    test('size 0 keeps nothing, but offsets still advance and positions still recover', TEST, () =>
      withEngine(async (engine) => {
        const { history } = engine;
        const channel = freshChannel();
        await publishMany(engine, channel, 2, { size: 5, ttlMs: 60_000 });
        await publishMany(engine, channel, 2, { size: 0, ttlMs: 60_000 }, 3);
        const page = await history.read(channel, { limit: 10 });
        assert.equal(page.position.offset, 4);
        assert.deepEqual(page.messages, [], 'a size-0 publish drops what was kept before');
        const { epoch } = page.position;
        assert.equal((await history.recover(channel, { offset: 3, epoch }, 10)).recovered, false);
        assert.deepEqual(await history.recover(channel, { offset: 4, epoch }, 10), {
          recovered: true,
          position: { offset: 4, epoch },
          messages: [],
        });
      }),
    );

    test('messages older than the TTL are dropped from reads and recoveries', TEST, () =>
      withEngine(async (engine) => {
        const { history, clock } = engine;
        const channel = freshChannel();
        const policy = { size: 10, ttlMs: 60_000 };
        await publishMany(engine, channel, 1, policy);
        clock.advance(40_000);
        await publishMany(engine, channel, 1, policy, 2);
        clock.advance(30_000); // the first is 70 s old, the second 30 s
        const page = await history.read(channel, { limit: 10 });
        assert.deepEqual(
          page.messages.map((m) => m.offset),
          [2],
        );
        assert.equal(page.complete, false);
        const { epoch } = page.position;
        assert.equal((await history.recover(channel, { offset: 0, epoch }, 10)).recovered, false);
        const recovery = await history.recover(channel, { offset: 1, epoch }, 10);
        assert.deepEqual(recovery.recovered ? recovery.messages.map((m) => m.offset) : null, [2]);
        clock.advance(40_000);
        assert.deepEqual((await history.read(channel, { limit: 10 })).messages, []);
        assert.equal((await history.position(channel)).offset, 2, 'the position outlives the messages');
      }),
    );

    test('recovery is all or nothing: epoch, position and limit', TEST, () =>
      withEngine(async (engine) => {
        const { history } = engine;
        const channel = freshChannel();
        await publishMany(engine, channel, 6, { size: 10, ttlMs: 60_000 });
        const position = await history.position(channel);
        const { epoch } = position;
        assert.deepEqual(await history.recover(channel, { offset: 2, epoch: `${epoch}x` }, 100), {
          recovered: false,
          position,
        });
        assert.deepEqual(await history.recover(channel, { offset: 7, epoch }, 100), {
          recovered: false,
          position,
        });
        assert.deepEqual(await history.recover(channel, { offset: 2, epoch }, 3), {
          recovered: false,
          position,
        });
        const exact = await history.recover(channel, { offset: 2, epoch }, 4);
        assert.equal(exact.recovered, true);
        assert.deepEqual(
          exact.recovered ? exact.messages.map((m) => [m.offset, m.json]) : null,
          [3, 4, 5, 6].map((n) => [n, `{"n":${n}}`]),
        );
        assert.deepEqual(exact.position, position);
      }),
    );
  });
}
