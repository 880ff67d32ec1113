/**
 * Which transport the next attempt uses: the first of `transports` (default WebSocket, then SSE, then
 * long polling) until it fails twice in a row before connecting with 1006 (a proxy that refuses the
 * upgrade, a network that drops it), then the next one. An HTTP transport that gets no HTTP answer at all
 * (the server is down, not a proxy in the way) sends the next attempt back to the first transport. A
 * client that fell back tries the first
 * transport again on its first attempt after `transportRetryMs`, and keeps it if it connects.
 * docs/protocol.md#http-transports.
 */
import { HttpSocket } from './http-socket.js';
import { BEARER_SUBPROTOCOL_PREFIX } from './token-source.js';
import type { FetchLike } from './http-socket.js';
import type { Clock, TimerHandle } from './clock.js';
import { letGo } from './close-args.js';
import type { OpenEventTarget, WebSocketConstructor, WebSocketLike } from './websocket-like.js';
import { wantsMsgpack } from './wire-format.js';
import { WireMeter } from './wire-stats.js';

/** The transports a client may use, best first. */
export type TransportName = 'websocket' | 'sse' | 'polling';

/** Every transport, in the default order. */
export const TRANSPORT_NAMES: readonly TransportName[] = ['websocket', 'sse', 'polling'];

/** Failed attempts (1006 before `connected`) after which a transport gives way to the next. */
export const FAILURES_BEFORE_FALLBACK = 2;

/** The close code of an attempt that never got through. */
const ABNORMAL = 1006;

/** What the picker is built from. */
export interface TransportPickerOptions {
  readonly transports: readonly TransportName[];
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly fetch: FetchLike | undefined;
  /** How long after falling back the first transport is tried again (ms). */
  readonly transportRetryMs: number;
  readonly clock: Clock;
}

/** Picks each attempt's transport and opens its socket. */
export class TransportPicker {
  private index = 0;
  private failures = 0;
  private fellBackAt = 0;
  /** The current attempt tries the first transport again after a fallback. */
  private probing = false;
  private attempt: TransportName;
  /** The attempt's socket when it is an HTTP one (to tell an unreachable server from a refusing proxy). */
  private http: HttpSocket | null = null;

  /** The timer of the next probe of the first transport, while connected on a fallback. */
  private probeTimer: TimerHandle | null = null;
  private probe: WebSocketLike | null = null;
  /** The URL of the connected attempt (a probe opens the same endpoint). */
  private url = '';
  /** Counts every attempt's socket (not the probes: they carry no frames). */
  readonly meter = new WireMeter();

  /**
   * @param upgrade called when a probe found that the first transport gets through again while the
   *   connection is on a fallback: the client reconnects, and the next attempt uses it.
   */
  constructor(
    private readonly options: TransportPickerOptions,
    private readonly upgrade: () => void,
  ) {
    this.attempt = options.transports[0] ?? 'websocket';
  }

  /** The transport of the current (or last) attempt. */
  get current(): TransportName {
    return this.attempt;
  }

  /** Open the attempt's socket for the WebSocket URL `url` (the HTTP transports derive theirs from it). */
  open(url: string, protocols: string[] | undefined, now: number): WebSocketLike {
    const { transports } = this.options;
    this.probing = this.index > 0 && now - this.fellBackAt >= this.options.transportRetryMs;
    this.http = null;
    const name = (this.probing ? transports[0] : transports[this.index]) ?? 'websocket';
    this.attempt = name;
    this.url = url;
    if (name === 'websocket') {
      const WebSocket = this.options.WebSocket;
      if (WebSocket === undefined) throw new Error('no WebSocket constructor');
      const socket = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
      // MessagePack arrives in binary messages: as an ArrayBuffer, read synchronously (a browser's
      // default, a Blob, cannot be).
      if (wantsMsgpack(protocols)) (socket as { binaryType?: string }).binaryType = 'arraybuffer';
      return this.meter.attach(socket);
    }
    const fetchFn = this.options.fetch;
    if (fetchFn === undefined) throw new Error('no fetch function');
    this.http = new HttpSocket(httpUrl(url, name), name, fetchFn, bearerHeaders(protocols));
    return this.meter.attach(this.http);
  }

