/**
 * Silent sockets on the HTTP server Switchboard owns: a socket that has not delivered a complete request
 * head (an HTTP request or a WebSocket handshake) within `timeoutMs` of its TCP accept is closed, and
 * until it speaks it counts against its peer address's `maxConnectionsPerIp`.
 *
 * Node's head deadline (`headersTimeout`) does not cover this on its own: on an https server the HTTP
 * parser only exists once the TLS handshake is done, so a socket that never sends a byte waits for the
 * TLS handshake timeout (120 s); and nothing in Node counts such sockets per address, so one address
 * could hold thousands of them, each a file descriptor, until the deadline.
 *
 * One sweep per server, no timer per socket: every socket has the same deadline, so in accept order the
 * oldest one is always the next to expire, and the sweep stops at the first that has time left. A socket
 * that spoke or closed is only marked, and dropped when the sweep reaches it. Per socket: one small
 * record under a Symbol key and one shared `close` listener, no closure.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AdmissionRefusal } from '../limits/connection-limits.js';
import { normalizeAddress } from '../transports/client-ip.js';
import type { TrustedProxies } from '../transports/client-ip.js';
import { sweepPeriod } from '../util/clock.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import { enforceDeadlines } from './http-deadlines.js';
import type { HttpDeadlines } from './http-deadlines.js';
import { rawErrorResponse } from './http-utils.js';

/** What the tracker asks of the connection limits (`ConnectionLimits` is one). */
export interface SocketHolds {
  /** Count a socket that has not spoken yet against its address; a refusal when the address is full. */
  holdSocket(address: string): AdmissionRefusal | null;
  /** The socket spoke or closed. */
  releaseSocket(address: string): void;
}

/** What {@link SilentSockets} is built from. */
export interface SilentSocketsOptions {
  /** Time from the TCP accept to a complete request head (ms). */
  readonly timeoutMs: number;
  readonly limits: SocketHolds;
  /** Their sockets are not counted: each request they forward is counted under its own client. */
  readonly trustedProxies: TrustedProxies;
  readonly clock: Clock;
  /** A socket was closed for not speaking in time. */
  readonly onTimeout: () => void;
  /** A socket was refused at its accept (its address holds its cap of silent sockets). */
  readonly onRefused: (refusal: AdmissionRefusal) => void;
}

/** A watched socket has not spoken yet, has delivered a request head, or is closed (or being closed). */
type State = 'silent' | 'spoke' | 'closed';

/** What is kept about one accepted socket until it speaks, closes or times out. */
interface Entry {
  readonly socket: Socket;
  readonly acceptedAt: number;
  /** The address the socket is counted under, or null when it is not counted (a trusted proxy). */
  held: string | null;
  state: State;
  /** On an https server, the TLS socket once its handshake is done. */
  tls: Duplex | null;
}

const ENTRY = Symbol('switchboard.silentSocket');

type Tagged = { [ENTRY]?: Entry | undefined };

/** Node's own answer to a request head that came too late (`headersTimeout`), byte for byte. */
const TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

/** Queue entries dropped before the array is compacted (an occasional copy of the live tail). */
const COMPACT_AFTER = 1024;

/**
 * Write `response` and close at once, as Node does with its own 400 and 408 answers: a socket that has
 * sent no complete request gets nothing more from the server, and waiting for the peer to read (or close)
 * would let the peer decide how long its file descriptor stays taken.
 */
function answerAndClose(socket: Duplex, response: string): void {
  if (socket.writable) socket.write(response);
  socket.destroy();
}

/** The sweep's deferred half (a `setImmediate` callback, so no closure per sweep). */
function closeOverdue(tracker: SilentSockets, overdue: readonly Entry[]): void {
  for (const entry of overdue) tracker.expire(entry);
}

