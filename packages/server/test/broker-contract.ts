/**
 * The Broker contract, run against every engine (engine-contract.test.ts: memory, Redis standalone, Redis
 * Cluster). `make` builds a fresh, unstarted engine; each test starts its broker with a {@link Recorder}
 * and closes the engine after. Channel names are unique per test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Broker, BrokerHandler, Envelope, Publication, PublicationInput } from '../src/broker/broker.js';
import type { HistoryPolicy, HistoryStore } from '../src/history/history-store.js';
import { ServerNotRunningError } from '../src/errors.js';
import type { ShiftedClock } from './auth-fixtures.js';
import { Changes } from './helpers.js';

/** An engine under test: a broker and the history store its publishes append to. */
export interface EngineFixture {
  readonly broker: Broker;
  readonly history: HistoryStore;
  /** Connection ids `<nodeId>-<n>` belong to this broker's node. */
  readonly nodeId: string;
  /** The engine's clock (real timers, a `now()` that tests can move forward). */
  readonly clock: ShiftedClock;
  /**
   * Let `ms` of the streams' time pass: the memory engine's clock moves on; Redis expires keys in real
   * time, so a Redis fixture waits (keep `ms` short there).
   */
  pass(ms: number): Promise<void>;
  /** Close the broker, the history store and whatever the engine shares. */
  close(): Promise<void>;
}

/** How long and how many idle streams an engine under test keeps (its defaults when left out). */
export interface EngineSettings {
  readonly streamTtlMs?: number;
  /** Honoured by engines that bound the count of idle streams (memory). */
  readonly maxIdleStreams?: number;
}

/** Builds a fresh, unstarted engine. */
export type EngineFactory = (settings?: EngineSettings) => Promise<EngineFixture>;

/** Options of the contract suites. */
export interface ContractOptions {
  /** node:test's `skip`: why the engine cannot run here (a missing redis-server), or false. */
  readonly skip?: string | false;
}

/** A history policy that keeps everything a test publishes. */
export const KEEP: HistoryPolicy = { size: 100, ttlMs: 3_600_000 };

/** A durable publish input. */
export function durable(json: string, extra: Partial<PublicationInput> = {}): PublicationInput {
  return { json, ephemeral: false, history: KEEP, ...extra };
}

/** A channel name no other test uses. */
export function freshChannel(): string {
  return `ch:${randomUUID()}`;
}

/** A BrokerHandler that records everything and lets a test await what it expects. */
export class Recorder implements BrokerHandler {
  readonly publications: Publication[] = [];
  readonly envelopes: Envelope[] = [];
  reconnects = 0;
  private readonly changes = new Changes();

  onPublication(publication: Publication): void {
    this.publications.push(publication);
    this.notify();
  }

  onEnvelope(envelope: Envelope): void {
    this.envelopes.push(envelope);
    this.notify();
  }

  onReconnected(): void {
    this.reconnects++;
    this.notify();
  }

  /** Publications of `channel`, in delivery order. */
  of(channel: string): Publication[] {
    return this.publications.filter((p) => p.channel === channel);
  }

  /** Resolve once `predicate` holds (checked now and after every delivery); reject after `timeoutMs`. */
  until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.changes.until(predicate, what, timeoutMs);
  }

  private notify(): void {
    this.changes.notify();
  }
}

/**
 * Send `envelope` every 20 ms until the recorder has one matching `arrived` (a watch has no
 * acknowledgement to await); bounded by `timeoutMs`.
 */
export async function sendUntilDelivered(
  broker: Broker,
  recorder: Recorder,
  envelope: Envelope,
  arrived: (envelope: Envelope) => boolean,
  timeoutMs = 5000,
): Promise<void> {
  const done = recorder.until(() => recorder.envelopes.some(arrived), 'a watched envelope', timeoutMs);
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => {});
  while (!finished) {
    await broker.send(envelope);
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 20))]);
  }
  await done;
}

