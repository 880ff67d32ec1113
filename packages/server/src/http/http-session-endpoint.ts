/**
 * Protocol v1 over plain HTTP, for clients a WebSocket cannot reach (a proxy that refuses the upgrade):
 * frames go down an SSE stream (`GET /v1/sse`) or answer long polls (`GET /v1/poll`, then `GET
 * /v1/poll/:connection?cursor=N`), and commands go up as `POST /v1/connections/:connection`. A connection
 * is admitted by the shared handshake and handed to the hub like a WebSocket (format `v1`), so sessions,
 * recovery, presence, limits, metrics and the heartbeat (its pongs arrive by POST) all apply unchanged.
 * Every request after the first presents the connection's secret (`X-Switchboard-Secret`), handed out
 * by the first. A connection's id names its node (`<nodeId>.<random>`): a POST that reaches another node
 * is routed to it through the broker, and so are a poll or a `DELETE` (forwarded-calls.ts).
 * docs/protocol.md#http-transports.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import { httpConnectionNode } from '../broker/broker.js';
import type { Envelope, HttpFramesEnvelope } from '../broker/broker.js';
import type { AcceptOptions } from '../hub/accept-options.js';
import type { WireFormat } from '../hub/outbound.js';
import type { Admission, Admitted, Handshake } from '../transports/handshake.js';
import { PollingTransportSocket } from '../transports/polling-transport.js';
import { openSseStream } from '../transports/sse-transport.js';
import type { ConnectionHandle, TransportSocket } from '../transports/transport.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import { ForwardedCalls, forwardBoundMs } from './forwarded-calls.js';
import { errorBody, gone, lines, noStore, pollBody, readBody } from './http-session-body.js';
import { sendError, sendJson } from './http-utils.js';
import type { Router } from './router.js';
import { corsHeaders, refuse } from './sse-endpoint.js';
import { ClosingHandle, SseSessionSocket, openEvent } from './sse-session-socket.js';

/** Where an admitted connection goes, and how POSTs reach the node that holds it: the hub. */
export interface SessionAcceptor {
  accept(socket: TransportSocket, format: WireFormat, admitted: Admitted<AcceptOptions>): ConnectionHandle;
  /** This node's id: an HTTP connection's id starts with its node's. */
  readonly nodeId: string;
  /** Route an envelope (frames for another node's connection) through the broker. */
  send(envelope: Envelope): Promise<void>;
  /** Where frames POSTed on other nodes for this node's connections arrive. */
  onHttpFrames(handler: (envelope: HttpFramesEnvelope) => void): void;
}

/** What the endpoints are built from. */
export interface HttpSessionOptions {
  readonly basePath: string;
  /** The largest frame a POST may carry (a WebSocket message's limit). */
  readonly maxMessageBytes: number;
  /** How long a poll is held when nothing is queued, and how long a connection may go without one (ms). */
  readonly pollTimeoutMs: number;
  readonly sseRetryMs: number;
  readonly handshake: Handshake;
  readonly acceptor: SessionAcceptor;
  readonly clock: Clock;
  /** Where forwarded polls and DELETEs are counted. */
  readonly metrics: Metrics;
}

/** The header every request on an open connection carries its secret in. */
export const SECRET_HEADER = 'x-switchboard-secret';

/** The most frames one POST may carry (its body may hold this many of the largest frame). */
export const MAX_FRAMES_PER_POST = 16;

/** The longest session id a client may present (as on `/ws`). */
const MAX_SESSION_ID = 64;

/** One open HTTP connection. */
interface Entry {
  readonly secret: Buffer;
  /** The hub's handle: what POSTed frames are given to. Undefined once closed. */
  handle: ConnectionHandle | undefined;
  readonly socket: PollingTransportSocket | SseSessionSocket;
  /** When the waiting poll was taken (polling only). */
  waitingSince: number;
}

