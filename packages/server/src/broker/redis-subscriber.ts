/**
 * The pub/sub side of the Redis broker: which topics this node wants, and the subscriber connection(s)
 * that hold them. One connection on a standalone Redis or behind Sentinel (SUBSCRIBE); one per master on
 * Redis Cluster (SSUBSCRIBE, each shard channel on the master owning its slot, found with CLUSTER SLOTS).
 * One connection per shard keeps each channel's messages in the order Redis sent them.
 *
 * Subscriptions are batched: everything asked for within one tick goes out as one command per connection
 * (per slot on a cluster, where a command must stay in one slot). ioredis's own resubscription is off:
 * after a reconnect this class resubscribes every wanted topic in batches, and only once every connection
 * is back and acknowledged does it report `resumed`, so the broker's owner can check what it missed.
 */
import type { Redis } from 'ioredis';
import type { RedisContext } from '../redis/redis-context.js';
import { connectClient, createRedisClient, toBackendError } from '../redis/redis-connection.js';
import { CLUSTER_SLOTS, hashSlot } from '../redis/redis-keys.js';
import { BackendUnavailableError, ServerNotRunningError } from '../errors.js';

/** Topics per SUBSCRIBE command at most (a resubscription of 100k channels is many commands, pipelined). */
const BATCH_SIZE = 1000;

/** What the subscriber reports to the broker. */
export interface SubscriberEvents {
  /** A message on `topic`, received on the connection to `shard`. */
  message(shard: string, topic: string, message: string): void;
  /** Delivery was interrupted (a connection lost, a slot moved) and every topic is subscribed again. */
  resumed(): void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** A SUBSCRIBE in flight: the callers waiting for its acknowledgement. */
interface Batch {
  readonly waiters: Waiter[];
}

/** One subscriber connection and what it holds. */
class Shard {
  /** Topics acknowledged (`true`) or with a SUBSCRIBE in flight (its batch). */
  readonly topics = new Map<string, Batch | true>();
  /** Topics to subscribe at the next flush, with their callers. */
  readonly toSubscribe = new Map<string, Waiter[]>();
  readonly toUnsubscribe = new Set<string>();
  /** Bumped on every close: replies to commands sent before it no longer describe this connection. */
  generation = 0;
  /** The resubscription under way after a (re)connect or a moved slot; resolves true when all acked. */
  syncing: Promise<boolean> | null = null;
  /** This node's probe topic on this shard. */
  probeTopic = '';
  /** Completed resubscriptions: a probe sent before the latest one says nothing about this connection. */
  syncs = 0;

  constructor(
    readonly key: string,
    readonly client: Redis,
  ) {}

  get ready(): boolean {
    return this.client.status === 'ready';
  }
}

/** The topics this node subscribes to, over one connection per shard. */
export class RedisSubscriber {
  private readonly shards = new Map<string, Shard>();
  private readonly sharded: boolean;
  /** Topics the broker wants. */
  private readonly desired = new Set<string>();
  /** Cluster only: the shard key (`host:port`) owning each slot. */
  private owners: string[] = [];
  private flushScheduled = false;
  private started = false;
  private closed = false;
  /** Some delivery was interrupted since the last `resumed`. */
  private resumePending = false;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly context: RedisContext,
    private readonly events: SubscriberEvents,
  ) {
    this.sharded = context.address.topology === 'cluster';
  }

  /** Connect every shard and subscribe `initial` and the probe topics; rejects with BackendUnavailableError. */
  async start(initial: readonly string[]): Promise<void> {
    for (const topic of initial) this.desired.add(topic);
    if (this.sharded) await this.refreshTopology();
    else {
      const shard = this.addShard('main', this.context.address);
      shard.probeTopic = this.context.keys.nodeTopic(this.context.nodeId);
    }
    const shards = [...this.shards.values()];
    await Promise.all(shards.map((shard) => connectClient(shard.client, `subscriber ${shard.key}`)));
    const synced = await Promise.all(shards.map((shard) => shard.syncing ?? this.resync(shard)));
    if (synced.includes(false)) throw new BackendUnavailableError('redis unavailable: subscribing failed');
    this.started = true;
  }

