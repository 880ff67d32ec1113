/**
 * History reads paced against real Redis (standalone, and the storm case on a 3-master cluster): a storm of
 * thousands of reads is answered without error while the commands outstanding on the client (counted on
 * the client itself, not by the store) never exceed `readConcurrency`, sent in arrival order; position
 * reads of one channel share a read until it is sent and never after; with Redis SIGKILLed, reads waiting
 * their turn fail at once with BackendUnavailableError, far below a (long) command timeout; with Redis
 * stalled (SIGSTOP), nothing outlives the command timeout plus the wait bound; with one cluster master
 * SIGKILLed, only the reads of its shard fail, the reads waiting for the other shards still answer, and
 * the dead shard's later reads fail without being sent until its retry is due.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BackendUnavailableError, InvalidOptionError, silentLogger, systemClock } from '../src/index.js';
import { RedisHistoryStore } from '../src/history/redis-history-store.js';
import type { RedisHistoryStoreOptions } from '../src/history/redis-history-store.js';
import { RedisBroker } from '../src/broker/redis-broker.js';
import { RedisKeys, hashSlot } from '../src/redis/redis-keys.js';
import { createRedisClient, parseRedisUrl } from '../src/redis/redis-connection.js';
import type { RedisClient } from '../src/redis/redis-connection.js';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import type { RedisContext } from '../src/redis/redis-context.js';
import { readScript } from '../src/redis/redis-scripts.js';
import { Recorder, durable } from './broker-contract.js';
import { redisPerSuite, redisRequirement, startRedisCluster } from './redis-harness.js';

const SKIP = redisRequirement.skip;
const TEST = { skip: SKIP, timeout: 30_000 };

/** A script call (EVALSHA) the client sent: which script, its first key (the channel's meta key). */
interface Sent {
  readonly sha: string;
  readonly key: string;
}

/**
 * The client's view of the store: every script call it is asked for (an EVALSHA; the EVAL that follows a
 * NOSCRIPT is part of the same call), how many commands are unanswered (and the most at once), and
 * optionally a gate that holds answers back (the command still goes to Redis at once: a slow Redis,
 * without timing).
 */
class Wire {
  readonly sent: Sent[] = [];
  inFlight = 0;
  peak = 0;
  /** Called right after a command went out (synchronously, before anything else can be sent). */
  onSend: ((sent: Sent) => void) | null = null;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  /** Hold every answer back until {@link release}. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }

  /** Calls of `script` whose first key is `key`. */
  count(script: { readonly sha: string }, key: string): number {
    return this.sent.filter((s) => s.key === key && s.sha === script.sha).length;
  }

  /** `client`, with its script calls observed. */
  wrap(client: RedisClient): RedisClient {
    return new Proxy(client, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (property !== 'evalsha' && property !== 'eval') return method.bind(target);
        return (...args: unknown[]): Promise<unknown> => {
          // A script's EVALSHA, then an EVAL only when Redis answered NOSCRIPT: one call per EVALSHA.
          const sent: Sent | null =
            property === 'evalsha' ? { sha: String(args[0]), key: String(args[2]) } : null;
          if (sent !== null) this.sent.push(sent);
          this.inFlight++;
          this.peak = Math.max(this.peak, this.inFlight);
          const reply = method.apply(target, args) as Promise<unknown>;
          if (sent !== null) this.onSend?.(sent);
          const gate = this.gate;
          return reply.then(
            async (value) => {
              await gate;
              this.inFlight--;
              return value;
            },
            async (error: unknown) => {
              await gate;
              this.inFlight--;
              throw error;
            },
          );
        };
      },
    });
  }
}

/** A channel name no other test uses. */
function channelName(tag = 'c'): string {
  return `${tag}:${randomBytes(6).toString('hex')}`;
}

/** A connected context over `url` whose client is observed by `wire`. */
async function observedContext(url: string, wire: Wire, commandTimeoutMs = 2000): Promise<RedisContext> {
  const address = parseRedisUrl(url);
  const client = createRedisClient(address, { commandTimeoutMs });
  // What the broker does in a server: connection errors are the commands' to report, not a crash.
  client.on('error', () => {});
  await client.connect();
  return {
    address,
    client: wire.wrap(client),
    keys: new RedisKeys(`t${randomBytes(3).toString('hex')}`),
    nodeId: randomBytes(4).toString('hex'),
    clock: systemClock,
    logger: silentLogger,
    commandTimeoutMs,
  };
}

/** Resolve once `client` is ready (at once if it is). */
async function ready(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve) => (client as unknown as NodeJS.EventEmitter).once('ready', resolve));
}