/** Register the HTTP transports' routes. */
export function addHttpSessionRoutes(router: Router, options: HttpSessionOptions): void {
  const endpoint = new HttpSessionEndpoint(options);
  router.add('GET', '/v1/sse', ({ req, res, url }) => endpoint.open(req, res, url, 'sse'));
  router.add('GET', '/v1/poll', ({ req, res, url }) => endpoint.open(req, res, url, 'polling'));
  router.add('GET', '/v1/poll/:connection', ({ req, res, url, params }) =>
    endpoint.poll(req, res, url, params['connection'] ?? ''),
  );
  router.add('POST', '/v1/connections/:connection', ({ req, res, params }) =>
    endpoint.post(req, res, params['connection'] ?? ''),
  );
  router.add('DELETE', '/v1/connections/:connection', ({ req, res, params }) =>
    endpoint.remove(req, res, params['connection'] ?? ''),
  );
  // A page on another origin sends the secret header, so its polls and POSTs are preflighted.
  router.add('OPTIONS', '/v1/poll/:connection', ({ req, res }) => preflight(req, res, 'GET'));
  // And an open request that carries `Authorization` (a bearer token) is preflighted too.
  router.add('OPTIONS', '/v1/sse', ({ req, res }) => preflight(req, res, 'GET'));
  router.add('OPTIONS', '/v1/poll', ({ req, res }) => preflight(req, res, 'GET'));
  router.add('OPTIONS', '/v1/connections/:connection', ({ req, res }) => preflight(req, res, 'POST, DELETE'));
}

/**
 * The CORS preflight of a poll or a POST from another origin. Any origin is answered: what protects a
 * connection is its secret, which only the page that opened it holds; the origin allow-list applied when
 * the connection was opened (`/v1/sse`, `/v1/poll`: their preflight allows the request to be sent, the
 * handshake then refuses an origin that is not allowed).
 */
function preflight(req: IncomingMessage, res: ServerResponse, methods: string): void {
  req.resume();
  res.writeHead(204, {
    ...corsHeaders(req),
    'access-control-allow-methods': methods,
    'access-control-allow-headers': `${SECRET_HEADER}, content-type, authorization`,
    'access-control-max-age': '600',
  });
  res.end();
}

