/**
 * The issue's property proof of guaranteed delivery (issue 18): two server nodes over one Redis (the Redis
 * engine, so the Redis inbox store), USERS users with two devices each on the real SDK, messages delivered
 * through both nodes' `server.deliver`, and a seeded schedule of faults: sockets destroyed, clients closed
 * and reconnected (each new socket goes to the other node), handlers that throw (nack), handlers that
 * resolve only after their connection dropped (the ack goes out on the next connection), and sockets
 * killed inside the handler, before the ack frame can go out (the ack is lost; the SDK dedupes).
 *
 * Properties, per device: every message reaches the handler; the handler completes exactly once per
 * message (one client object per device across all drops: the SDK's dedupe memory lives there); the
 * completions come in the user's delivery order (a dead-lettered message is left out); afterwards the
 * store holds nothing for the device.
 *
 * SWITCHBOARD_SEED=<n> replays a schedule (the faults we inject; socket and timer timing still varies);
 * a failure names its seed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SwitchboardClient } from '@switchboard/client';
import type { InboxMessage } from '@switchboard/client';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { eventually, testScope, uniquePrefix } from './scale-helpers.js';
import { Waiter, routedWebSocket } from './delivery-helpers.js';
import type { DeadLetterEvent } from '../src/index.js';
import type { RedisNode } from './scale-helpers.js';

const SUITE = { skip: redisRequirement.skip };
const SEED = process.env['SWITCHBOARD_SEED']
  ? Number(process.env['SWITCHBOARD_SEED'])
  : (Math.random() * 2 ** 32) >>> 0;
const USERS = 5;
const DEVICES = 2;
const MESSAGES_PER_USER = 200;
/** Bound on the whole run, after which the test fails with the state it reached. */
const RUN_MS = 40_000;
/** The chaos driver's tick: one fault may hit one device per tick. */
const CHAOS_TICK_MS = 25;

const scope = testScope();

/** mulberry32: a small seedable PRNG, so a seed replays the schedule of faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One device: one SDK client for its whole life, its sockets alternating between the two nodes. */
class Device {
  readonly client: SwitchboardClient;
  readonly name: string;
  /** Ids whose handler completed (resolved), in completion order. */
  readonly completed: string[] = [];
  /** Handler invocations per id (a throw counts; it is redelivered and invoked again). */
  readonly invocations = new Map<string, number>();
  readonly errors: string[] = [];
  /** Sockets opened per node port: each new socket goes to the other node. */
  readonly socketsTo = new Map<number, number>();
  private readonly routed: ReturnType<typeof routedWebSocket>;
  faults = { drops: 0, closes: 0, nacks: 0, hangs: 0, killedBeforeAck: 0 };

  constructor(
    readonly user: string,
    readonly index: number,
    nodes: readonly RedisNode[],
    private readonly random: () => number,
    private readonly progress: Waiter,
  ) {
    this.name = `${user}-d${index}`;
    let turn = index;
    this.routed = routedWebSocket(() => {
      const node = nodes[turn % nodes.length];
      turn += 1;
      if (node === undefined) throw new Error('no node');
      this.socketsTo.set(node.server.port, (this.socketsTo.get(node.server.port) ?? 0) + 1);
      return node.server.port;
    });
    const first = nodes[0];
    if (first === undefined) throw new Error('no node');
    this.client = new SwitchboardClient(`${first.wsUrl}/ws?user=${user}`, {
      WebSocket: this.routed.WebSocket,
      transports: ['websocket'],
      backoff: { minDelayMs: 5, maxDelayMs: 40 },
      requestTimeoutMs: 3000,
      inbox: { device: this.name, prefetch: 5 },
    });
    this.client.inbox.on('error', (error) => this.errors.push(`${error.code}: ${error.message}`));
    this.client.inbox.on('message', (message) => this.handle(message));
  }

