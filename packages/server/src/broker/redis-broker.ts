/**
 * The broker over Redis: publications and targeted sends travel on Redis pub/sub (sharded pub/sub on
 * Redis Cluster) and offsets come from the channel's stream, assigned by one Lua script that also appends
 * to history and publishes, so history order and delivery order always agree (docs/scaling.md).
 *
 * Topics: one per channel (publications and membership notices), one per user (direct messages,
 * disconnects), one per node (messages to its connections, disconnects) and one broadcast topic. A node
 * subscribes to a channel's or user's topic only while it holds members or connections there, and lets go
 * `unsubscribeDelayMs` after the last one left (a comeback within the delay keeps the subscription).
 *
 * Failures: while Redis is away, publish, send, subscribe and history reject at once with
 * BackendUnavailableError (no offline queue, a command timeout) and nothing queues up; when it is back,
 * every wanted topic is subscribed again and the hub's `onReconnected` checks every channel against its
 * stream. A probe through pub/sub catches a subscription that went silent without a disconnect.
 */
import type {
  Broker,
  BrokerHandler,
  EngineHealth,
  Envelope,
  Publication,
  PublicationInput,
} from './broker.js';
import { httpConnectionNode } from './broker.js';
import type { RedisContext } from '../redis/redis-context.js';
import type { NodeMembership } from '../nodes/node-registry.js';
import { connectClient, toBackendError } from '../redis/redis-connection.js';
import { candidateEpoch, publishScript } from '../redis/redis-scripts.js';
import { ServerNotRunningError } from '../errors.js';
import type { TimerHandle } from '../util/clock.js';
import { RedisSubscriber } from './redis-subscriber.js';
import { decodeMessage, encodeEnvelope, encodeEphemeral, encodeProbe, exclusionTail } from './redis-wire.js';
import type { WireTarget } from './redis-wire.js';

/** Options of {@link RedisBroker} (defaults are applied by createRedisEngine). */
export interface RedisBrokerOptions {
  /** A channel or user left by its last local member is unsubscribed this much later (ms). */
  readonly unsubscribeDelayMs: number;
  /** How often a probe goes through pub/sub to this node (ms). */
  readonly probeIntervalMs: number;
  /** A probe not back within this marks the subscription dead and reconnects it (ms). */
  readonly probeTimeoutMs: number;
  /** How long a publish's idempotency key is remembered (ms). */
  readonly idempotencyWindowMs: number;
  /** How long an idle stream's epoch and offset outlive its last use, and at least its messages (ms). */
  readonly streamTtlMs: number;
  /** Told as channels and users come and go on this node (the node registry's counts). */
  readonly membership?: NodeMembership;
}

/** A topic this node wants. */
interface Topic {
  readonly target: WireTarget;
  /** When it is unsubscribed (ms), while its last member is gone; null while wanted. */
  releaseAt: number | null;
}

/** An unanswered probe. */
interface Probe {
  readonly nonce: string;
  readonly sentAt: number;
  /** The subscription it went through (a reconnect since makes it moot). */
  readonly sync: number;
  /** Redis acknowledged the PUBLISH: from then on, only the subscriber can lose it. */
  accepted: boolean;
}

type BrokerState = 'idle' | 'starting' | 'running' | 'closed';