/** The port of the master serving a key's slot, as the cluster reports it (CLUSTER SLOTS). */
async function slotOwners(client: RedisClient): Promise<(key: string) => number | undefined> {
  const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return (key) => {
    const slot = hashSlot(key);
    return ranges.find(([first, last]) => slot >= first && slot <= last)?.[2][1];
  };
}

/** How each of `reads` settled, and how long that took (ms). */
async function settleAll(reads: readonly Promise<unknown>[]): Promise<{
  fulfilled: number;
  errors: unknown[];
  elapsedMs: number;
}> {
  const started = performance.now();
  const results = await Promise.allSettled(reads);
  const elapsedMs = performance.now() - started;
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  return { fulfilled: results.length - errors.length, errors, elapsedMs };
}

/** The storm case, on any topology. */
function stormCase(topology: string, url: () => string): void {
  it(
    `${topology}: 5,000 concurrent reads all answer, at most readConcurrency in flight, sent in order`,
    TEST,
    async () => {
      const wire = new Wire();
      const context = await observedContext(url(), wire);
      const history = new RedisHistoryStore(context, { readConcurrency: 16 });
      try {
        const channels = Array.from({ length: 5000 }, () => channelName());
        const positions = await Promise.all(channels.map((channel) => history.position(channel)));
        assert.ok(positions.every((p) => p.offset === 0 && p.epoch.length > 0));
        assert.equal(wire.peak, 16, 'the cap was reached, never passed');
        assert.deepEqual(
          wire.sent.map((s) => s.key),
          channels.map((channel) => context.keys.meta(channel)),
          'one read per channel, sent in the order asked',
        );

        // Recoveries and history pages wait their turn with positions, under the same cap.
        wire.peak = 0;
        const mixed = channels
          .slice(0, 1500)
          .flatMap((channel, i) => [
            history.recover(channel, positions[i] ?? { offset: 0, epoch: '' }, 100),
            history.read(channel, { limit: 10 }),
          ]);
        const { fulfilled, errors } = await settleAll(mixed);
        assert.deepEqual(errors, []);
        assert.equal(fulfilled, 3000);
        assert.equal(wire.peak, 16);
        assert.deepEqual(history.readLoad(), { running: 0, waiting: 0 });
      } finally {
        context.client.disconnect();
      }
    },
  );
}

describe('history reads paced: options', () => {
  it('createRedisEngine refuses nonsense pacing options with InvalidOptionError', async () => {
    const url = 'redis://127.0.0.1:1';
    for (const bad of [
      { historyReadConcurrency: 0 },
      { historyReadConcurrency: 2.5 },
      { historyReadQueueSize: -1 },
      { historyReadQueueTimeoutMs: 0 },
    ]) {
      assert.throws(() => createRedisEngine({ url, ...bad }), InvalidOptionError, JSON.stringify(bad));
    }
    // Accepted, and never connected (the client is lazy).
    await createRedisEngine({ url, historyReadConcurrency: Infinity, historyReadQueueSize: 0 }).close();
  });
});