  private async handle(message: InboxMessage): Promise<void> {
    this.invocations.set(message.id, (this.invocations.get(message.id) ?? 0) + 1);
    const roll = this.random();
    if (roll < 0.1 && message.attempt < 4) {
      this.faults.nacks += 1;
      throw new Error('nack on purpose');
    }
    if (roll < 0.16) {
      // Lost ack: resolve only after this connection dropped (destroyed now), so the ack goes out on
      // the next connection once the message came again there.
      this.faults.hangs += 1;
      const socket = this.routed.current();
      const dropped = new Promise<void>((resolve) => {
        if (socket === null) resolve();
        else socket.once('close', () => resolve());
      });
      // Half of them resolve once the inbox is open again on the next connection.
      const reopened =
        this.random() < 0.5
          ? new Promise<void>((resolve) => {
              const off = this.client.inbox.on('open', () => {
                off();
                resolve();
              });
            })
          : null;
      this.drop();
      await dropped;
      if (reopened !== null) await reopened;
    } else if (roll < 0.22) {
      // Killed after the handler ran, before the ack frame went out: the SDK's send has no socket.
      this.faults.killedBeforeAck += 1;
      this.routed.current()?.terminate();
    } else if (roll < 0.5) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.completed.push(message.id);
    this.progress.signal();
  }

  /** Destroy the socket (no close handshake): the client reconnects, to the other node. */
  drop(): void {
    this.faults.drops += 1;
    this.routed.current()?.terminate();
  }

  /** Close the client and connect again (to the other node). */
  async reconnect(): Promise<void> {
    this.faults.closes += 1;
    this.client.close();
    await this.client.connect();
  }
}