/** The HTTP transports' connections and their requests. */
class HttpSessionEndpoint {
  private readonly entries = new Map<string, Entry>();
  /** Polling connections with frames for a waiting poll, answered together once per event-loop turn. */
  private readonly ready = new Set<PollingTransportSocket>();
  private flushing = false;
  /** One sweep for every polling connection (hold timeouts, abandoned connections); none while there are none. */
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private polling = 0;
  private readonly onReady = (socket: PollingTransportSocket): void => {
    this.ready.add(socket);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      for (const ready of this.ready) ready.flush();
      this.ready.clear();
    });
  };

  /** Whether frames routed from other nodes are listened to (from the first connection opened here on). */
  private listening = false;

  /** Polls and DELETEs sent from here to the nodes that hold their connections. */
  private readonly calls: ForwardedCalls;

  constructor(private readonly options: HttpSessionOptions) {
    const { acceptor, pollTimeoutMs } = options;
    this.calls = new ForwardedCalls(
      acceptor.nodeId,
      (envelope) => acceptor.send(envelope),
      forwardBoundMs(pollTimeoutMs),
      options.metrics,
    );
  }

  /** Listen to what other nodes route here (from the first connection opened or call forwarded on). */
  private listen(): void {
    if (this.listening) return;
    this.options.acceptor.onHttpFrames((envelope) => this.forwarded(envelope));
    this.listening = true;
  }

  /** Whether `id` names another node's connection (none of this node's). */
  private remote(id: string): boolean {
    const node = httpConnectionNode(id);
    return !this.entries.has(id) && node !== '' && node !== this.options.acceptor.nodeId;
  }

  /** Admit a connection and open it over `kind`. */
  open(req: IncomingMessage, res: ServerResponse, url: URL, kind: 'sse' | 'polling'): void {
    req.resume();
    this.listen();
    const request = { url, headers: req.headers, peerAddress: req.socket.remoteAddress ?? '' };
    void this.options.handshake
      .admit(request, acceptOptions)
      .then((admission) => this.complete(req, res, admission, kind));
  }

  private complete(
    req: IncomingMessage,
    res: ServerResponse,
    admission: Admission<AcceptOptions>,
    kind: 'sse' | 'polling',
  ): void {
    try {
      if (!admission.ok) {
        refuse(req, res, admission.refusal);
        return;
      }
      if (res.destroyed || req.socket.destroyed) return;
      // `<nodeId>.<random>`: a POST that reaches another node is routed here by the id alone.
      const id = `${this.options.acceptor.nodeId}.${randomBytes(16).toString('base64url')}`;
      const secret = randomBytes(24).toString('base64url');
      if (kind === 'sse') this.openSse(req, res, admission, id, secret);
      else this.openPolling(req, res, admission, id, secret);
    } catch (error) {
      if (!res.headersSent) refuse(req, res, this.options.handshake.failed(error).refusal);
      else res.destroy();
    }
  }

  private openSse(
    req: IncomingMessage,
    res: ServerResponse,
    admission: Admitted<AcceptOptions>,
    id: string,
    secret: string,
  ): void {
    openSseStream(res, corsHeaders(req), this.options.sseRetryMs, (stream) => {
      const socket = new SseSessionSocket(stream);
      const entry: Entry = { secret: Buffer.from(secret), handle: undefined, socket, waitingSince: 0 };
      this.entries.set(id, entry);
      // Before anything the hub writes (its `connected` push): the client needs the id to send.
      stream.send(openEvent(id, secret));
      const handle = this.options.acceptor.accept(socket, 'v1', admission);
      entry.handle = handle;
      return new ClosingHandle(handle, () => {
        entry.handle = undefined;
        this.entries.delete(id);
      });
    });
  }

  private openPolling(
    req: IncomingMessage,
    res: ServerResponse,
    admission: Admitted<AcceptOptions>,
    id: string,
    secret: string,
  ): void {
    const socket = new PollingTransportSocket(this.options.clock.now(), this.onReady);
    const entry: Entry = { secret: Buffer.from(secret), handle: undefined, socket, waitingSince: 0 };
    this.entries.set(id, entry);
    this.polling++;
    // A quarter of the timeout: a held poll is answered at most that late.
    const period = Math.min(1000, Math.ceil(this.options.pollTimeoutMs / 4));
    this.sweeper ??= setInterval(() => this.sweep(), period).unref();
    // The answer goes first: the frames the hub writes on accept wait for the first poll.
    sendJson(res, 200, { connection: id, secret, cursor: 0 }, corsHeaders(req));
    const handle = this.options.acceptor.accept(socket, 'v1', admission);
    entry.handle = handle;
    socket.handle = new ClosingHandle(handle, () => {
      entry.handle = undefined;
    });
  }

  /** `GET /v1/poll/:connection?cursor=N`: the frames after N, held until there are some or the hold ends. */
  poll(req: IncomingMessage, res: ServerResponse, url: URL, id: string): void {
    req.resume();
    const cursor = Number(url.searchParams.get('cursor') ?? '0');
    if (!Number.isSafeInteger(cursor) || cursor < 0) {
      sendError(res, ErrorCode.BadRequest, 'cursor must be a non-negative integer', 400, corsHeaders(req));
      return;
    }
    if (this.remote(id)) {
      this.listen();
      this.calls.forward(req, res, 'poll', id, cursor);
      return;
    }
    const entry = this.find(req, res, id);
    if (entry === null) return;
    const socket = entry.socket;
    if (!(socket instanceof PollingTransportSocket)) {
      sendError(res, ErrorCode.BadRequest, 'this connection is not a polling one', 400, corsHeaders(req));
      return;
    }
    res.socket?.setTimeout(0);
    entry.waitingSince = this.options.clock.now();
    res.on('close', () => socket.pollEnded(this.options.clock.now()));
    socket.poll(cursor, (answer) => {
      if (answer.close !== undefined) this.forget(id, socket);
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(200, { 'content-type': 'application/json', ...noStore(req) });
      res.end(pollBody(answer));
    });
  }

  /** `POST /v1/connections/:connection`: frames for the hub, one per line. */
  post(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> | void {
    if (this.remote(id)) return this.forward(req, res, id);
    const entry = this.find(req, res, id);
    if (entry === null) {
      req.resume();
      return;
    }
    const max = this.options.maxMessageBytes;
    return readBody(req, max * MAX_FRAMES_PER_POST).then((body) => {
      const handle = entry.handle;
      if (body === null) {
        // As a WebSocket message over the limit: the connection ends with 1009.
        sendError(
          res,
          ErrorCode.MessageTooLarge,
          `body is larger than ${max * MAX_FRAMES_PER_POST} bytes`,
          413,
          corsHeaders(req),
        );
        handle?.receiveInvalid(CloseCode.MessageTooBig, 'message too big');
        return;
      }
      if (handle === undefined) {
        gone(req, res);
        return;
      }
      this.deliver(entry, lines(body));
      res.writeHead(204, corsHeaders(req));
      res.end();
    });
  }

  /**
   * A POST for another node's connection: the frames go to that node through the broker, which checks the
   * secret there. 202: this node cannot know whether the connection still exists, or the secret is right
   * (a wrong one is dropped there, and logged).
   */
  private async forward(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const max = this.options.maxMessageBytes;
    const body = await readBody(req, max * MAX_FRAMES_PER_POST);
    if (body === null) {
      const message = `body is larger than ${max * MAX_FRAMES_PER_POST} bytes`;
      sendError(res, ErrorCode.MessageTooLarge, message, 413, corsHeaders(req));
      return;
    }
    const presented = req.headers[SECRET_HEADER];
    const secret = typeof presented === 'string' ? presented : '';
    try {
      await this.options.acceptor.send({ kind: 'http-frames', connection: id, secret, lines: lines(body) });
    } catch {
      sendError(
        res,
        ErrorCode.Unavailable,
        'the node holding this connection cannot be reached',
        503,
        corsHeaders(req),
      );
      return;
    }
    res.writeHead(202, corsHeaders(req));
    res.end();
  }

  /** Frames POSTed on another node for a connection of this one: as a local POST, minus the answer. */
  private forwarded(envelope: HttpFramesEnvelope): void {
    if (envelope.call === 'answer') this.calls.answered(envelope);
    else if (envelope.call !== undefined) this.serve(envelope);
    else {
      const entry = this.entries.get(envelope.connection);
      if (entry !== undefined && secretMatches(entry, envelope.secret)) this.deliver(entry, envelope.lines);
    }
  }

  /**
   * A poll or DELETE that reached another node, run here as if it came directly (a forwarded poll and a
   * direct one are the same poll: the newer answers the older empty), answered to its reply address.
   */
  private serve(envelope: HttpFramesEnvelope): void {
    const reply = envelope.reply;
    if (reply === undefined) return;
    const answer = (status: number, body: string): void => {
      const call = 'answer';
      this.options.acceptor
        .send({ kind: 'http-frames', connection: reply, secret: '', lines: [], call, status, body })
        .catch(() => undefined); // the receiving node answers 410 after its bound
    };
    const id = envelope.connection;
    const entry = this.entries.get(id);
    if (entry === undefined)
      return answer(410, errorBody(ErrorCode.NotFound, 'no such connection: open a new one'));
    if (!secretMatches(entry, envelope.secret))
      return answer(403, errorBody(ErrorCode.PermissionDenied, `wrong or missing ${SECRET_HEADER}`));
    if (envelope.call === 'delete') {
      this.close(id, entry);
      return answer(204, '');
    }
    const socket = entry.socket;
    const cursor = envelope.cursor ?? 0;
    if (!(socket instanceof PollingTransportSocket) || cursor < 0)
      return answer(400, errorBody(ErrorCode.BadRequest, 'this connection is not a polling one'));
    entry.waitingSince = this.options.clock.now();
    socket.poll(cursor, (polled) => {
      if (polled.close !== undefined) this.forget(id, socket);
      socket.pollEnded(this.options.clock.now());
      answer(200, pollBody(polled));
    });
  }

  /** Hand POSTed frames to the connection in order; a frame over the size limit closes it (1009). */
  private deliver(entry: Entry, frames: readonly string[]): void {
    for (const frame of frames) {
      if (entry.handle === undefined) return;
      if (Buffer.byteLength(frame) > this.options.maxMessageBytes) {
        entry.handle.receiveInvalid(CloseCode.MessageTooBig, 'message too big');
        return;
      }
      entry.handle.receiveText(frame);
    }
  }

  /** `DELETE /v1/connections/:connection`: the client closes its connection. */
  remove(req: IncomingMessage, res: ServerResponse, id: string): void {
    req.resume();
    if (this.remote(id)) {
      this.listen();
      this.calls.forward(req, res, 'delete', id, 0);
      return;
    }
    const entry = this.find(req, res, id);
    if (entry === null) return;
    this.close(id, entry);
    res.writeHead(204, corsHeaders(req));
    res.end();
  }

  /** Close a connection at its client's request. */
  private close(id: string, entry: Entry): void {
    const socket = entry.socket;
    if (socket instanceof PollingTransportSocket) {
      socket.abandon(CloseCode.Normal, 'closed by the client');
      this.forget(id, socket);
    } else socket.close(CloseCode.Normal, 'closed by the client');
  }

  /** The entry `id` names when the request presents its secret; otherwise answers (410, 403) and null. */
  private find(req: IncomingMessage, res: ServerResponse, id: string): Entry | null {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      gone(req, res);
      return null;
    }
    const presented = req.headers[SECRET_HEADER];
    if (!secretMatches(entry, typeof presented === 'string' ? presented : '')) {
      sendError(res, ErrorCode.PermissionDenied, `wrong or missing ${SECRET_HEADER}`, 403, corsHeaders(req));
      return null;
    }
    return entry;
  }

  private forget(id: string, socket: PollingTransportSocket): void {
    if (this.entries.get(id)?.socket !== socket) return;
    this.entries.delete(id);
    this.polling--;
    if (this.polling === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Answer polls held past their time; end connections nobody polls; forget ended ones nobody asks about. */
  private sweep(): void {
    const now = this.options.clock.now();
    for (const [id, entry] of this.entries) {
      const socket = entry.socket;
      if (!(socket instanceof PollingTransportSocket)) continue;
      if (socket.waiting) {
        if (now - entry.waitingSince >= this.options.pollTimeoutMs) socket.expire();
      } else if (now - socket.idleSince >= this.options.pollTimeoutMs) {
        socket.abandon(CloseCode.Abnormal, 'the client stopped polling');
        this.forget(id, socket);
      }
    }
  }
}

/** Whether `secret` is the entry's (in constant time). */
function secretMatches(entry: Entry, secret: string): boolean {
  const given = Buffer.from(secret);
  return given.length === entry.secret.length && timingSafeEqual(given, entry.secret);
}

/** The query of a v1 connection over HTTP: `session=` (resume). Tokens are the handshake's business. */
function acceptOptions(url: URL): AcceptOptions | string {
  const session = url.searchParams.get('session');
  if (session === null || session === '') return {};
  if (session.length > MAX_SESSION_ID) return `session must be at most ${MAX_SESSION_ID} characters`;
  return { sessionId: session };
}
