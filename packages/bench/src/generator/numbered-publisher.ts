/**
 * The drain and failover scenarios' publisher: one Switchboard connection that publishes numbered messages
 * (`{"ts":..,"n":<per-room number>,"p":".."}`) to rooms 0..N-1 round robin at a fixed rate, each publish
 * with a request id, so that the server's reply gives each message's id and the last id of every room is
 * known: what every subscriber must have received in the end.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { forEachFrame } from './dialect.js';
import type { PublishOutcome, PublishPlan } from './roaming-plan.js';
import { nowMs } from './timestamp.js';

const TICK_MS = 5;

interface Reply {
  readonly id?: number;
  readonly result?: { readonly id?: number };
  readonly error?: { readonly code?: string; readonly message?: string };
}

/** Publishes numbered messages until stopped. */
export class NumberedPublisher {
  private ws: WebSocket | null = null;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = 0;
  private published = 0;
  private acked = 0;
  private refused = 0;
  private firstRefusal = '';
  private nextRequest = 1;
  /** Request id -> room number, until the reply. */
  private readonly pending = new Map<number, number>();
  /** Per room: the last number sent, and the last id the server gave. */
  private readonly numbers: number[];
  private readonly lastIds: Record<number, number> = {};
  private readonly padding: string;

  constructor(
    private readonly url: string,
    private readonly localAddress: string,
    private readonly roomPrefix: string,
    private readonly plan: PublishPlan,
  ) {
    this.numbers = new Array<number>(plan.rooms).fill(0);
    this.padding = 'x'.repeat(Math.max(0, plan.payloadBytes));
  }

  /** Connect (`path` carries the credentials) and start publishing; resolves once connected. */
  start(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url + path, {
        localAddress: this.localAddress,
        perMessageDeflate: false,
        handshakeTimeout: 10_000,
      });
      this.ws = ws;
      ws.once('upgrade', (response) => (this.socket = response.socket));
      ws.once('error', (error) => reject(error));
      ws.on('message', (data: Buffer) => {
        forEachFrame(data, (frame) => {
          if (frame.includes('"type":"connected"')) {
            this.started = performance.now();
            this.timer = setInterval(() => this.tick(), TICK_MS);
            resolve();
          } else if (frame.includes('"type":"ping"')) ws.send('{"type":"pong"}');
          else if (frame.includes('"type":"reply"')) this.onReply(JSON.parse(frame.toString()) as Reply);
        });
      });
      ws.on('close', (code) => {
        if (this.timer === null) return;
        this.refusal(`the publisher's connection closed (${code})`);
        this.halt();
      });
    });
  }

  private tick(): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    const due = Math.floor(((performance.now() - this.started) / 1000) * this.plan.ratePerSecond) + 1;
    while (this.published < due) {
      const room = this.published % this.plan.rooms;
      const n = (this.numbers[room] ?? 0) + 1;
      this.numbers[room] = n;
      const id = this.nextRequest++;
      this.pending.set(id, room);
      const head = `{"ts":${nowMs()},"n":${n},"p":"`;
      const data = head + this.padding.slice(0, Math.max(0, this.plan.payloadBytes - head.length - 2)) + '"}';
      ws.send(`{"id":${id},"type":"publish","channel":"${this.roomPrefix}${room}","data":${data}}`);
      this.published++;
    }
  }

  private onReply(reply: Reply): void {
    const room = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (room === undefined || reply.id === undefined) return;
    this.pending.delete(reply.id);
    const id = reply.result?.id;
    if (reply.error !== undefined || id === undefined) {
      this.refusal(`${reply.error?.code ?? 'no id'}: ${reply.error?.message ?? ''}`);
      return;
    }
    this.acked++;
    this.lastIds[room] = Math.max(this.lastIds[room] ?? 0, id);
  }

  private refusal(what: string): void {
    if (this.refused++ === 0) this.firstRefusal = what;
  }

  private halt(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stop publishing, wait (at most `timeoutMs`) for the outstanding replies, close; the outcome. */
  async stop(timeoutMs: number): Promise<PublishOutcome> {
    this.halt();
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline && this.ws?.readyState === WebSocket.OPEN) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.pending.size > 0) this.refusal(`${this.pending.size} publishes were never answered`);
    this.refused += Math.max(0, this.pending.size - 1);
    this.pending.clear();
    this.close();
    return {
      published: this.published,
      acked: this.acked,
      refused: this.refused,
      firstRefusal: this.firstRefusal,
      lastIds: { ...this.lastIds },
    };
  }

  /** Drop the connection (a TCP reset: no TIME_WAIT left behind). */
  close(): void {
    this.halt();
    if (this.socket !== null && !this.socket.destroyed) this.socket.resetAndDestroy();
    else this.ws?.terminate();
    this.ws = null;
    this.socket = null;
  }
}