describe('guaranteed delivery: a seeded property run across two nodes over one Redis', SUITE, () => {
  let redis: RedisProcess | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });

  after(async () => {
    await redis?.stop();
  });

  it(
    `each device handles each message once, in delivery order (seed ${SEED})`,
    { timeout: RUN_MS + 15_000 },
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const random = prng(SEED);
      const prefix = uniquePrefix();
      const progress = new Waiter();
      /** Dead letters as the onDeadLetter hook reported them (either node): `user id device`. */
      const deadReports: string[] = [];
      const deadIds = new Set<string>();
      const server = {
        inbox: { ackTimeoutMs: 2000, retryMinMs: 5, retryMaxMs: 50, sweepMs: 200 },
        onDeadLetter: (letter: DeadLetterEvent) => {
          if (letter.kind !== 'inbox') return;
          deadReports.push(`${letter.userId} ${letter.id} ${letter.device ?? ''}`);
          deadIds.add(letter.id);
          progress.signal();
        },
      };
      const nodeA = await scope.node(redis.url, prefix, { server });
      const nodes = [nodeA, await scope.node(redis.url, prefix, { server })];
      const users = Array.from({ length: USERS }, (_, u) => `p${u}`);
      const devices = users.flatMap((user) =>
        Array.from({ length: DEVICES }, (_, k) => new Device(user, k, nodes, random, progress)),
      );
      for (const device of devices) scope.defer(() => device.client.close());
      // Every device opens its inbox (and so is known to the store) before the first deliver.
      await Promise.all(
        devices.map(async (device) => {
          const opened = new Promise<void>((resolve) => device.client.inbox.on('open', () => resolve()));
          await device.client.connect();
          await opened;
        }),
      );

      const delivered = new Map<string, string[]>(users.map((user) => [user, []]));
      let deliveriesDone = false;
      let chaos = true;
      let chaosRuns = 0;
      const chaosDriver = (async () => {
        while (chaos) {
          await new Promise((resolve) => setTimeout(resolve, CHAOS_TICK_MS));
          const roll = random();
          const device = devices[Math.floor(random() * devices.length)];
          if (device === undefined || !chaos) continue;
          chaosRuns += 1;
          if (roll < 0.25) device.drop();
          else if (roll < 0.35) await device.reconnect();
        }
      })();

      try {
        // Each user's messages are delivered one after the other (so the delivery order is defined), each
        // through a node picked at random; the users' streams run concurrently.
        await Promise.all(
          users.map(async (user) => {
            for (let i = 0; i < MESSAGES_PER_USER; i += 1) {
              const node = nodes[random() < 0.5 ? 0 : 1];
              if (node === undefined) throw new Error('no node');
              // One in ten may spend its attempts (2) on the faults: a dead letter, left out of the order.
              const maxAttempts = random() < 0.1 ? 2 : 100;
              const { id, duplicate } = await node.server.deliver(user, { user, i }, { maxAttempts });
              assert.equal(duplicate, false);
              delivered.get(user)?.push(id);
              if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, 1 + random() * 10));
            }
          }),
        );
        deliveriesDone = true;
        // Done when every device completed each of its user's messages, but those dead-lettered.
        await progress.until(
          () =>
            deliveriesDone &&
            devices.every((device) => {
              const completed = new Set(device.completed);
              return (delivered.get(device.user) ?? []).every((id) => completed.has(id) || deadIds.has(id));
            }),
          'every device to handle every message that is not a dead letter',
          RUN_MS,
        );
        chaos = false;
        await chaosDriver;

        // Afterwards (no more faults) every ack reaches the store: nothing left for any device.
        for (const device of devices) {
          await eventually(
            async () =>
              (await nodeA.engine.inbox.pending(device.user, device.name, 0, 10, Date.now())).length === 0,
            `${device.name}'s inbox empty in the store`,
            10_000,
          );
        }
        for (const device of devices) {
          const expected = (delivered.get(device.user) ?? []).filter((id) => !deadIds.has(id));
          // Exactly once: each id completed once, and in the user's delivery order (a dead letter may
          // have been handled before its attempts ran out, once at most, and is left out of the order).
          assert.equal(new Set(device.completed).size, device.completed.length, `${device.name}: once each`);
          assert.deepEqual(
            device.completed.filter((id) => !deadIds.has(id)),
            expected,
            `${device.name}: completions in delivery order, once each`,
          );
          for (const id of expected)
            assert.ok((device.invocations.get(id) ?? 0) >= 1, `${device.name}: ${id} handled`);
        }
        const faults = devices.reduce(
          (sum, device) => {
            for (const key of Object.keys(sum) as (keyof Device['faults'])[]) sum[key] += device.faults[key];
            return sum;
          },
          { drops: 0, closes: 0, nacks: 0, hangs: 0, killedBeforeAck: 0 },
        );
        const sockets = new Map<number, number>();
        for (const device of devices)
          for (const [port, count] of device.socketsTo) sockets.set(port, (sockets.get(port) ?? 0) + count);
        for (const node of nodes)
          assert.ok((sockets.get(node.server.port) ?? 0) > devices.length, 'both nodes served reconnections');
        const errors = devices.flatMap((device) => device.errors.map((e) => `${device.name} ${e}`));
        // The hook reported each dead letter once, and they are the ones the store holds.
        const stored: string[] = [];
        for (const user of users)
          for (const letter of await nodeA.server.deadLetters(user, { limit: 1000 }))
            stored.push(`${user} ${letter.id} ${letter.device ?? ''}`);
        assert.deepEqual([...deadReports].sort(), stored.sort(), 'onDeadLetter once per dead letter');
        const deadCount = deadReports.length;
        console.log(
          `# delivery-property seed=${SEED} chaos ticks=${chaosRuns} faults=${JSON.stringify(faults)} sockets per node=${JSON.stringify([...sockets.values()])} dead letters=${deadCount} inbox errors=${JSON.stringify(errors)}`,
        );
      } catch (error) {
        chaos = false;
        const state = devices
          .map(
            (device) =>
              `${device.name}: ${new Set(device.completed).size} completed, errors ${JSON.stringify(device.errors)}`,
          )
          .join('; ');
        throw new Error(
          `seed ${SEED} (replay with SWITCHBOARD_SEED=${SEED}): ${(error as Error).message}\n${state}`,
          {
            cause: error,
          },
        );
      } finally {
        chaos = false;
        await chaosDriver;
      }
    },
  );
});