describe('history reads paced: standalone Redis', () => {
  const redis = redisPerSuite();
  const url = (): string => redis().url;

  stormCase('standalone', url);

  it('position reads of one channel share one Redis call until it is sent', TEST, async () => {
    const wire = new Wire();
    const context = await observedContext(url(), wire);
    const history = new RedisHistoryStore(context, { readConcurrency: 4 });
    try {
      // The same tick (members waiting on one broker subscription): one read, even with slots free.
      const room = channelName('room');
      const together = await Promise.all(Array.from({ length: 20 }, () => history.position(room)));
      assert.equal(wire.count(readScript, context.keys.meta(room)), 1);
      assert.ok(together.every((p) => p.epoch === together[0]?.epoch && p.offset === 0));

      // Calls spread over several ticks while the read still waits for a slot share it too.
      wire.hold();
      const busy = Array.from({ length: 4 }, () => history.position(channelName()));
      const later = channelName('room');
      const spread: Promise<unknown>[] = [];
      for (let tick = 0; tick < 5; tick++) {
        spread.push(history.position(later));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      assert.equal(wire.count(readScript, context.keys.meta(later)), 0, 'still waiting');
      assert.deepEqual(history.readLoad(), { running: 4, waiting: 1 }, 'five calls, one waiting read');
      wire.release();
      await Promise.all([...busy, ...spread]);
      assert.equal(wire.count(readScript, context.keys.meta(later)), 1);
    } finally {
      context.client.disconnect();
    }
  });

  it(
    'a read already sent is never shared: a call after it reads again and sees what was published between',
    TEST,
    async () => {
      const wire = new Wire();
      const context = await observedContext(url(), wire);
      const history = new RedisHistoryStore(context);
      const broker = new RedisBroker(context, {
        unsubscribeDelayMs: 50,
        probeIntervalMs: 60_000,
        probeTimeoutMs: 60_000,
        idempotencyWindowMs: 0,
        streamTtlMs: 60_000,
      });
      await broker.start(new Recorder());
      try {
        // Both scripts cached: each is one command, so the order on the connection is the order in Redis.
        const warm = channelName();
        await broker.publish(warm, durable('0'));
        await history.position(warm);

        const channel = channelName();
        const meta = context.keys.meta(channel);
        let second: Promise<{ offset: number }> | undefined;
        let published: Promise<unknown> | undefined;
        wire.onSend = (sent) => {
          if (sent.key !== meta || sent.sha !== readScript.sha || second !== undefined) return;
          // The read is on the wire: a publish now comes after it in Redis, and a join registered now
          // would miss that message if it were given this read's position.
          published = broker.publish(channel, durable('{"n":1}'));
          second = history.position(channel);
        };
        const first = await history.position(channel);
        await published;
        assert.ok(second !== undefined);
        assert.equal(first.offset, 0);
        assert.equal((await second).offset, 1, 'the later call read after the publish');
        assert.equal(wire.count(readScript, meta), 2);
      } finally {
        wire.onSend = null;
        await broker.close();
        context.client.disconnect();
      }
    },
  );

  it(
    'Redis SIGKILLed: waiting reads fail at once with BackendUnavailableError, nothing hangs',
    TEST,
    async () => {
      // A long command timeout and wait bound: only the lost connection can fail these reads quickly.
      const wire = new Wire();
      const context = await observedContext(url(), wire, 30_000);
      const history = new RedisHistoryStore(context, { readConcurrency: 8, readQueueTimeoutMs: 60_000 });
      try {
        const channels = Array.from({ length: 2500 }, () => channelName());
        const reads = channels.map((channel, i) =>
          i % 5 === 0 ? history.recover(channel, { offset: 0, epoch: 'x' }, 10) : history.position(channel),
        );
        await Promise.resolve(); // positions reach the limit a microtask after they are asked for
        const load = history.readLoad();
        assert.equal(load.running, 8);
        assert.ok(load.waiting > 2000, `reads wait when Redis dies (${load.waiting})`);
        const killed = redis().kill();
        const { fulfilled, errors, elapsedMs } = await settleAll(reads);
        await killed;
        assert.ok(fulfilled <= 64, `at most a few answered before the kill (${fulfilled})`);
        for (const error of errors) assert.ok(error instanceof BackendUnavailableError, String(error));
        // Tens of ms in practice: the first failed read refuses all the waiting ones at once.
        assert.ok(elapsedMs < 3000, `all ${errors.length} failed within ${Math.round(elapsedMs)} ms`);
        assert.deepEqual(history.readLoad(), { running: 0, waiting: 0 });

        // Still down: a new read fails at once too, and after a restart reads work again.
        const started = performance.now();
        await assert.rejects(history.position(channelName()), BackendUnavailableError);
        assert.ok(performance.now() - started < 1000);
        await redis().restart();
        await ready(context.client);
        const back = await Promise.all(Array.from({ length: 100 }, () => history.position(channelName())));
        assert.equal(back.length, 100);
      } finally {
        if (!redis().running) await redis().restart();
        context.client.disconnect();
      }
    },
  );

  it(
    'Redis stalled (SIGSTOP): every read fails within the command timeout plus the wait bound',
    TEST,
    async () => {
      const wire = new Wire();
      const context = await observedContext(url(), wire, 500);
      const options: RedisHistoryStoreOptions = { readConcurrency: 4, readQueueTimeoutMs: 1000 };
      const history = new RedisHistoryStore(context, options);
      const pid = redis().pid;
      await history.position(channelName()); // the script is cached: a read is one command
      process.kill(pid, 'SIGSTOP');
      try {
        const reads = Array.from({ length: 100 }, () => history.position(channelName()));
        const { fulfilled, errors, elapsedMs } = await settleAll(reads);
        assert.equal(fulfilled, 0);
        for (const error of errors) assert.ok(error instanceof BackendUnavailableError, String(error));
        const messages = errors.map((e) => (e as Error).message);
        assert.ok(
          messages.some((m) => m.includes('timed out')),
          'the reads sent timed out',
        );
        assert.ok(
          messages.some((m) => m.includes('waiting')),
          'the reads waiting were refused',
        );
        assert.ok(elapsedMs >= 900 && elapsedMs < 5000, `settled in ${Math.round(elapsedMs)} ms`);
        assert.deepEqual(history.readLoad(), { running: 0, waiting: 0 });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Redis answers again on the same connection.
      assert.equal((await history.position(channelName())).offset, 0);
      context.client.disconnect();
    },
  );
});

describe('history reads paced: 3-master cluster', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>> | undefined;
  before(async () => {
    if (SKIP !== false) return;
    redisRequirement.assert();
    cluster = await startRedisCluster({ masters: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  stormCase('cluster', () => {
    if (cluster === undefined) throw new Error('the cluster was not started');
    return cluster.url;
  });
});

describe('history reads paced: 3-master cluster, one master SIGKILLed', () => {
  // Its own cluster: the case kills a master for good. Without full coverage required, the surviving
  // masters keep serving their slots after they mark the dead one failed (2 s node timeout) instead of
  // answering CLUSTERDOWN, so the case does not race failure detection.
  let cluster: Awaited<ReturnType<typeof startRedisCluster>> | undefined;
  before(async () => {
    if (SKIP !== false) return;
    redisRequirement.assert();
    cluster = await startRedisCluster({ masters: 3, args: ['--cluster-require-full-coverage', 'no'] });
  });
  after(async () => {
    await cluster?.stop();
  });

  it(
    "a dead master's read fails alone: the reads behind it for healthy shards answer, its next reads fail unsent until the retry",
    TEST,
    async () => {
      if (cluster === undefined) throw new Error('the cluster was not started');
      const [dead, ...alive] = cluster.nodes;
      assert.ok(dead !== undefined && alive.length === 2);
      const wire = new Wire();
      // A command timeout and wait bound well past the case: the dead master's read can fail only by its
      // connection (ioredis gives up after its redirection retries, ~1 s), the reads behind it not at all.
      const context = await observedContext(cluster.url, wire, 5000);
      // The store's clock runs ahead when the case says so: the retry of an unreachable master is due.
      let ahead = 0;
      const history = new RedisHistoryStore(
        { ...context, clock: { ...systemClock, now: () => systemClock.now() + ahead } },
        { readConcurrency: 1, readQueueTimeoutMs: 10_000, unreachableMasterRetryMs: 60_000 },
      );
      try {
        const owner = await slotOwners(context.client);
        const on = (port: number, count: number): string[] => {
          const channels: string[] = [];
          while (channels.length < count) {
            const channel = channelName();
            if (owner(context.keys.meta(channel)) === port) channels.push(channel);
          }
          return channels;
        };
        const [lost = '', lostToo = ''] = on(dead.port, 2);
        const healthy = alive.flatMap((node) => on(node.port, 3));
        // Every master connected and its script cached; the epochs the reads after the kill must see.
        const known = await Promise.all(healthy.map((channel) => history.position(channel)));
        await history.position(lost);

        await dead.kill();
        const failed = history.position(lost);
        const queued = healthy.map((channel) => history.position(channel));
        await Promise.resolve(); // positions reach the limit a microtask after they are asked for
        assert.deepEqual(history.readLoad(), { running: 1, waiting: healthy.length }, 'reads queued');

        await assert.rejects(failed, BackendUnavailableError);
        const { fulfilled, errors } = await settleAll(queued);
        assert.deepEqual(errors, [], 'the reads of healthy shards were not refused');
        assert.equal(fulfilled, healthy.length);
        assert.deepEqual(await Promise.all(queued), known, 'each read its own shard');
        assert.equal(context.client.status, 'ready', 'the cluster client as a whole stayed ready');
        assert.deepEqual(history.readLoad(), { running: 0, waiting: 0 });

        // From now on, until its retry is due, the dead master's reads fail without being sent (they
        // would hold the only slot for a second each), and the reads of healthy shards go on.
        const sentToDead = (): number =>
          wire.count(readScript, context.keys.meta(lost)) +
          wire.count(readScript, context.keys.meta(lostToo));
        const before = sentToDead();
        const mixed = [lost, ...healthy, lostToo].map((channel) => history.read(channel, { limit: 1 }));
        const outcomes = await Promise.allSettled(mixed);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['rejected', ...healthy.map(() => 'fulfilled'), 'rejected'],
        );
        for (const o of outcomes) {
          if (o.status === 'rejected')
            assert.ok(o.reason instanceof BackendUnavailableError, String(o.reason));
        }
        assert.equal(sentToDead(), before, 'no read was sent to the unreachable master');

        // The retry is due: one read tries the master again (and fails); the one beside it is not sent.
        ahead = 61_000;
        const retried = await Promise.allSettled([
          history.read(lost, { limit: 1 }),
          history.read(lostToo, { limit: 1 }),
        ]);
        assert.deepEqual(
          retried.map((o) => o.status),
          ['rejected', 'rejected'],
        );
        assert.equal(sentToDead(), before + 1, 'exactly one read tried the master again');
        assert.deepEqual(history.readLoad(), { running: 0, waiting: 0 });
      } finally {
        context.client.disconnect();
      }
    },
  );
});
