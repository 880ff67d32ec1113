/**
 * Long polls and `DELETE`s that reach a node other than the one holding the connection (no sticky
 * sessions): the receiving node sends the call to the owner through the broker with a reply address
 * (`<thisNodeId>.<requestId>`), the owner runs it (a poll is held there, cursor semantics unchanged, the
 * secret checked there) and sends its answer back, which is written here. When no answer comes within
 * the bound (the owner is gone), the client is answered 410 and opens a new connection (its session
 * resumes). docs/protocol.md#http-transports.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@switchboard/protocol';
import type { Envelope, HttpFramesEnvelope } from '../broker/broker.js';
import { sendError } from './http-utils.js';
import { corsHeaders } from './sse-endpoint.js';

/** The most forwarded calls one node waits on at once; more are answered 503 (temporary). */
export const MAX_FORWARDED_CALLS = 10_000;

/**
 * How much longer than the poll timeout a forwarded call waits for the owner's answer (ms): this, or the
 * poll timeout itself when that is shorter.
 */
export const FORWARD_MARGIN_MS = 5000;

/** How long a forwarded call waits for the owner's answer before answering 410. */
export function forwardBoundMs(pollTimeoutMs: number): number {
  return pollTimeoutMs + Math.min(FORWARD_MARGIN_MS, pollTimeoutMs);
}

/** One forwarded call awaiting its answer. */
interface Pending {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Counts, for /stats and tests. */
export interface ForwardedCallStats {
  /** Calls waiting for the owner's answer now. */
  pending: number;
  /** Calls forwarded since start. */
  forwarded: number;
  /** Calls answered 410 because the owner did not answer in time. */
  timedOut: number;
  /** Calls refused 503 because {@link MAX_FORWARDED_CALLS} were pending. */
  refused: number;
}

/** The receiving side: forwards calls and writes the answers that come back. */
export class ForwardedCalls {
  private readonly pending = new Map<string, Pending>();
  readonly stats: ForwardedCallStats = { pending: 0, forwarded: 0, timedOut: 0, refused: 0 };

  constructor(
    private readonly nodeId: string,
    private readonly send: (envelope: Envelope) => Promise<void>,
    /** How long a call waits for its answer ({@link forwardBoundMs}). */
    private readonly boundMs: number,
  ) {}

  /** Send `call` for `connection` to its owner; the answer (or 410 after the bound) is written to `res`. */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    call: 'poll' | 'delete',
    connection: string,
    cursor: number,
  ): void {
    if (this.pending.size >= MAX_FORWARDED_CALLS) {
      this.stats.refused++;
      const message = 'too many requests are waiting for other nodes: retry';
      sendError(res, ErrorCode.Unavailable, message, 503, corsHeaders(req));
      return;
    }
    const request = randomBytes(12).toString('base64url');
    res.socket?.setTimeout(0);
    const timer = setTimeout(() => {
      if (!this.pending.has(request)) return;
      this.stats.timedOut++;
      this.settle(request)?.((p) => goneAnswer(p.req, p.res));
    }, this.boundMs);
    timer.unref();
    this.pending.set(request, { req, res, timer });
    this.stats.pending = this.pending.size;
    this.stats.forwarded++;
    // The client went away: forget the call (an answer arriving later is dropped; a poll's frames are
    // not lost, they stay queued on the owner until a later poll's cursor acknowledges them).
    res.on('close', () => this.settle(request));
    const presented = req.headers['x-switchboard-secret'];
    const secret = typeof presented === 'string' ? presented : '';
    const envelope: HttpFramesEnvelope = {
      kind: 'http-frames',
      connection,
      secret,
      lines: [],
      call,
      reply: `${this.nodeId}.${request}`,
      ...(call === 'poll' ? { cursor } : {}),
    };
    this.send(envelope).catch(() => {
      this.settle(request)?.((p) => {
        const message = 'the node holding this connection cannot be reached';
        sendError(p.res, ErrorCode.Unavailable, message, 503, corsHeaders(p.req));
      });
    });
  }

  /** An answer from an owner: written to its request, when that is still waiting. */
  answered(envelope: HttpFramesEnvelope): void {
    const dot = envelope.connection.lastIndexOf('.');
    const request = envelope.connection.slice(dot + 1);
    this.settle(request)?.(({ req, res }) => {
      if (res.destroyed || res.writableEnded) return;
      const text = envelope.body ?? '';
      res.writeHead(envelope.status ?? 200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
        ...corsHeaders(req),
      });
      res.end(text);
    });
  }

  /** Stop waiting on every call (shutdown): each is answered 410. */
  close(): void {
    for (const request of [...this.pending.keys()]) this.settle(request)?.((p) => goneAnswer(p.req, p.res));
  }

  /** Remove a waiting call; returns a function to answer it with, or undefined when it no longer waits. */
  private settle(request: string): ((answer: (p: Pending) => void) => void) | undefined {
    const pending = this.pending.get(request);
    if (pending === undefined) return undefined;
    this.pending.delete(request);
    this.stats.pending = this.pending.size;
    clearTimeout(pending.timer);
    return (answer) => {
      if (!pending.res.destroyed && !pending.res.writableEnded) answer(pending);
    };
  }
}

/** 410: the owner did not answer (gone, or unreachable): open a new connection, the session resumes. */
function goneAnswer(req: IncomingMessage, res: ServerResponse): void {
  sendError(
    res,
    ErrorCode.NotFound,
    'the node holding this connection did not answer: open a new one',
    410,
    corsHeaders(req),
  );
}