/** The broker over Redis pub/sub (sharded on Cluster) with Streams for offsets and history. */
export class RedisBroker implements Broker {
  private state: BrokerState = 'idle';
  private handler: BrokerHandler | null = null;
  private subscriber: RedisSubscriber | null = null;
  private readonly sharded: boolean;
  private readonly topics = new Map<string, Topic>();
  /** Released topics and when they go; one delay for all, so insertion order is time order. */
  private readonly releasing = new Map<string, number>();
  private releaseTimer: TimerHandle | null = null;
  private probeTimer: TimerHandle | null = null;
  /** Probes in flight by shard. */
  private readonly probes = new Map<string, Probe>();
  /** Shards whose last probe timed out (until one gets through again). */
  private readonly silent = new Set<string>();
  /** A probe's PUBLISH timed out: the command connection looks open but gets no answers. */
  private commandsStalled = false;
  /** The subscriptions are back but the command connection is not: the hub's check waits for it. */
  private reconnectPending = false;
  private probeCount = 0;
  private lastProbeRttMs: number | null = null;
  private lastProbeAt: number | null = null;
  private readonly onClientError = (error: Error): void => {
    this.context.logger.debug({ err: error }, 'redis command client error');
  };
  private readonly onClientClose = (): void => {
    if (this.state === 'running') this.context.logger.warn({}, 'redis command connection lost');
  };
  private readonly onClientReady = (): void => {
    if (this.state !== 'running') return;
    // A fresh connection that passed the client's ready check answers commands.
    this.commandsStalled = false;
    this.context.logger.info({}, 'redis command connection ready');
    if (this.reconnectPending) this.reconnected();
  };

  constructor(
    readonly context: RedisContext,
    readonly options: RedisBrokerOptions,
  ) {
    this.sharded = context.address.topology === 'cluster';
  }

  /** Connect (the shared command client, then the subscriber connections); rejects with BackendUnavailableError. */
  async start(handler: BrokerHandler): Promise<void> {
    if (this.state !== 'idle') throw new ServerNotRunningError(`cannot start a broker that is ${this.state}`);
    this.state = 'starting';
    this.handler = handler;
    const { client, keys, nodeId, clock } = this.context;
    client.on('error', this.onClientError);
    client.on('close', this.onClientClose);
    client.on('ready', this.onClientReady);
    const subscriber = new RedisSubscriber(this.context, {
      message: (shard, topic, message) => this.onMessage(shard, topic, message),
      resumed: () => this.reconnected(),
    });
    this.subscriber = subscriber;
    this.topics.set(keys.nodeTopic(nodeId), { target: { kind: 'node' }, releaseAt: null });
    this.topics.set(keys.broadcastTopic(), { target: { kind: 'broadcast' }, releaseAt: null });
    try {
      await connectClient(client, 'command client');
      await subscriber.start([...this.topics.keys()]);
    } catch (error) {
      await this.close();
      throw toBackendError(error, 'connecting');
    }
    if (this.state !== 'starting') throw new ServerNotRunningError('broker closed while starting');
    this.probeTimer = clock.setInterval(() => this.probe(), this.options.probeIntervalMs);
    this.state = 'running';
  }

  async publish(channel: string, input: PublicationInput): Promise<Publication> {
    if (this.state !== 'running') throw new ServerNotRunningError('broker is not started');
    const { client, keys, clock } = this.context;
    const time = clock.now();
    const topic = keys.channelTopic(channel);
    const base = { channel, json: input.json, ephemeral: input.ephemeral, time };
    const publication: Publication = input.exclude === undefined ? base : { ...base, exclude: input.exclude };
    if (input.ephemeral) {
      await this.deliver(topic, encodeEphemeral(time, input.exclude, input.json), 'publish');
      return publication;
    }
    const scriptKeys = [keys.meta(channel), keys.stream(channel)];
    if (input.idempotencyKey !== undefined && this.options.idempotencyWindowMs > 0)
      scriptKeys.push(keys.idempotency(channel, input.idempotencyKey));
    let reply: unknown;
    try {
      reply = await publishScript.run(client, scriptKeys, [
        candidateEpoch(),
        input.json,
        time,
        Math.max(0, Math.floor(input.history.size)),
        milliseconds(input.history.ttlMs),
        milliseconds(this.options.streamTtlMs),
        milliseconds(this.options.idempotencyWindowMs),
        topic,
        exclusionTail(input.exclude),
        this.sharded ? 'SPUBLISH' : 'PUBLISH',
      ]);
    } catch (error) {
      throw toBackendError(error, 'publish');
    }
    const [duplicate, ...rest] = reply as [number, ...(string | number)[]];
    if (duplicate === 1) {
      // "<offset> <epoch> <time>" of the first publish with this key.
      const [offset = '0', epoch = '', firstTime = '0'] = String(rest[0]).split(' ');
      return { ...publication, id: Number(offset), epoch, time: Number(firstTime), duplicate: true };
    }
    return { ...publication, id: Number(rest[0]), epoch: String(rest[1]) };
  }