/** The shared `close` listener of a server's sockets: it finds the entry on the socket itself. */
function closeListener(tracker: { closed(entry: Entry): void }): (this: Socket) => void {
  return function onClose(this: Socket & Tagged): void {
    const entry = this[ENTRY];
    if (entry !== undefined) tracker.closed(entry);
  };
}

/** The deadline and the per-address count of the sockets that have not spoken yet, on one server. */
export class SilentSockets {
  private queue: (Entry | undefined)[] = [];
  private head = 0;
  private sweeper: TimerHandle | null = null;
  /** https only: raw sockets by `address|port`, until their TLS handshake hands out the TLS socket. */
  private readonly handshaking = new Map<string, Entry>();
  private tlsServer = false;
  /** One function per server, shared by its sockets. */
  private readonly onClose = closeListener(this);

  constructor(private readonly options: SilentSocketsOptions) {}

  /**
   * Watch `server`'s sockets from now on; returns the function that stops watching. Call it after the
   * server's `request` and `upgrade` listeners are in place (this one is put in front of them).
   */
  watch(server: HttpServer): () => void {
    // An https server hands out the raw TCP socket on `connection` and the TLS socket on `secureConnection`.
    this.tlsServer = 'setSecureContext' in server;
    const onConnection = (socket: Socket): void => this.accepted(socket);
    const onSecure = (socket: Socket): void => this.secured(socket);
    const onHead = (req: IncomingMessage): void => this.spoke(req.socket);
    server.on('connection', onConnection);
    if (this.tlsServer) server.on('secureConnection', onSecure);
    server.prependListener('request', onHead);
    server.prependListener('upgrade', onHead);
    this.sweeper = this.options.clock.setInterval(() => this.sweep(), sweepPeriod(this.options.timeoutMs));
    return () => {
      this.sweeper?.cancel();
      this.sweeper = null;
      server.off('connection', onConnection);
      server.off('secureConnection', onSecure);
      server.off('request', onHead);
      server.off('upgrade', onHead);
    };
  }

  private accepted(socket: Socket & Tagged): void {
    const { limits, trustedProxies, clock } = this.options;
    const address = normalizeAddress(socket.remoteAddress ?? '');
    let held: string | null = null;
    if (address !== '' && !trustedProxies.has(address)) {
      const refusal = limits.holdSocket(address);
      if (refusal !== null) {
        this.options.onRefused(refusal);
        // Before its TLS handshake nothing readable can be written to an https client: it is closed.
        if (this.tlsServer) socket.destroy();
        else answerAndClose(socket, rawErrorResponse(refusal.status, refusal.code, refusal.message));
        return;
      }
      held = address;
    }
    const entry: Entry = { socket, acceptedAt: clock.now(), held, state: 'silent', tls: null };
    socket[ENTRY] = entry;
    socket.once('close', this.onClose);
    this.queue.push(entry);
    if (this.tlsServer) this.handshaking.set(`${socket.remoteAddress}|${socket.remotePort}`, entry);
  }

  /** An https socket finished its TLS handshake: its requests arrive on the TLS socket. */
  private secured(tlsSocket: Socket & Tagged): void {
    const key = `${tlsSocket.remoteAddress}|${tlsSocket.remotePort}`;
    const entry = this.handshaking.get(key);
    if (entry === undefined) return;
    this.handshaking.delete(key);
    entry.tls = tlsSocket;
    tlsSocket[ENTRY] = entry;
  }

  /**
   * A complete request head arrived on `socket` (the raw one, or the TLS one over https). The socket is
   * let go: nothing of the watch stays with it for the rest of its life (a WebSocket's, say), and the
   * entry waits in the queue only until the sweep reaches it.
   */
  private spoke(socket: Duplex & Tagged): void {
    const entry = socket[ENTRY];
    if (entry === undefined || entry.state !== 'silent') return;
    entry.state = 'spoke';
    this.release(entry);
    const raw: Socket & Tagged = entry.socket;
    raw[ENTRY] = undefined;
    raw.off('close', this.onClose);
    if (entry.tls !== null) (entry.tls as Duplex & Tagged)[ENTRY] = undefined;
  }