  /** Subscribe `topic`; resolves once Redis has acknowledged it, rejects with BackendUnavailableError. */
  add(topic: string): Promise<void> {
    if (this.closed) return Promise.reject(new ServerNotRunningError('broker is closed'));
    this.desired.add(topic);
    const shard = this.shardOf(topic);
    if (shard === undefined) return Promise.reject(unavailable('no shard owns the slot of this topic'));
    shard.toUnsubscribe.delete(topic); // still subscribed: the pending unsubscribe is cancelled
    const state = shard.topics.get(topic);
    if (state === true) return Promise.resolve();
    // Kept in `desired` either way: the resubscription after the reconnect picks it up.
    if (!shard.ready) return Promise.reject(unavailable(`subscriber ${shard.key} is ${shard.client.status}`));
    return new Promise<void>((resolve, reject) => {
      if (state !== undefined) {
        state.waiters.push({ resolve, reject });
        return;
      }
      const waiters = shard.toSubscribe.get(topic);
      if (waiters === undefined) shard.toSubscribe.set(topic, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Stop wanting `topic`: unsubscribed at the next flush. */
  remove(topic: string): void {
    if (!this.desired.delete(topic)) return;
    const shard = this.shardOf(topic);
    if (shard === undefined) return;
    const waiting = shard.toSubscribe.get(topic);
    if (waiting !== undefined) {
      // Never sent: nothing to undo. Its callers gave up on it already (that is why it is removed).
      shard.toSubscribe.delete(topic);
      for (const waiter of waiting) waiter.resolve();
    }
    if (shard.topics.has(topic)) {
      shard.toUnsubscribe.add(topic);
      this.scheduleFlush();
    }
  }

  /** Every shard's probe topic. */
  probes(): { shard: string; topic: string }[] {
    return [...this.shards.values()].map((shard) => ({ shard: shard.key, topic: shard.probeTopic }));
  }

  /**
   * Which subscription of `shard` is live: a number that changes with every completed resubscription, or
   * null while the shard is not connected and fully subscribed (a probe through it would mean nothing).
   */
  syncedAs(shard: string): number | null {
    const found = this.shards.get(shard);
    return found !== undefined && found.ready && found.syncing === null ? found.syncs : null;
  }

  /** Drop and reopen the connection to `shard` (its probe went unanswered): it resubscribes when back. */
  reconnect(shard: string): void {
    const found = this.shards.get(shard);
    if (found === undefined || this.closed) return;
    this.context.logger.warn({ shard }, 'redis subscriber silent: reconnecting it');
    found.client.disconnect(true);
  }

  /** Every connection is ready and fully subscribed. */
  get ready(): boolean {
    if (this.shards.size === 0) return false;
    for (const shard of this.shards.values()) if (!shard.ready || shard.syncing !== null) return false;
    return true;
  }

  /** Connection status by shard, for health details. */
  states(): Record<string, string> {
    const states: Record<string, string> = {};
    for (const shard of this.shards.values())
      states[shard.key] = shard.ready && shard.syncing !== null ? 'resubscribing' : shard.client.status;
    return states;
  }

  /** Topics wanted (for health details). */
  get size(): number {
    return this.desired.size;
  }

  /** Disconnect every shard; pending subscribes reject. */
  close(): void {
    this.closed = true;
    for (const shard of this.shards.values()) this.dropShard(shard);
    this.desired.clear();
  }

  // ---------------------------------------------------------------- connections

  private addShard(key: string, address: RedisContext['address']): Shard {
    const client = createRedisClient(address, {
      commandTimeoutMs: this.context.commandTimeoutMs,
      extra: { autoResubscribe: false, connectionName: `switchboard:sub:${this.context.nodeId}` },
    }) as Redis;
    const shard = new Shard(key, client);
    let wasReady = false;
    client.on('ready', () => {
      wasReady = true;
      void this.resync(shard);
    });
    client.on('close', () => {
      shard.generation++;
      shard.topics.clear();
      shard.syncing = null;
      if (this.closed || this.shards.get(key) !== shard) return;
      if (wasReady) {
        wasReady = false;
        this.context.logger.warn({ shard: key }, 'redis subscriber disconnected');
        if (this.started) this.resumePending = true;
      }
      // A failed or demoted master is not coming back at this address: look again where the slots are.
      if (this.sharded && this.started) this.scheduleRefresh();
    });
    client.on('error', (error: Error) => {
      this.context.logger.debug({ err: error, shard: key }, 'redis subscriber error');
    });
    // ioredis reports an unsolicited SUNSUBSCRIBE (the slot migrated) and a MOVED reply this way.
    client.on('moved', () => {
      if (this.started && !this.closed) {
        this.resumePending = true;
        this.scheduleRefresh();
      }
    });
    const deliver = (topic: string, message: string): void => {
      try {
        this.events.message(key, topic, message);
      } catch (error) {
        this.context.logger.error({ err: error, topic }, 'redis message handler failed');
      }
    };
    client.on(this.sharded ? 'smessage' : 'message', deliver);
    this.shards.set(key, shard);
    if (this.started) connectClient(client, `subscriber ${key}`).catch(() => {}); // retried by ioredis
    return shard;
  }

  private dropShard(shard: Shard): void {
    this.shards.delete(shard.key);
    shard.client.disconnect();
    const gone = new ServerNotRunningError('subscriber closed');
    for (const waiters of shard.toSubscribe.values()) for (const waiter of waiters) waiter.reject(gone);
    shard.toSubscribe.clear();
  }

  /** Resubscribe everything `shard` should hold; true once all of it is acknowledged. */
  private resync(shard: Shard): Promise<boolean> {
    const generation = shard.generation;
    shard.topics.clear();
    for (const topic of this.desired) {
      if (this.shardOf(topic) === shard && !shard.toSubscribe.has(topic)) shard.toSubscribe.set(topic, []);
    }
    if (shard.probeTopic !== '' && !shard.toSubscribe.has(shard.probeTopic))
      shard.toSubscribe.set(shard.probeTopic, []);
    const syncing = this.flush(shard).then((ok) => {
      if (shard.generation !== generation || shard.syncing !== syncing) return ok;
      shard.syncing = null;
      shard.syncs++;
      if (!ok) this.context.logger.warn({ shard: shard.key }, 'redis resubscription incomplete');
      this.maybeResume();
      return ok;
    });
    shard.syncing = syncing;
    return syncing;
  }

  private maybeResume(): void {
    if (!this.resumePending || !this.ready || this.closed) return;
    this.resumePending = false;
    this.context.logger.info({ shards: this.shards.size }, 'redis subscriptions restored');
    this.events.resumed();
  }

  // ---------------------------------------------------------------- batching

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.closed) return;
      for (const shard of this.shards.values()) void this.flush(shard);
    });
  }

