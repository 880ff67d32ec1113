/**
 * The connections one generator process holds, and what arrives on them: receipts with their latency,
 * heartbeats answered, acks awaited, unexpected closes. Sockets bind loopback source addresses of
 * this generator's own (see sourceAddress), so ephemeral ports never run out.
 */
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { Histogram } from '../stats/histogram.js';
import { forEachFrame } from './dialect.js';
import type { Dialect, Outbound } from './dialect.js';
import type { ConnectParams, ConnectResult, Counters, GeneratorInit, SubscribeParams } from './plan.js';
import { inRange, roomOf, sourceAddress } from './plan.js';
import { PollSocket } from './poll-dialect.js';
import type { PollSink } from './poll-dialect.js';
import { SseStream } from './sse-stream.js';
import type { SseSink } from './sse-stream.js';
import { StreamSocket, Uplink } from './sse-dialect.js';
import { bytesReadOf } from './socket-bytes.js';
import { nowMs, readTimestamp } from './timestamp.js';

/** What the pool needs of a connection: a WebSocket, or an SSE stream (see Dialect.streams). */
export interface ClientSocket {
  send(data: Outbound): void;
  close(code?: number): void;
  terminate(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** This process's CPU time so far (µs, user + system). */
function cpuNow(): number {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
}

/** Times a refused subscribe is retried before it counts as failed. */
const MAX_SUBSCRIBE_RETRIES = 5;

/** A connection's life, as the generator sees it. */
export type ClientState = 'connecting' | 'ready' | 'closing' | 'closed';

/** One held connection. */
export interface Client {
  readonly index: number;
  ws: ClientSocket | null;
  /** Its path and query (credentials included); a stream's subscribe reuses the query. */
  path: string;
  /** The TCP socket under `ws` (from the upgrade response), to reset it when the run ends. */
  socket: Socket | null;
  state: ClientState;
  /** Churn connections' receipts are not counted: only the stable members' are expected. */
  readonly churn: boolean;
  startedAt: number;
  acksPending: number;
  /** The room of its last subscribe (retried when refused), or null. */
  room: string | null;
  /** Refused subscribes retried so far. */
  retries: number;
  /** Called once when the connection became usable, or failed before it did. */
  onSettled: ((ok: boolean) => void) | null;
  /** Called when the connection closes after it was ready and we did not close it. */
  onLost: ((client: Client) => void) | null;
  /** Called when every subscription sent on it was acknowledged. */
  onAcked: (() => void) | null;
}

/** The connections of one generator. */
export class ClientPool {
  /** Stable connections, by local index. */
  readonly clients: Client[] = [];
  private received = 0;
  /** {@link bytesRead} at the last counters reset. */
  private bytesReadBase = 0;
  /** WebSocket messages that carried at least one `message` frame (fewer than `received` when batched). */
  private carriers = 0;
  private published = 0;
  /** Received messages answered (inbox acks sent). */
  private acknowledged = 0;
  private pings = 0;
  /** Subscribes refused (retried up to MAX_SUBSCRIBE_RETRIES times), the first refusal, and those given up. */
  private nacks = 0;
  private firstNack = '';
  private subscribeFailures = 0;
  /** Frames of no kind the generator expects (errors, unsubscribed pushes, ...), and the first of them. */
  private others = 0;
  private firstOther = '';
  private unexpectedCloses = 0;
  private readonly latency = new Histogram();
  private acksOutstanding = 0;
  private acksDrained: (() => void) | null = null;
  /** Sockets opened so far (reconnects and churn included): picks the source address. */
  private opened = 0;
  /** Streaming dialects: where the target's streams are, the WebSocket for sends, and the streams' sink. */
  private uplinkSocket: Uplink | null = null;
  private readonly streamSink: SseSink = {
    event: (stream, event) => {
      const client = stream.client as Client;
      if (client.ws instanceof StreamSocket && client.ws.stream === stream) this.onMessage(client, event);
    },
    closed: (stream) => {
      const client = stream.client as Client;
      const current = client.ws instanceof StreamSocket && client.ws.stream === stream;
      (stream.handle as StreamSocket).emitClose();
      if (current) this.onClose(client);
    },
  };

  /** Polling dialects: the keep-alive sockets of every connection's polls and POSTs. */
  private pollAgent: Agent | null = null;
  private readonly pollSink: PollSink = {
    frames: (socket, frames) => {
      const client = socket.client as Client;
      if (client.ws === socket) this.onMessage(client, frames);
    },
    closed: (socket) => {
      const client = socket.client as Client;
      if (client.ws === socket) this.onClose(client);
    },
  };

  constructor(
    private readonly init: GeneratorInit,
    private readonly dialect: Dialect,
  ) {}

  /** Connections currently ready. */
  openCount(): number {
    let open = 0;
    for (const client of this.clients) if (client.state === 'ready') open++;
    return open;
  }

  /** Count a message sent by a publisher. */
  countPublished(n: number): void {
    this.published += n;
  }

  /** Start connecting `client` (a new one, or a lost one reconnecting), with `path` if already known. */
  async open(client: Client, timeoutMs: number, known?: string): Promise<void> {
    const path = known ?? (await this.dialect.path(client.index));
    client.state = 'connecting';
    client.acksPending = 0;
    client.startedAt = performance.now();
    client.path = path;
    if (this.dialect.streams === true) {
      this.openStream(client, path, timeoutMs);
      return;
    }
    if (this.dialect.polls === true) {
      this.openPoll(client, path, timeoutMs);
      return;
    }
    const ws = new WebSocket(this.init.url + path, this.dialect.subprotocol ?? [], {
      localAddress: sourceAddress(this.init.addressPrefix, this.opened++),
      // With deflate, the clients offer it (ws's default offer) but never compress what they send: the
      // figure is the fan-out's, and a compressed publish is inflated asynchronously (one message per
      // event-loop turn), which would change how the server batches publishes that arrive together.
      perMessageDeflate: this.init.deflate ? { threshold: Number.MAX_SAFE_INTEGER } : false,
      skipUTF8Validation: true,
      handshakeTimeout: timeoutMs,
    });
    client.ws = ws;
    ws.once('upgrade', (response) => (client.socket = response.socket));
    ws.on('open', () => {
      if (this.dialect.readyOnOpen) this.settle(client, true);
    });
    ws.on('message', (data: Buffer) => this.onMessage(client, data));
    ws.on('error', () => undefined); // 'close' follows every 'error'
    ws.on('close', () => this.onClose(client));
  }

  /** Open an SSE stream on `path` for `client`, replacing (and cutting) the one it had. */
  private openStream(client: Client, path: string, timeoutMs: number): void {
    const url = new URL(this.init.url);
    const localAddress = sourceAddress(this.init.addressPrefix, this.opened++);
    this.uplinkSocket ??= new Uplink(this.init.url, this.init.jwtSecret, localAddress);
    const stream = new SseStream(
      url.hostname,
      Number(url.port),
      path,
      localAddress,
      timeoutMs,
      this.streamSink,
    );
    const socket = new StreamSocket(stream, this.uplinkSocket);
    stream.client = client;
    stream.handle = socket;
    const old = client.ws;
    client.ws = socket;
    client.socket = stream.socket;
    old?.terminate();
  }

  /** Open a long-polling connection on `path` for `client`. */
  private openPoll(client: Client, path: string, timeoutMs: number): void {
    const url = new URL(this.init.url);
    this.pollAgent ??= new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
    const socket = new PollSocket(
      this.pollAgent,
      url.hostname,
      Number(url.port),
      path,
      sourceAddress(this.init.addressPrefix, this.opened++),
      timeoutMs,
      this.pollSink,
    );
    socket.client = client;
    client.ws = socket;
    client.socket = null;
  }

  /** The connection of `client` is gone. */
  private onClose(client: Client): void {
    const was = client.state;
    client.state = 'closed';
    client.ws = null;
    client.socket = null;
    if (client.acksPending > 0) this.ackDone(client.acksPending, client);
    if (was === 'connecting') this.settle(client, false);
    else if (was === 'ready') {
      if (!client.churn) this.unexpectedCloses++;
      client.onLost?.(client);
    }
  }

  /** Send `client`'s subscribe to `room`; a streaming dialect replaces its stream instead. */
  private sendSubscribe(client: Client, room: string, id: number): void {
    const request = this.dialect.subscribe(room, id);
    if (this.dialect.streams !== true) client.ws?.send(request);
    else this.openStream(client, request + client.path.slice(client.path.indexOf('?')), 60_000);
  }

  private settle(client: Client, ok: boolean): void {
    if (ok) client.state = 'ready';
    const settled = client.onSettled;
    client.onSettled = null;
    settled?.(ok);
  }

  /** One WebSocket message: one frame, or several separated by newlines when the dialect batches. */
  private onMessage(client: Client, data: Buffer): void {
    const before = this.received;
    const split = this.dialect.split ?? (this.dialect.newlineBatches ? forEachFrame : null);
    if (split !== null) split(data, (frame) => this.onFrame(client, frame));
    else this.onFrame(client, data);
    if (this.received !== before) this.carriers++;
  }

  private onFrame(client: Client, data: Buffer): void {
    const kind = this.dialect.classify(data);
    switch (kind) {
      case 'message': {
        if (client.churn) return;
        this.received++;
        const ts = this.dialect.timestamp?.(data) ?? readTimestamp(data);
        if (ts === ts) this.latency.record((nowMs() - ts) * 1000);
        const answer = this.dialect.acknowledge?.(data) ?? null;
        if (answer !== null) {
          client.ws?.send(answer);
          this.acknowledged++;
        }
        return;
      }
      case 'ping':
      case 'handshake': {
        if (kind === 'ping') this.pings++;
        const answer = this.dialect.answer(kind);
        if (answer !== null) client.ws?.send(answer);
        return;
      }
      case 'ready':
        if (client.state === 'connecting') this.settle(client, true);
        else if (this.dialect.streams === true && client.acksPending > 0) this.ackDone(1, client);
        return;
      case 'ack':
        if (client.acksPending > 0) this.ackDone(1, client);
        return;
      case 'nack':
        if (this.nacks++ === 0) this.firstNack = data.toString('utf8', 0, Math.min(data.length, 200));
        if (client.acksPending > 0) this.refused(client);
        return;
      default:
        if (this.others++ === 0) this.firstOther = data.toString('utf8', 0, Math.min(data.length, 200));
        return;
    }
  }

  /**
   * A subscribe was refused: retry it after a full-jitter backoff (as the SDK does with a temporary
   * error), at most MAX_SUBSCRIBE_RETRIES times, then give up on it (counted).
   */
  private refused(client: Client): void {
    const room = client.room;
    if (room === null || client.retries >= MAX_SUBSCRIBE_RETRIES) {
      this.subscribeFailures++;
      this.ackDone(1, client);
      return;
    }
    client.retries++;
    const delay = Math.random() * Math.min(3000, 100 * 2 ** client.retries);
    setTimeout(() => {
      // A connection that closed meanwhile settled its pending acks in its close handler.
      if (client.state === 'ready' && client.ws !== null) this.sendSubscribe(client, room, client.retries);
    }, delay);
  }

  private ackDone(n: number, client: Client): void {
    client.acksPending -= n;
    this.acksOutstanding -= n;
    if (this.acksOutstanding <= 0 && this.acksDrained !== null) {
      const drained = this.acksDrained;
      this.acksDrained = null;
      drained();
    }
    if (client.acksPending === 0 && client.state === 'ready') client.onAcked?.();
  }

  /** A new client record with global index `index`. */
  newClient(index: number, churn: boolean): Client {
    return {
      index,
      ws: null,
      path: '',
      socket: null,
      state: 'closed',
      churn,
      startedAt: 0,
      acksPending: 0,
      room: null,
      retries: 0,
      onSettled: null,
      onLost: null,
      onAcked: null,
    };
  }

  /**
   * Open `count` more stable connections, at most `concurrency` handshakes in flight. Credentials are
   * prepared first (Switchboard's JWTs), so the wave's time is the handshakes' alone.
   */
  async connect(params: ConnectParams): Promise<ConnectResult> {
    const paths = await Promise.all(
      Array.from({ length: params.count }, (_, k) => this.dialect.path(params.firstIndex + k)),
    );
    const started = performance.now();
    const times = new Histogram();
    const readyPer100Ms: number[] = [];
    let launched = 0;
    let done = 0;
    let ready = 0;
    return new Promise<ConnectResult>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        resolve({
          ready,
          failed: params.count - ready,
          elapsedMs: performance.now() - started,
          connectTimes: times.snapshot(),
          readyPer100Ms,
        });
      };
      const timer = setTimeout(finish, params.timeoutMs);
      const launch = (): void => {
        while (launched < params.count && launched - done < params.concurrency) {
          const client = this.newClient(params.firstIndex + launched, false);
          this.clients.push(client);
          launched++;
          client.onSettled = (ok) => {
            done++;
            if (ok) {
              ready++;
              const now = performance.now();
              times.record((now - client.startedAt) * 1000);
              const slot = Math.floor((now - started) / 100);
              while (readyPer100Ms.length <= slot) readyPer100Ms.push(0);
              readyPer100Ms[slot] = (readyPer100Ms[slot] ?? 0) + 1;
            }
            if (done === params.count) finish();
            else launch();
          };
          void this.open(client, params.timeoutMs, paths[launched - 1]).catch(() =>
            client.onSettled?.(false),
          );
        }
      };
      if (params.count === 0) finish();
      else launch();
    });
  }

  /** Send a subscribe for `client` to `room`, expecting an ack. */
  subscribeOne(client: Client, room: string): boolean {
    if (client.state !== 'ready' || client.ws === null) return false;
    client.acksPending++;
    this.acksOutstanding++;
    client.room = room;
    client.retries = 0;
    this.sendSubscribe(client, room, client.acksPending);
    return true;
  }

  /** Subscribe the held connections in `params.range` to their rooms and wait for every ack. */
  async subscribe(params: SubscribeParams): Promise<{ subscribed: number; elapsedMs: number }> {
    const started = performance.now();
    let subscribed = 0;
    for (const client of this.clients.filter((c) => inRange(params.range, c.index))) {
      if (this.subscribeOne(client, roomOf(params.rooms, client.index))) subscribed++;
      // Yield now and then so that replies are read while thousands of subscribes go out.
      if (subscribed % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.acksOutstanding > 0) {
      // Created only now: acks may have caught up with the sends (outstanding 0) during a yield above.
      const drained = new Promise<void>((resolve) => (this.acksDrained = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, params.timeoutMs)));
      await Promise.race([drained, timedOut]);
      clearTimeout(timer);
      this.acksDrained = null;
      if (this.acksOutstanding > 0)
        throw new Error(`${this.acksOutstanding} subscriptions were not acknowledged`);
    }
    return { subscribed, elapsedMs: performance.now() - started };
  }

  /** Receipts and health since the last reset. */
  counters(reset: boolean, withLatency: boolean): Counters {
    const bytesRead = bytesReadOf(this.clients);
    const counters: Counters = {
      received: this.received,
      bytesRead: bytesRead - this.bytesReadBase,
      carriers: this.carriers,
      published: this.published,
      acknowledged: this.acknowledged,
      cpuMicros: cpuNow(),
      latency: withLatency ? this.latency.snapshot() : null,
      pings: this.pings,
      subscribeErrors: this.nacks,
      firstSubscribeError: this.firstNack,
      subscribeFailures: this.subscribeFailures,
      others: this.others,
      firstOther: this.firstOther,
      unexpectedCloses: this.unexpectedCloses,
      open: this.openCount(),
    };
    if (reset) {
      this.bytesReadBase = bytesRead;
      this.received = 0;
      this.carriers = 0;
      this.published = 0;
      this.acknowledged = 0;
      this.pings = 0;
      this.others = 0;
      this.firstOther = '';
      this.nacks = 0;
      this.firstNack = '';
      this.subscribeFailures = 0;
      this.unexpectedCloses = 0;
      this.latency.reset();
    }
    return counters;
  }

  /** Close `client` on purpose (not counted as unexpected). */
  close(client: Client): void {
    if (client.ws === null) return;
    client.state = 'closing';
    client.ws.close(1000);
  }

  /**
   * Drop every stable connection with a TCP reset and wait (bounded) until they are gone. A reset
   * leaves no TIME_WAIT behind: with thousands of sockets bound to one source address, TIME_WAIT
   * entries would slow down every later bind() of the next run (the kernel scans for a free port).
   */
  async closeAll(timeoutMs: number): Promise<number> {
    let closed = 0;
    const waits: Promise<void>[] = [];
    for (const client of this.clients) {
      const ws = client.ws;
      if (ws === null) continue;
      closed++;
      waits.push(new Promise((resolve) => ws.once('close', () => resolve())));
      client.state = 'closing';
      if (client.socket !== null && !client.socket.destroyed) client.socket.resetAndDestroy();
      else ws.terminate();
    }
    this.uplinkSocket?.close();
    this.uplinkSocket = null;
    this.pollAgent?.destroy();
    this.pollAgent = null;
    await Promise.race([
      Promise.all(waits),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    this.clients.length = 0;
    return closed;
  }
}