  /** A watched socket closed (its shared `close` listener). */
  closed(entry: Entry): void {
    if (entry.state === 'silent') {
      entry.state = 'closed';
      this.release(entry);
    }
    if (this.tlsServer && entry.tls === null) {
      this.handshaking.delete(`${entry.socket.remoteAddress}|${entry.socket.remotePort}`);
    }
  }

  private release(entry: Entry): void {
    if (entry.held === null) return;
    this.options.limits.releaseSocket(entry.held);
    entry.held = null;
  }

  /**
   * Take every socket past its deadline off the queue, and drop the entries of those that spoke or closed.
   * The overdue ones are closed a moment later, after the event loop's I/O phase: when the loop was
   * stalled (a reconnect storm, a long GC), a head may be waiting unread in the socket's buffer, and the
   * timer phase runs before the reads. Only sockets still silent once their bytes are read are closed.
   */
  private sweep(): void {
    const now = this.options.clock.now();
    const { timeoutMs } = this.options;
    const queue = this.queue;
    let overdue: Entry[] | null = null;
    while (this.head < queue.length) {
      const entry = queue[this.head];
      if (entry !== undefined && entry.state === 'silent') {
        if (now - entry.acceptedAt < timeoutMs) break;
        (overdue ??= []).push(entry);
      }
      queue[this.head++] = undefined;
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    if (overdue !== null) setImmediate(closeOverdue, this, overdue);
  }

  /** Close `entry`'s socket for not speaking in time, unless it spoke or closed meanwhile. */
  expire(entry: Entry): void {
    if (entry.state !== 'silent') return;
    entry.state = 'closed';
    this.release(entry);
    this.options.onTimeout();
    if (!this.tlsServer) answerAndClose(entry.socket, TIMEOUT_RESPONSE);
    // An https socket still in its TLS handshake cannot be answered in words; one past it can, unless it
    // speaks h2: its socket belongs to its Http2Session, and bytes written beside the session abort Node
    // (a native assertion in Http2Session::OnStreamAfterWrite, Node 20), so it is only dropped.
    else if (entry.tls !== null && (entry.tls as Duplex & { alpnProtocol?: unknown }).alpnProtocol !== 'h2')
      answerAndClose(entry.tls, TIMEOUT_RESPONSE);
    else (entry.tls ?? entry.socket).destroy();
  }
}

/** What guarding a server of Switchboard's own needs. */
export interface OwnServerGuards {
  /** Open-connection counts per address: silent sockets count against `maxConnectionsPerIp`. */
  readonly connectionLimits: SocketHolds;
  readonly trustedProxies: TrustedProxies;
  /** Where each cut-off is counted (under `request_timeout`, `silent_socket`, or the refusing limit). */
  readonly metrics: Pick<Metrics, 'limitRejected'>;
  readonly clock: Clock;
}

/**
 * The protections of an HTTP server Switchboard created itself (an attached server's sockets, deadlines
 * and limits are its application's): Node's request deadlines, and the silent-socket watch. Returns the
 * watch, which {@link SilentSockets.watch} starts once the listeners are in place.
 */
export function guardOwnServer(
  server: HttpServer,
  limits: HttpDeadlines & { readonly silentSocketTimeoutMs: number },
  guards: OwnServerGuards,
): SilentSockets {
  const { metrics } = guards;
  enforceDeadlines(server, limits, () => metrics.limitRejected('request_timeout'));
  return new SilentSockets({
    timeoutMs: limits.silentSocketTimeoutMs,
    limits: guards.connectionLimits,
    trustedProxies: guards.trustedProxies,
    clock: guards.clock,
    onTimeout: () => metrics.limitRejected('silent_socket'),
    onRefused: (refusal) => metrics.limitRejected(refusal.limit),
  });
}