  async send(envelope: Envelope): Promise<void> {
    if (this.state !== 'running') throw new ServerNotRunningError('broker is not started');
    const { keys } = this.context;
    let topic: string;
    switch (envelope.kind) {
      case 'user':
      case 'inbox':
      case 'disconnect-user':
        topic = keys.userTopic(envelope.userId);
        break;
      case 'connection':
      case 'disconnect-connection': {
        // Connection ids are `<nodeId>-<counter>`: the node is everything before the last '-'.
        const dash = envelope.connectionId.lastIndexOf('-');
        if (dash <= 0) return; // not a connection of any node: nobody to reach
        topic = keys.nodeTopic(envelope.connectionId.slice(0, dash));
        break;
      }
      case 'broadcast':
      case 'queue':
        topic = keys.broadcastTopic();
        break;
      case 'http-frames': {
        const node = httpConnectionNode(envelope.connection);
        if (node === '') return;
        topic = keys.nodeTopic(node);
        break;
      }
      case 'membership':
        topic = keys.channelTopic(envelope.channel);
        break;
    }
    await this.deliver(topic, encodeEnvelope(envelope), envelope.kind);
  }

  /** Resolves once Redis has acknowledged the subscription (the hub reads the stream position after it). */
  subscribe(channel: string): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new ServerNotRunningError('broker is not started'));
    return this.want(this.context.keys.channelTopic(channel), { kind: 'channel', channel });
  }

  unsubscribe(channel: string): Promise<void> {
    this.release(this.context.keys.channelTopic(channel));
    return Promise.resolve();
  }

  watchUser(userId: string): void {
    if (this.state !== 'running') return;
    this.want(this.context.keys.userTopic(userId), { kind: 'user', userId }).catch((error: unknown) => {
      // Still wanted: subscribed again as soon as Redis is back.
      this.context.logger.debug({ err: error, userId }, 'user topic subscribe failed');
    });
  }

  unwatchUser(userId: string): void {
    this.release(this.context.keys.userTopic(userId));
  }

  /** Ready when the command client and every subscriber connection are up and the last probe got through. */
  health(): EngineHealth {
    const subscriber = this.subscriber;
    const details = {
      commandClient: this.context.client.status,
      subscribers: subscriber?.states() ?? {},
      subscriptions: subscriber?.size ?? 0,
      silentShards: [...this.silent],
      lastProbeRttMs: this.lastProbeRttMs,
      lastProbeAt: this.lastProbeAt,
    };
    if (this.state !== 'running' || subscriber === null) {
      return { ready: false, reason: this.state === 'closed' ? 'closed' : 'not started', details };
    }
    if (this.context.client.status !== 'ready') return { ready: false, reason: 'redis unreachable', details };
    if (this.commandsStalled) return { ready: false, reason: 'redis commands timed out', details };
    if (!subscriber.ready) return { ready: false, reason: 'redis pub/sub disconnected', details };
    if (this.silent.size > 0) return { ready: false, reason: 'pub/sub probe timed out', details };
    return { ready: true, details };
  }

  /** Stop delivering and close the subscriber connections (the shared command client is the engine's). */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closed';
    this.probeTimer?.cancel();
    this.releaseTimer?.cancel();
    this.probeTimer = null;
    this.releaseTimer = null;
    this.subscriber?.close();
    this.topics.clear();
    this.releasing.clear();
    this.probes.clear();
    this.handler = null;
    const { client } = this.context;
    client.off('error', this.onClientError);
    client.off('close', this.onClientClose);
    client.off('ready', this.onClientReady);
    return Promise.resolve();
  }

  /**
   * Every subscription is back: tell the hub, which checks each channel against its stream. That check
   * reads history, so it waits for the command connection too (the two reconnect independently).
   */
  private reconnected(): void {
    if (!this.commandsReady) {
      this.reconnectPending = true;
      return;
    }
    this.reconnectPending = false;
    try {
      this.handler?.onReconnected();
    } catch (error) {
      this.context.logger.error({ err: error }, 'reconnect handler failed');
    }
  }

  // ---------------------------------------------------------------- topics

  /** Want `topic` (cancelling a pending release); resolves once Redis has acknowledged it. */
  private want(topic: string, target: WireTarget): Promise<void> {
    const entry = this.topics.get(topic);
    if (entry === undefined) {
      this.topics.set(topic, { target, releaseAt: null });
      this.membership(target, true);
    } else if (entry.releaseAt !== null) {
      entry.releaseAt = null;
      this.releasing.delete(topic);
    }
    return (this.subscriber as RedisSubscriber).add(topic);
  }

  /** Let go of `topic` after the unsubscribe delay (one timer for all releases). */
  private release(topic: string): void {
    const entry = this.topics.get(topic);
    if (entry === undefined || entry.releaseAt !== null || this.state !== 'running') return;
    if (this.options.unsubscribeDelayMs <= 0) {
      this.drop(topic, entry);
      return;
    }
    entry.releaseAt = this.context.clock.now() + this.options.unsubscribeDelayMs;
    this.releasing.set(topic, entry.releaseAt);
    this.armRelease();
  }

  private armRelease(): void {
    if (this.releaseTimer !== null) return;
    const next = this.releasing.values().next();
    if (next.done === true) return;
    const wait = Math.max(0, next.value - this.context.clock.now());
    this.releaseTimer = this.context.clock.setTimeout(() => this.sweepReleases(), wait);
  }

  private sweepReleases(): void {
    this.releaseTimer = null;
    const now = this.context.clock.now();
    for (const [topic, at] of this.releasing) {
      if (at > now) break;
      this.releasing.delete(topic);
      const entry = this.topics.get(topic);
      if (entry !== undefined && entry.releaseAt === at) this.drop(topic, entry);
    }
    this.armRelease();
  }

  private drop(topic: string, entry: Topic): void {
    this.topics.delete(topic);
    this.subscriber?.remove(topic);
    this.membership(entry.target, false);
  }

  /** Tell the node registry (fire and forget: it never throws, but a bug there must not break routing). */
  private membership(target: WireTarget, added: boolean): void {
    const membership = this.options.membership;
    if (membership === undefined) return;
    try {
      if (target.kind === 'channel') {
        if (added) membership.channelAdded(target.channel);
        else membership.channelRemoved(target.channel);
      } else if (target.kind === 'user') {
        if (added) membership.userAdded(target.userId);
        else membership.userRemoved(target.userId);
      }
    } catch (error) {
      this.context.logger.warn({ err: error }, 'node membership update failed');
    }
  }

  // ---------------------------------------------------------------- delivery

  /** PUBLISH (SPUBLISH on a cluster) through the command client; resolves with the receiving subscribers. */
  private async deliver(topic: string, message: string, what: string): Promise<number> {
    const { client } = this.context;
    try {
      return Number(
        this.sharded ? await client.spublish(topic, message) : await client.publish(topic, message),
      );
    } catch (error) {
      throw toBackendError(error, what);
    }
  }

  private onMessage(shard: string, topic: string, message: string): void {
    const handler = this.handler;
    if (handler === null) return;
    if (message.startsWith('P ')) {
      this.probeAnswered(shard, message.slice(2));
      return;
    }
    const entry = this.topics.get(topic);
    if (entry === undefined) return; // released a moment ago
    const decoded = decodeMessage(message, entry.target);
    if (decoded === null) {
      this.context.logger.warn({ topic, head: message.slice(0, 40) }, 'malformed pub/sub message dropped');
      return;
    }
    if (decoded.type === 'publication') handler.onPublication(decoded.publication);
    else if (decoded.type === 'envelope') handler.onEnvelope(decoded.envelope);
  }

  // ---------------------------------------------------------------- probe

  /**
   * Every probe interval, per shard: a probe that Redis accepted but that has not come back within the probe
   * timeout means the subscription is silent, so the subscriber is reconnected. A probe Redis has not even
   * accepted says nothing about the subscriber (the command connection is the one in trouble: its own
   * timeout reopens it). Otherwise a new probe goes out through the command connection.
   */
  private probe(): void {
    const subscriber = this.subscriber;
    if (subscriber === null || this.state !== 'running') return;
    const now = this.context.clock.now();
    const live = new Set<string>();
    for (const { shard, topic } of subscriber.probes()) {
      live.add(shard);
      const sync = subscriber.syncedAs(shard);
      const pending = this.probes.get(shard);
      if (pending !== undefined && pending.sync === sync) {
        if (!pending.accepted || now - pending.sentAt < this.options.probeTimeoutMs) continue;
        this.silence(shard, 'pub/sub probe timed out');
        continue;
      }
      // A probe sent before a reconnect was lost with the old connection, not by this one.
      this.probes.delete(shard);
      if (sync === null || !this.commandsReady) continue;
      const probe: Probe = { nonce: (++this.probeCount).toString(36), sentAt: now, sync, accepted: false };
      this.probes.set(shard, probe);
      this.deliver(topic, encodeProbe(probe.nonce), 'probe').then(
        (receivers) => {
          if (this.probes.get(shard) !== probe || subscriber.syncedAs(shard) !== sync) return;
          probe.accepted = true;
          // Redis itself says nobody listens: the subscription is gone, no need to wait for the timeout.
          if (receivers === 0) this.silence(shard, 'pub/sub probe found no subscriber');
        },
        (error: unknown) => {
          if (this.probes.get(shard) === probe) this.probes.delete(shard);
          if (timedOut(error)) this.commandsTimedOut();
        },
      );
    }
    for (const shard of this.probes.keys()) if (!live.has(shard)) this.probes.delete(shard);
    for (const shard of this.silent) if (!live.has(shard)) this.silent.delete(shard);
  }

  /** Mark `shard`'s subscription silent and reopen it (it resubscribes, then the hub checks its channels). */
  private silence(shard: string, why: string): void {
    this.probes.delete(shard);
    this.silent.add(shard);
    this.context.logger.warn({ shard, timeoutMs: this.options.probeTimeoutMs }, why);
    this.subscriber?.reconnect(shard);
  }

  /** The command connection is up and not known to be stalled. */
  private get commandsReady(): boolean {
    return this.context.client.status === 'ready' && !this.commandsStalled;
  }

  /**
   * A connection that stays open but never answers (a half-open TCP path) is not noticed by the client:
   * every command would time out until the OS gives up on the socket, hours later. Reopen it instead.
   */
  private commandsTimedOut(): void {
    if (this.state !== 'running' || this.commandsStalled) return;
    this.commandsStalled = true;
    this.context.logger.warn({}, 'redis commands time out: reopening the command connection');
    this.context.client.disconnect(true);
  }

  private probeAnswered(shard: string, nonce: string): void {
    const pending = this.probes.get(shard);
    if (pending === undefined || pending.nonce !== nonce) return;
    const now = this.context.clock.now();
    this.probes.delete(shard);
    this.lastProbeRttMs = now - pending.sentAt;
    this.lastProbeAt = now;
    if (this.silent.delete(shard)) this.context.logger.info({ shard }, 'pub/sub probe answered again');
  }
}

/** Whether a failed call was ioredis's command timeout (the server never answered). */
function timedOut(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  return cause instanceof Error && cause.message === 'Command timed out';
}

/** A duration for PEXPIRE/PX: a whole, non-negative number of milliseconds. */
function milliseconds(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.round(value)) : 2 ** 47;
}
