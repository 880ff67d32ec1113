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
import type { ForwardOutcome, Metrics } from '../metrics/metrics.js';
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
  readonly call: 'poll' | 'delete';
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** The receiving side: forwards calls and writes the answers that come back. */
export class ForwardedCalls {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly nodeId: string,
    private readonly send: (envelope: Envelope) => Promise<void>,
    /** How long a call waits for its answer ({@link forwardBoundMs}). */
    private readonly boundMs: number,
    private readonly metrics: Metrics,
  ) {}

  /** Calls waiting for their owner's answer now. */
  get size(): number {
    return this.pending.size;
  }

  /** Send `call` for `connection` to its owner; the answer (or 410 after the bound) is written to `res`. */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    call: 'poll' | 'delete',
    connection: string,
    cursor: number,
  ): void {
    if (this.pending.size >= MAX_FORWARDED_CALLS) {
      this.metrics.httpCallForwarded(call, 'refused');
      const message = 'too many requests are waiting for other nodes: retry';
      sendError(res, ErrorCode.Unavailable, message, 503, corsHeaders(req));
      return;
    }
    const request = randomBytes(12).toString('base64url');
    res.socket?.setTimeout(0);
    const timer = setTimeout(() => {
      const pending = this.settle(request, 'timeout');
      if (pending !== undefined) goneAnswer(pending.req, pending.res);
    }, this.boundMs);
    timer.unref();
    this.pending.set(request, { call, req, res, timer });
    // The client went away: forget the call (an answer arriving later is dropped; a poll's frames are
    // not lost, they stay queued on the owner until a later poll's cursor acknowledges them).
    res.on('close', () => this.settle(request, 'aborted'));
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
      const pending = this.settle(request, 'unreachable');
      if (pending === undefined) return;
      const message = 'the node holding this connection cannot be reached';
      sendError(pending.res, ErrorCode.Unavailable, message, 503, corsHeaders(pending.req));
    });
  }

  /** An answer from an owner: written to its request, when that is still waiting. */
  answered(envelope: HttpFramesEnvelope): void {
    const request = envelope.connection.slice(envelope.connection.lastIndexOf('.') + 1);
    const pending = this.settle(request, 'answered');
    if (pending === undefined) return;
    const text = envelope.body ?? '';
    const status = envelope.status ?? 200;
    const headers = status === 204 ? {} : { 'content-type': 'application/json; charset=utf-8' };
    pending.res.writeHead(status, {
      ...headers,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...corsHeaders(pending.req),
    });
    pending.res.end(text);
  }

  /** Stop waiting on a call and count how it ended; returns it when it can still be answered. */
  private settle(request: string, outcome: ForwardOutcome): Pending | undefined {
    const pending = this.pending.get(request);
    if (pending === undefined) return undefined;
    this.pending.delete(request);
    clearTimeout(pending.timer);
    const aborted = pending.res.destroyed || pending.res.writableEnded;
    this.metrics.httpCallForwarded(pending.call, aborted ? 'aborted' : outcome);
    return aborted ? undefined : pending;
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