  /** Send what `shard` has queued; true once every SUBSCRIBE sent is acknowledged. */
  private flush(shard: Shard): Promise<boolean> {
    const subscribe = [...shard.toSubscribe];
    const unsubscribe = [...shard.toUnsubscribe];
    shard.toSubscribe.clear();
    shard.toUnsubscribe.clear();
    if (!shard.ready) {
      // The resubscription on reconnect covers every wanted topic; the callers hear now.
      const error = unavailable(`subscriber ${shard.key} is ${shard.client.status}`);
      for (const [, waiters] of subscribe) for (const waiter of waiters) waiter.reject(error);
      return Promise.resolve(false);
    }
    for (const group of this.groups(unsubscribe)) {
      for (const topic of group) shard.topics.delete(topic);
      const sent = this.sharded ? shard.client.sunsubscribe(...group) : shard.client.unsubscribe(...group);
      sent.catch((error: unknown) => {
        this.context.logger.debug({ err: error, shard: shard.key }, 'redis unsubscribe failed');
      });
    }
    const waitersOf = new Map(subscribe);
    const acks = this.groups(subscribe.map(([topic]) => topic)).map((group) => {
      const batch: Batch = { waiters: group.flatMap((topic) => waitersOf.get(topic) ?? []) };
      for (const topic of group) shard.topics.set(topic, batch);
      const generation = shard.generation;
      const sent = this.sharded ? shard.client.ssubscribe(...group) : shard.client.subscribe(...group);
      return sent.then(
        () => {
          for (const topic of group) if (shard.topics.get(topic) === batch) shard.topics.set(topic, true);
          for (const waiter of batch.waiters) waiter.resolve();
          return true;
        },
        (error: unknown) => {
          for (const topic of group) if (shard.topics.get(topic) === batch) shard.topics.delete(topic);
          const failure = toBackendError(error, 'subscribe');
          for (const waiter of batch.waiters) waiter.reject(failure);
          this.subscribeFailed(shard, generation, error);
          return false;
        },
      );
    });
    return Promise.all(acks).then((results) => !results.includes(false));
  }

  /**
   * A SUBSCRIBE failed on a connection that is still up: a MOVED slot means the topology changed; a
   * timeout means the connection is not answering, so it is reopened (and resubscribed in full).
   */
  private subscribeFailed(shard: Shard, generation: number, error: unknown): void {
    if (this.closed || shard.generation !== generation || !shard.ready) return;
    const message = error instanceof Error ? error.message : String(error);
    this.context.logger.warn({ err: error, shard: shard.key }, 'redis subscribe failed');
    if (message.startsWith('MOVED') || message.startsWith('CLUSTERDOWN')) {
      this.resumePending = true;
      this.scheduleRefresh();
    } else if (!(error instanceof Error && error.name === 'ReplyError')) {
      shard.client.disconnect(true);
    }
  }

