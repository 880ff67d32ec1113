/**
 * The roaming clients of one generator process (drain and failover scenarios): Switchboard protocol v1
 * connections (`/ws?batch=1&token=<jwt>`) that know every node's URL, reconnect as the SDK does when a
 * node drains or dies (roam-policy.ts), resubscribe to their room from their last position and check that
 * the replayed and live messages leave no hole (sequence-check.ts). Frames are parsed as JSON: these
 * scenarios measure reconnection and recovery, not the generator's cost per message.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { forEachFrame, startsWith } from './dialect.js';
import { sourceAddress } from './plan.js';
import { afterClose, roamConnected, roamState } from './roam-policy.js';
import type { RoamState } from './roam-policy.js';
import type { Refusals, RoamConnect, RoamProgress, RoamReport, RoamingInit } from './roaming-plan.js';
import { NO_FIGURES, SequenceCheck, addFigures } from './sequence-check.js';
import type { SubscribeResult } from './sequence-check.js';
import { nowMs, readNumberAfter } from './timestamp.js';

/** A roaming client's life: waiting for its next attempt, connecting, subscribing, ready, or stopped. */
type Phase = 'waiting' | 'connecting' | 'subscribing' | 'ready' | 'closed';

/** Refused subscribes retried (after a full-jitter delay) before the subscription counts as failed. */
const MAX_SUBSCRIBE_RETRIES = 8;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const PING = Buffer.from('{"type":"ping"}');
const MESSAGE = Buffer.from('{"type":"message"');
const ID = Buffer.from('"id":');
const DATA = Buffer.from('"data":');
const NUMBER = Buffer.from('"n":');

interface Roamer {
  readonly index: number;
  /** Node indices in the order this client tries them. */
  readonly urls: readonly number[];
  readonly room: number;
  readonly path: string;
  ws: WebSocket | null;
  socket: Socket | null;
  phase: Phase;
  /** Whether it was ready once: only then does a loss make it roam (a failed first connect just fails). */
  roaming: boolean;
  readonly roam: RoamState;
  readonly seq: SequenceCheck;
  /** The request id of its pending subscribe, and the refused ones retried. */
  subscribeId: number;
  subscribeRetries: number;
  /** How the current attempt failed, if it did (from the socket's error). */
  failure: 'http503' | 'httpOther' | 'connRefused' | 'other';
  timer: NodeJS.Timeout | null;
  lostAt: number;
  backAt: number;
  attempts: number;
  /** When its last subscribe reply arrived (epoch ms). */
  subscribedAt: number;
  onReady: ((ok: boolean) => void) | null;
}

interface Reply {
  readonly type: string;
  readonly id?: number;
  readonly channel?: string;
  readonly data?: unknown;
  readonly resubscribe?: boolean;
  /** The `connected` frame's server time (ms since the epoch). */
  readonly time?: number;
  readonly result?: SubscribeResult;
  readonly error?: { readonly code?: string; readonly message?: string; readonly temporary?: boolean };
}

function noRefusals(): Refusals {
  return { http503: 0, httpOther: 0, connRefused: 0, other: 0 };
}

/** How a socket error says the attempt failed. */
function failureOf(error: Error & { code?: string }): Roamer['failure'] {
  const status = /Unexpected server response: (\d+)/.exec(error.message);
  if (status !== null) return status[1] === '503' ? 'http503' : 'httpOther';
  return error.code === 'ECONNREFUSED' ? 'connRefused' : 'other';
}

/** The roaming clients of this process. */
export class RoamingPool {
  private readonly roamers: Roamer[] = [];
  private opened = 0;
  private acceptedAt: number[][];
  private refusals: Refusals[];
  private hintedCloses = 0;
  private hintedDelayMs = 0;
  private otherCloses: Record<number, number> = {};
  private subscribeRefusals = 0;
  private firstSubscribeRefusal = '';
  private subscribeFailures = 0;
  private firstDuplicate = '';

  constructor(
    private readonly init: RoamingInit,
    /** Path and query (credentials included) of the client with global index `index`. */
    private readonly pathOf: (index: number) => Promise<string>,
  ) {
    this.acceptedAt = init.nodes.map(() => []);
    this.refusals = init.nodes.map(noRefusals);
  }

  /** The next source address of this process (a fresh one every thousand sockets). */
  nextAddress(): string {
    return sourceAddress(this.init.addressPrefix, this.opened++);
  }