  /** The attempt connected: its transport stays (on a fallback, the first one is probed now and then). */
  connected(): void {
    this.failures = 0;
    if (this.probing) {
      this.probing = false;
      this.index = 0;
    }
    if (this.attempt !== 'websocket' && this.options.transports[0] === 'websocket') this.scheduleProbe();
  }

  /** The connection or the attempt ended with `code`; `connected` says whether it was up. */
  lost(connected: boolean, code: number, now: number): void {
    this.stopProbe();
    if (!connected) this.failed(code, now);
  }

  /** Stop probing (the client closed). */
  stop(): void {
    this.stopProbe();
  }

  /** The attempt failed before connecting, with `code`. */
  private failed(code: number, now: number): void {
    if (this.probing) {
      // The better transport is still blocked: back to the one that works, for another retry period.
      this.probing = false;
      this.fellBackAt = now;
      return;
    }
    if (code !== ABNORMAL) return;
    if (this.http !== null && !this.http.answered) {
      // Not even an HTTP answer: the server (or the network) is down, not a proxy refusing upgrades.
      // Back to the first transport, so that a restart does not leave clients on a fallback.
      this.index = 0;
      this.failures = 0;
      return;
    }
    this.failures++;
    const count = this.options.transports.length;
    if (this.failures < FAILURES_BEFORE_FALLBACK || count < 2) return;
    this.failures = 0;
    this.index = (this.index + 1) % count;
    this.fellBackAt = now;
  }

  private scheduleProbe(): void {
    const WebSocket = this.options.WebSocket;
    if (WebSocket === undefined) return;
    this.probeTimer = this.options.clock.setTimeout(() => {
      this.probeTimer = null;
      let probe: WebSocketLike;
      try {
        probe = new WebSocket(probeUrl(this.url));
      } catch {
        return;
      }
      this.probe = probe;
      (probe as WebSocketLike & OpenEventTarget).addEventListener('open', () => {
        if (this.probe !== probe) return;
        this.stopProbe();
        this.index = 0;
        this.failures = 0;
        this.upgrade();
      });
      probe.addEventListener('close', () => {
        if (this.probe !== probe) return;
        this.probe = null;
        this.scheduleProbe();
      });
      probe.addEventListener('error', () => {});
    }, this.options.transportRetryMs);
  }

  private stopProbe(): void {
    this.probeTimer?.cancel();
    this.probeTimer = null;
    const probe = this.probe;
    this.probe = null;
    if (probe !== null) letGo(probe, true, 1000, '');
  }
}

/**
 * Open a WebSocket to the endpoint, without a session, after `transportRetryMs`: if it opens, the proxy
 * lets upgrades through again (or never refused them: the fallback came from a server restart), and the
 * client moves back to it; if not, another probe follows after the same delay. One short-lived connection
 * per period for a client on a fallback.
 */
function probeUrl(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('session');
  return parsed.toString();
}

/** `ws://host/base/ws?q` as `http://host/base/v1/sse?q` (or `/v1/poll`). */
export function httpUrl(url: string, name: 'sse' | 'polling'): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === 'wss:' ? 'https:' : 'http:';
  parsed.pathname = `${parsed.pathname.replace(/\/ws\/?$/, '')}/v1/${name === 'sse' ? 'sse' : 'poll'}`;
  return parsed.toString();
}

/** A bearer token offered as a subprotocol goes in `Authorization` over HTTP. */
function bearerHeaders(protocols: string[] | undefined): Record<string, string> {
  const bearer = protocols?.find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  return bearer === undefined
    ? {}
    : { authorization: `Bearer ${bearer.slice(BEARER_SUBPROTOCOL_PREFIX.length)}` };
}

/** Whether `value` is a valid `transports` option. */
export function isTransportList(value: unknown): value is readonly TransportName[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    new Set(value).size === value.length &&
    value.every((v) => TRANSPORT_NAMES.includes(v as TransportName))
  );
}