  /** Topics in groups one command may carry: at most BATCH_SIZE, and one slot per command on a cluster. */
  private groups(topics: readonly string[]): string[][] {
    if (topics.length === 0) return [];
    const bySlot = new Map<number, string[]>();
    for (const topic of topics) {
      const slot = this.sharded ? hashSlot(topic) : 0;
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [topic]);
      else group.push(topic);
    }
    const groups: string[][] = [];
    for (const group of bySlot.values()) {
      for (let i = 0; i < group.length; i += BATCH_SIZE) groups.push(group.slice(i, i + BATCH_SIZE));
    }
    return groups;
  }

  // ---------------------------------------------------------------- cluster topology

  private shardOf(topic: string): Shard | undefined {
    if (!this.sharded) return this.shards.get('main');
    const owner = this.owners[hashSlot(topic)];
    return owner === undefined ? undefined : this.shards.get(owner);
  }

  private scheduleRefresh(): void {
    if (this.refreshing !== null || this.closed) return;
    this.refreshing = this.refreshTopology()
      .catch((error: unknown) => {
        this.context.logger.warn({ err: error }, 'redis cluster topology refresh failed');
      })
      .finally(() => {
        this.refreshing = null;
      });
  }

  /**
   * Read CLUSTER SLOTS; open a connection to each new master and close those owning no slot any more;
   * move every topic to its slot's owner and resubscribe the shards whose topics changed.
   */
  private async refreshTopology(): Promise<void> {
    let reply: unknown;
    try {
      reply = await this.context.client.call('CLUSTER', 'SLOTS');
    } catch (error) {
      throw toBackendError(error, 'CLUSTER SLOTS');
    }
    if (this.closed) return;
    const owners: string[] = new Array<string>(CLUSTER_SLOTS);
    const masters = new Map<string, { host: string; port: number }>();
    const fallbackHost = this.context.address.hosts[0]?.host ?? '127.0.0.1';
    for (const range of reply as [number, number, [string, number, ...unknown[]]][]) {
      const [first, last, [host, port]] = range;
      const address = { host: host === '' ? fallbackHost : host, port: Number(port) };
      const key = `${address.host}:${address.port}`;
      masters.set(key, address);
      for (let slot = first; slot <= last; slot++) owners[slot] = key;
    }
    if (masters.size === 0) throw unavailable('the cluster has no slots assigned');
    const previous = this.owners;
    this.owners = owners;
    const touched = new Set<Shard>();
    for (const [key, host] of masters) {
      if (this.shards.has(key)) continue;
      touched.add(this.addShard(key, { ...this.context.address, topology: 'standalone', hosts: [host] }));
    }
    for (const shard of [...this.shards.values()]) {
      if (masters.has(shard.key)) continue;
      if (this.started) this.resumePending = true;
      this.dropShard(shard);
    }
    for (const shard of this.shards.values()) {
      const probe = this.probeTopicFor(shard.key);
      if (probe !== shard.probeTopic) {
        const old = shard.probeTopic;
        if (old !== '' && !this.desired.has(old) && shard.topics.has(old))
          shard.toUnsubscribe.add(shard.probeTopic);
        shard.probeTopic = probe;
        touched.add(shard);
      }
    }
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (previous[slot] === owners[slot]) continue;
      const shard = this.shards.get(owners[slot] as string);
      if (shard !== undefined) touched.add(shard);
    }
    // After a moved slot or a lost connection, resubscribe everything on the shards still up: SSUBSCRIBE is
    // idempotent, and an unsolicited SUNSUBSCRIBE does not say which channels it dropped.
    for (const shard of this.shards.values()) {
      if (this.resumePending || touched.has(shard)) {
        if (shard.ready) void this.resync(shard);
      }
    }
    this.maybeResume();
  }

  /** This node's own topic when `shard` owns its slot, else the first `probeTopic(nodeId, n)` it owns. */
  private probeTopicFor(shard: string): string {
    const own = this.context.keys.nodeTopic(this.context.nodeId);
    if (this.owners[hashSlot(own)] === shard) return own;
    // A master owning k slots is hit once in 16384/k tries on average; the bound only guards a bug.
    for (let n = 0; n < 100 * CLUSTER_SLOTS; n++) {
      const topic = this.context.keys.probeTopic(this.context.nodeId, n);
      if (this.owners[hashSlot(topic)] === shard) return topic;
    }
    return own;
  }
}

function unavailable(why: string): BackendUnavailableError {
  return new BackendUnavailableError(`redis unavailable: ${why}`);
}