  /** Open the clients of `params` and subscribe them; resolves when every one is ready or failed. */
  async connect(params: RoamConnect): Promise<{ ready: number; failed: number; elapsedMs: number }> {
    const paths = await Promise.all(
      Array.from({ length: params.count }, (_, k) => this.pathOf(params.firstIndex + k)),
    );
    const started = performance.now();
    let launched = 0;
    let settled = 0;
    let ready = 0;
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        resolve({ ready, failed: params.count - ready, elapsedMs: performance.now() - started });
      };
      const timer = setTimeout(finish, params.timeoutMs);
      const launch = (): void => {
        while (launched < params.count && launched - settled < params.concurrency) {
          const index = params.firstIndex + launched;
          const others = params.others;
          const shift = others.length === 0 ? 0 : index % others.length;
          const roamer: Roamer = {
            index,
            urls: [params.start, ...others.slice(shift), ...others.slice(0, shift)],
            room: Math.floor(index / this.init.roomSize),
            path: paths[launched] ?? '',
            ws: null,
            socket: null,
            phase: 'waiting',
            roaming: false,
            roam: roamState(0),
            seq: new SequenceCheck(),
            subscribeId: 0,
            subscribeRetries: 0,
            failure: 'other',
            timer: null,
            lostAt: 0,
            backAt: 0,
            attempts: 0,
            subscribedAt: 0,
            onReady: (ok) => {
              settled++;
              if (ok) ready++;
              if (settled === params.count) finish();
              else launch();
            },
          };
          this.roamers.push(roamer);
          launched++;
          this.open(roamer);
        }
      };
      if (params.count === 0) finish();
      else launch();
    });
  }

  private open(r: Roamer): void {
    r.timer = null;
    r.phase = 'connecting';
    r.failure = 'other';
    r.attempts++;
    const url = this.init.nodes[r.urls[r.roam.urlIndex] ?? 0] ?? '';
    const ws = new WebSocket(url + r.path, {
      localAddress: this.nextAddress(),
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    r.ws = ws;
    ws.once('upgrade', (response) => (r.socket = response.socket));
    ws.on('message', (data: Buffer) => {
      if (r.ws === ws) forEachFrame(data, (frame) => this.onFrame(r, ws, frame));
    });
    ws.on('error', (error) => (r.failure = failureOf(error)));
    ws.on('close', (code, reason) => this.onClose(r, ws, code, reason.toString()));
  }

  private onFrame(r: Roamer, ws: WebSocket, frame: Buffer): void {
    if (startsWith(frame, PING)) {
      ws.send('{"type":"pong"}');
      return;
    }
    if (startsWith(frame, MESSAGE)) {
      // Read without parsing (the generators share two cores with the nodes): the channel's id comes
      // before `data` in a v1 message push (server hub/outbound.ts), the publisher's number inside it.
      const data = frame.indexOf(DATA);
      const id = readNumberAfter(frame.subarray(0, data < 0 ? frame.length : data), ID);
      if (id !== id) return;
      if (id <= r.seq.offset && this.firstDuplicate === '') {
        this.firstDuplicate = `id ${id} after ${r.seq.offset} (${r.phase}, ${Math.round(nowMs() - r.subscribedAt)} ms after the subscribe reply, ${r.seq.recovered} recovered)`;
      }
      r.seq.message(id, data < 0 ? NaN : readNumberAfter(frame, NUMBER, data));
      return;
    }
    const f = JSON.parse(frame.toString()) as Reply;
    switch (f.type) {
      case 'connected':
        roamConnected(r.roam, Date.now());
        // The server's clock when it wrote the frame, right after admitting the connection: a backlog of
        // frames read late by this process does not bunch the admissions up.
        this.acceptedAt[r.urls[r.roam.urlIndex] ?? 0]?.push(f.time ?? nowMs());
        r.phase = 'subscribing';
        r.subscribeRetries = 0;
        this.subscribe(r);
        return;
      case 'reply':
        if (f.id === r.subscribeId && r.phase === 'subscribing') this.onSubscribed(r, f);
        return;
      case 'unsubscribed':
        // The node could not fill a hole from history: subscribe again from our own position.
        if (f.resubscribe === true && r.phase === 'ready') {
          r.phase = 'subscribing';
          this.subscribe(r);
        }
        return;
      default:
        return;
    }
  }

  private subscribe(r: Roamer): void {
    r.subscribeId++;
    const since = r.seq.since();
    const channel = JSON.stringify(`${this.init.roomPrefix}${r.room}`);
    const tail = since === null ? '' : `,"since":${JSON.stringify(since)}`;
    r.ws?.send(`{"id":${r.subscribeId},"type":"subscribe","channel":${channel}${tail}}`);
  }

  private onSubscribed(r: Roamer, reply: Reply): void {
    if (reply.error !== undefined || reply.result === undefined) {
      if (this.subscribeRefusals++ === 0) this.firstSubscribeRefusal = JSON.stringify(reply.error ?? {});
      if (reply.error?.temporary !== true || r.subscribeRetries >= MAX_SUBSCRIBE_RETRIES) {
        // Left subscribing: not ready, so it counts as never back.
        this.subscribeFailures++;
        r.onReady?.(false);
        r.onReady = null;
        return;
      }
      r.subscribeRetries++;
      const ws = r.ws;
      // Full jitter, as the SDK retries a subscription refused with a temporary error.
      setTimeout(
        () => {
          if (r.ws === ws && r.phase === 'subscribing') this.subscribe(r);
        },
        Math.random() * Math.min(5000, 250 * 2 ** r.subscribeRetries),
      );
      return;
    }
    r.seq.subscribed(reply.result);
    r.subscribedAt = nowMs();
    r.phase = 'ready';
    if (r.lostAt > 0 && r.backAt === 0) r.backAt = nowMs();
    r.roaming = true;
    r.onReady?.(true);
    r.onReady = null;
  }

  private onClose(r: Roamer, ws: WebSocket, code: number, reason: string): void {
    if (r.ws !== ws) return;
    r.ws = null;
    r.socket = null;
    if (r.phase === 'closed') return;
    const connected = r.phase === 'subscribing' || r.phase === 'ready';
    const node = r.urls[r.roam.urlIndex] ?? 0;
    if (!r.roaming) {
      r.phase = 'closed';
      r.onReady?.(false);
      r.onReady = null;
      return;
    }
    const verdict = afterClose(
      r.roam,
      { connected, code: connected ? code : 1006, reason, now: Date.now() },
      r.urls.length,
      this.init.backoff,
    );
    if (connected) {
      if (r.lostAt === 0) r.lostAt = nowMs();
      r.backAt = 0;
      if (verdict.retry && verdict.hinted) {
        this.hintedCloses++;
        this.hintedDelayMs += verdict.delayMs;
      } else this.otherCloses[code] = (this.otherCloses[code] ?? 0) + 1;
    } else {
      const refusals = this.refusals[node];
      if (refusals !== undefined) this.refusals[node] = { ...refusals, [r.failure]: refusals[r.failure] + 1 };
    }
    if (!verdict.retry) {
      r.phase = 'closed';
      return;
    }
    r.phase = 'waiting';
    r.timer = setTimeout(() => this.open(r), verdict.delayMs);
  }

  /** Count losses, attempts, accepts and refusals from now on. */
  mark(): void {
    for (const r of this.roamers) {
      r.lostAt = 0;
      r.backAt = 0;
      r.attempts = 0;
    }
    this.acceptedAt = this.init.nodes.map(() => []);
    this.refusals = this.init.nodes.map(noRefusals);
    this.hintedCloses = 0;
    this.hintedDelayMs = 0;
    this.otherCloses = {};
  }

  /** Progress since the mark. */
  progress(): RoamProgress {
    const readyByNode = this.init.nodes.map(() => 0);
    let ready = 0;
    let lost = 0;
    let back = 0;
    for (const r of this.roamers) {
      if (r.phase === 'ready') {
        ready++;
        const node = r.urls[r.roam.urlIndex] ?? 0;
        readyByNode[node] = (readyByNode[node] ?? 0) + 1;
      }
      if (r.lostAt > 0) {
        lost++;
        if (r.backAt > 0) back++;
      }
    }
    return { clients: this.roamers.length, ready, lost, back, readyByNode };
  }

  /**
   * Wait (at most `timeoutMs`) until every ready client has its room's last id, then report (a ready client
   * still short of it is `behind`).
   */
  async report(lastIds: Readonly<Record<number, number>>, timeoutMs: number): Promise<RoamReport> {
    // Only clients that are back (ready) can catch up; the others count as never back, not as losses.
    const shortOf = (r: Roamer): number =>
      r.phase === 'ready' ? Math.max(0, (lastIds[r.room] ?? 0) - r.seq.offset) : 0;
    const deadline = Date.now() + timeoutMs;
    while (this.roamers.some((r) => shortOf(r) > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let sequence = NO_FIGURES;
    let behind = 0;
    let behindBy = 0;
    for (const r of this.roamers) {
      sequence = addFigures(sequence, r.seq.figures());
      const short = shortOf(r);
      if (short > 0) {
        behind++;
        behindBy += short;
      }
    }
    return {
      lostAt: this.roamers.map((r) => r.lostAt),
      backAt: this.roamers.map((r) => r.backAt),
      node: this.roamers.map((r) => (r.phase === 'ready' ? (r.urls[r.roam.urlIndex] ?? -1) : -1)),
      attempts: this.roamers.map((r) => r.attempts),
      acceptedAt: this.acceptedAt,
      refusals: this.refusals,
      hintedCloses: this.hintedCloses,
      hintedDelayMs: this.hintedDelayMs,
      otherCloses: this.otherCloses,
      subscribeRefusals: this.subscribeRefusals,
      firstSubscribeRefusal: this.firstSubscribeRefusal,
      subscribeFailures: this.subscribeFailures,
      firstDuplicate: this.firstDuplicate,
      sequence,
      behind,
      behindBy,
    };
  }

  /** Stop every client: timers cleared, sockets reset (no TIME_WAIT left behind); bounded wait. */
  async closeAll(timeoutMs: number): Promise<number> {
    const waits: Promise<void>[] = [];
    let closed = 0;
    for (const r of this.roamers) {
      r.phase = 'closed';
      if (r.timer !== null) clearTimeout(r.timer);
      r.timer = null;
      const ws = r.ws;
      if (ws === null) continue;
      closed++;
      waits.push(new Promise((resolve) => ws.once('close', () => resolve())));
      if (r.socket !== null && !r.socket.destroyed) r.socket.resetAndDestroy();
      else ws.terminate();
    }
    await Promise.race([
      Promise.all(waits),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    this.roamers.length = 0;
    return closed;
  }
}