/** Register the Broker contract's tests for one engine. */
export function brokerContract(name: string, make: EngineFactory, options: ContractOptions = {}): void {
  const TEST = { skip: options.skip ?? false, timeout: 10_000 };

  async function withBroker(
    body: (engine: EngineFixture, recorder: Recorder) => Promise<void>,
  ): Promise<void> {
    const engine = await make();
    const recorder = new Recorder();
    try {
      await engine.broker.start(recorder);
      await body(engine, recorder);
    } finally {
      await engine.close();
    }
  }

  describe(`Broker contract: ${name}`, () => {
    test('publish and send before start reject with ServerNotRunningError', TEST, async () => {
      const engine = await make();
      try {
        await assert.rejects(engine.broker.publish(freshChannel(), durable('1')), ServerNotRunningError);
        await assert.rejects(
          engine.broker.send({ kind: 'broadcast', json: '1', time: 1 }),
          ServerNotRunningError,
        );
      } finally {
        await engine.close();
      }
    });

    test('durable publishes get offsets 1, 2, 3… under one epoch, the one position() gave before', TEST, () =>
      withBroker(async ({ broker, history }) => {
        const channel = freshChannel();
        const before = await history.position(channel);
        assert.equal(before.offset, 0);
        assert.deepEqual(
          await history.position(channel),
          before,
          'the epoch of an unpublished channel is stable',
        );
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) {
          const publication = await broker.publish(channel, durable(`{"n":${i}}`));
          assert.equal(publication.epoch, before.epoch);
          assert.equal(publication.channel, channel);
          assert.equal(publication.ephemeral, false);
          assert.equal(publication.duplicate, undefined);
          ids.push(publication.id ?? -1);
        }
        assert.deepEqual(ids, [1, 2, 3, 4, 5]);
        assert.deepEqual(await history.position(channel), { offset: 5, epoch: before.epoch });
      }),
    );

    test('a subscribed node receives every publication in offset order, payload and time intact', TEST, () =>
      withBroker(async ({ broker, clock }, recorder) => {
        const channel = freshChannel();
        await broker.subscribe(channel);
        const payloads = Array.from({ length: 30 }, (_, i) =>
          JSON.stringify({ i, text: `line\nbreak ${i}` }),
        );
        const started = clock.now();
        const published = await Promise.all(payloads.map((json) => broker.publish(channel, durable(json))));
        await recorder.until(() => recorder.of(channel).length === 30, '30 publications');
        const delivered = recorder.of(channel);
        assert.deepEqual(
          delivered.map((p) => p.id),
          Array.from({ length: 30 }, (_, i) => i + 1),
          'delivery order is offset order',
        );
        for (const p of delivered) {
          const sent = published.find((q) => q.id === p.id);
          assert.ok(sent !== undefined);
          assert.equal(p.json, sent.json);
          assert.equal(p.epoch, sent.epoch);
          assert.equal(p.time, sent.time);
          assert.ok(p.time >= started && p.time <= clock.now(), 'time is the broker’s clock');
        }
        assert.deepEqual(delivered.map((p) => p.json).sort(), [...payloads].sort());
      }),
    );

    test('ephemeral publishes get no offset, skip history and are delivered', TEST, () =>
      withBroker(async ({ broker, history }, recorder) => {
        const channel = freshChannel();
        await broker.subscribe(channel);
        await broker.publish(channel, durable('"kept"'));
        const typing = await broker.publish(channel, { ...durable('"typing"'), ephemeral: true });
        assert.equal(typing.id, undefined);
        assert.equal(typing.epoch, undefined);
        assert.equal(typing.ephemeral, true);
        await recorder.until(() => recorder.of(channel).length === 2, 'two publications');
        const [, delivered] = recorder.of(channel);
        assert.equal(delivered?.json, '"typing"');
        assert.equal(delivered?.ephemeral, true);
        assert.equal(delivered?.id, undefined);
        const page = await history.read(channel, { limit: 10 });
        assert.deepEqual(
          page.messages.map((m) => m.json),
          ['"kept"'],
        );
        assert.equal(page.position.offset, 1);
      }),
    );

    test(
      'a retried idempotent publish answers the first offset with duplicate: true and is delivered once',
      TEST,
      () =>
        withBroker(async ({ broker, history }, recorder) => {
          const channel = freshChannel();
          await broker.subscribe(channel);
          const first = await broker.publish(channel, durable('"order"', { idempotencyKey: 'k1' }));
          const retry = await broker.publish(channel, durable('"order"', { idempotencyKey: 'k1' }));
          const other = await broker.publish(channel, durable('"next"', { idempotencyKey: 'k2' }));
          assert.equal(first.id, 1);
          assert.equal(first.duplicate, undefined);
          assert.equal(retry.id, 1);
          assert.equal(retry.epoch, first.epoch);
          assert.equal(retry.time, first.time);
          assert.equal(retry.duplicate, true);
          assert.equal(other.id, 2);
          // The same key on another channel is another publish.
          const elsewhere = await broker.publish(
            freshChannel(),
            durable('"order"', { idempotencyKey: 'k1' }),
          );
          assert.equal(elsewhere.id, 1);
          assert.equal(elsewhere.duplicate, undefined);
          await recorder.until(() => recorder.of(channel).length >= 2, 'two publications');
          // A marker after everything: once it is in, a second delivery of offset 1 would be too.
          await broker.publish(channel, durable('"marker"'));
          await recorder.until(() => recorder.of(channel).length >= 3, 'the marker');
          assert.deepEqual(
            recorder.of(channel).map((p) => p.id),
            [1, 2, 3],
          );
          assert.equal((await history.position(channel)).offset, 3);
        }),
    );

    test('exclusions travel with publications, durable and ephemeral', TEST, () =>
      withBroker(async ({ broker }, recorder) => {
        const channel = freshChannel();
        await broker.subscribe(channel);
        const exclude = { connectionId: 'n1-a', userId: 'user with spaces {"odd"}' };
        const returned = await broker.publish(channel, durable('1', { exclude }));
        assert.deepEqual(returned.exclude, exclude);
        await broker.publish(channel, { ...durable('2'), ephemeral: true, exclude: { userId: 'u' } });
        await broker.publish(channel, durable('3'));
        await recorder.until(() => recorder.of(channel).length === 3, 'three publications');
        assert.deepEqual(
          recorder.of(channel).map((p) => p.exclude),
          [exclude, { userId: 'u' }, undefined],
        );
      }),
    );

    test(
      'a traceparent travels with publications, beside an exclusion or alone (tracing, issue 15)',
      TEST,
      () =>
        withBroker(async ({ broker }, recorder) => {
          const channel = freshChannel();
          await broker.subscribe(channel);
          const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
          await broker.publish(channel, durable('1', { traceparent }));
          await broker.publish(channel, {
            ...durable('2'),
            ephemeral: true,
            exclude: { userId: 'u' },
            traceparent,
          });
          await broker.publish(channel, durable('3'));
          await recorder.until(() => recorder.of(channel).length === 3, 'three publications');
          assert.deepEqual(
            recorder.of(channel).map((p) => [p.traceparent, p.exclude]),
            [
              [traceparent, undefined],
              [traceparent, { userId: 'u' }],
              [undefined, undefined],
            ],
          );
        }),
    );

    test('every envelope kind reaches the started node that holds its target', TEST, () =>
      withBroker(async ({ broker, nodeId }, recorder) => {
        const channel = freshChannel();
        await broker.subscribe(channel);
        broker.watchUser('alice');
        await sendUntilDelivered(
          broker,
          recorder,
          { kind: 'user', userId: 'alice', json: '"ping"', time: 1 },
          (e) => e.kind === 'user',
        );
        recorder.envelopes.length = 0;
        const connectionId = `${nodeId}-1z`;
        const envelopes: Envelope[] = [
          { kind: 'user', userId: 'alice', json: '{"to":"alice"}', time: 10, exclude: { connectionId } },
          { kind: 'connection', connectionId, json: '{"to":"one"}\n', time: 11 },
          { kind: 'broadcast', json: '"all"', time: 12, exclude: { userId: 'bob' } },
          {
            kind: 'membership',
            event: 'join',
            channel,
            userId: 'alice',
            info: { name: 'Alice', tags: ['a b'] },
            time: 13,
          },
          { kind: 'membership', event: 'leave', channel, userId: null, connectionId: 'x-2', time: 14 },
          { kind: 'disconnect-user', userId: 'alice', code: 4001, reason: 'bye\nnow' },
          { kind: 'disconnect-connection', connectionId, code: 4002, reason: '' },
        ];
        for (const envelope of envelopes) await broker.send(envelope);
        await recorder.until(() => recorder.envelopes.length === envelopes.length, 'every envelope');
        const byKind = (list: readonly Envelope[]): Envelope[] =>
          [...list].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
        assert.deepEqual(byKind(recorder.envelopes), byKind(envelopes));
      }),
    );

    test('unsubscribe then subscribe again keeps the channel delivering', TEST, () =>
      withBroker(async ({ broker }, recorder) => {
        const channel = freshChannel();
        await broker.subscribe(channel);
        await broker.unsubscribe(channel);
        await broker.subscribe(channel);
        await broker.publish(channel, durable('"still here"'));
        await recorder.until(() => recorder.of(channel).length === 1, 'the publication');
      }),
    );

    test('after close, publish rejects', TEST, async () => {
      const engine = await make();
      try {
        await engine.broker.start(new Recorder());
        await engine.broker.close();
        await assert.rejects(engine.broker.publish(freshChannel(), durable('1')), ServerNotRunningError);
      } finally {
        await engine.close();
      }
    });
  });
}
