/**
 * The HistoryStore contract, run against every engine (engine-contract.test.ts): the store reads what the
 * engine's broker appended. Positions, reads with `since`/`limit` and their `complete` flag, trimming by
 * size and by age, recovery that is all or nothing, and how long a stream is kept: never under members,
 * never while it retains a message, otherwise the stream TTL after its last use, and then forgotten
 * honestly (a new epoch, so an old position is not recovered).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { StreamPosition } from '@switchboard/protocol';
import type { HistoryPolicy } from '../src/history/history-store.js';
import { Recorder, durable, freshChannel } from './broker-contract.js';
import type { ContractOptions, EngineFactory, EngineFixture, EngineSettings } from './broker-contract.js';

/** Options of the HistoryStore contract. */
export interface HistoryContractOptions extends ContractOptions {
  /** Cases an engine cannot run, each with why. */
  readonly skips?: {
    /** The count bound of idle streams (engines that keep no streams in node memory). */
    readonly countBound?: string;
  };
}

/**
 * The stream TTL of the retention cases (ms). Redis expires keys in real time, so it is short; long
 * enough that a loaded machine still sends the keep-alives of held streams (every third of it) in time.
 */
const STREAM_TTL_MS = 800;
/** Bound on Redis expiring a key once its PX has run out (Redis expires lazily and in a 10 Hz sweep). */
const EXPIRY_BOUND_MS = 2000;

/** Register the HistoryStore contract's tests for one engine. */
export function historyContract(
  name: string,
  make: EngineFactory,
  options: HistoryContractOptions = {},
): void {
  const TEST = { skip: options.skip ?? false, timeout: 10_000 };

  async function withEngine(
    body: (engine: EngineFixture) => Promise<void>,
    settings?: EngineSettings,
  ): Promise<void> {
    const engine = await make(settings);
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

  /**
   * Let `ms` pass, then resolve with the position once the stream of `channel` has been forgotten (its
   * position has another epoch than `epoch`), within the Redis expiry bound.
   */
  async function forgotten(
    engine: EngineFixture,
    channel: string,
    epoch: string,
    ms: number,
  ): Promise<StreamPosition> {
    await engine.pass(ms);
    const deadline = Date.now() + EXPIRY_BOUND_MS;
    for (;;) {
      const position = await engine.history.position(channel);
      if (position.epoch !== epoch) return position;
      assert.ok(Date.now() < deadline, `the stream of ${channel} is still kept ${ms} ms on`);
      await delay(20);
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

    test(
      'a stream with no members is kept while it retains a message, then forgotten: a new epoch, and an old position is not recovered',
      TEST,
      () =>
        withEngine(
          async (engine) => {
            const { history } = engine;
            const channel = freshChannel();
            // Messages that outlive the stream TTL keep the stream (and its position) with them.
            await publishMany(engine, channel, 2, { size: 10, ttlMs: 2 * STREAM_TTL_MS });
            const old = await history.position(channel);
            await engine.pass(STREAM_TTL_MS * 1.5);
            assert.deepEqual(await history.position(channel), old, 'kept while a message is retained');
            assert.equal(
              (await history.recover(channel, { offset: 0, epoch: old.epoch }, 10)).recovered,
              true,
            );
            // Past the messages' TTL, with no member and no use since the last publish: forgotten.
            const fresh = await forgotten(engine, channel, old.epoch, STREAM_TTL_MS);
            assert.equal(fresh.offset, 0);
            const publication = await engine.broker.publish(channel, durable('{"n":3}'));
            assert.deepEqual(
              [publication.id, publication.epoch],
              [1, fresh.epoch],
              'the next publish: a new epoch',
            );
            assert.deepEqual(await history.recover(channel, old, 10), {
              recovered: false,
              position: { offset: 1, epoch: fresh.epoch },
            });
          },
          { streamTtlMs: STREAM_TTL_MS },
        ),
    );

    test('a read of a channel that has no stream leaves nothing behind past the stream TTL', TEST, () =>
      withEngine(
        async (engine) => {
          const { history } = engine;
          const channel = freshChannel();
          const read = await history.position(channel);
          assert.equal((await history.read(channel, { limit: 10 })).position.epoch, read.epoch);
          const fresh = await forgotten(engine, channel, read.epoch, STREAM_TTL_MS);
          assert.equal(fresh.offset, 0);
          assert.equal((await history.recover(channel, read, 10)).recovered, false);
        },
        { streamTtlMs: STREAM_TTL_MS },
      ),
    );

    test(
      'a held stream (members on this node) is never forgotten; released, it is kept the stream TTL from then',
      TEST,
      () =>
        withEngine(
          async (engine) => {
            const { history } = engine;
            const channel = freshChannel();
            history.hold(channel);
            history.hold(channel); // idempotent
            const subscribed = await history.position(channel);
            await engine.broker.publish(
              channel,
              durable('{"n":1}', { history: { size: 10, ttlMs: STREAM_TTL_MS / 4 } }),
            );
            await engine.pass(STREAM_TTL_MS * 2.5);
            const held = await history.position(channel);
            assert.deepEqual(held, { offset: 1, epoch: subscribed.epoch }, 'kept under its members');
            history.release(channel);
            await engine.pass(STREAM_TTL_MS / 2);
            assert.deepEqual(await history.position(channel), held, 'kept the stream TTL after the release');
            await forgotten(engine, channel, held.epoch, STREAM_TTL_MS / 2);
            assert.equal((await history.recover(channel, held, 10)).recovered, false);
          },
          { streamTtlMs: STREAM_TTL_MS },
        ),
    );

    test(
      'at most maxIdleStreams idle streams are kept, the least recently used forgotten first',
      { ...TEST, skip: options.skip ?? options.skips?.countBound ?? false },
      () =>
        withEngine(
          async (engine) => {
            const { history } = engine;
            const held = freshChannel();
            history.hold(held);
            const heldAt = await history.position(held);
            // Size 0: nothing retained, so each stream is idle right after its publish.
            const idle = Array.from({ length: 6 }, () => freshChannel());
            const positions: StreamPosition[] = [];
            for (const channel of idle) {
              const p = await engine.broker.publish(
                channel,
                durable('1', { history: { size: 0, ttlMs: 60_000 } }),
              );
              positions.push({ offset: p.id ?? 0, epoch: p.epoch ?? '' });
            }
            // Streams that retain messages are not idle: the bound does not touch them.
            const retaining = Array.from({ length: 4 }, () => freshChannel());
            for (const channel of retaining) await engine.broker.publish(channel, durable('1'));
            assert.ok((history.streamCount?.() ?? 0) <= 1 + 3 + 4, 'held + 3 idle + 4 with messages');
            // Most recent first: a read of a forgotten channel creates an idle stream, which would evict.
            for (let i = 5; i >= 0; i--) {
              const recovered = (await history.recover(idle[i] ?? '', positions[i] as StreamPosition, 10))
                .recovered;
              assert.equal(recovered, i >= 3, `idle stream ${i} ${i >= 3 ? 'kept' : 'forgotten'}`);
            }
            for (const channel of retaining) assert.equal((await history.position(channel)).offset, 1);
            assert.deepEqual(await history.position(held), heldAt, 'a held stream is not idle');
          },
          { maxIdleStreams: 3 },
        ),
    );
  });
}
