/**
 * Requests waiting for their reply, keyed by command id. Pure bookkeeping: no socket and no timer of its
 * own. The client owns the single timer and calls {@link RequestTable.expire} when it fires.
 */
import type { Reply } from '@switchboard/protocol';
import { RequestTimeoutError, serverErrorFrom } from './errors.js';

/**
 * Called once with the outcome of a request: an error, or null and the reply's result. Called
 * synchronously, while the reply frame is being handled: a subscription must apply its reply before the
 * next frame of the same socket chunk (`ws` emits a chunk's frames in one go, before any promise
 * callback runs).
 */
export type ReplyCallback = (error: Error | null, result?: unknown) => void;

interface PendingRequest {
  readonly command: string;
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly settle: ReplyCallback;
}

/** A request just registered: the id to send it with and the promise of its result. */
export interface OpenedRequest {
  readonly id: number;
  readonly result: Promise<unknown>;
}

/** Pending requests and the id counter. */
export class RequestTable {
  private readonly pending = new Map<number, PendingRequest>();
  // Ids are per client, not per connection: after a reconnect, a late reply to an old connection's
  // request can never be mistaken for the answer to a new one.
  private lastId = 0;

  /** How many requests wait for a reply. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * A fresh command id. Also used for commands whose replies nobody waits for (the heartbeat ping):
   * a reply to an id that is not registered is ignored.
   */
  nextId(): number {
    // 2^53 ids at a million requests a second last 285 years; no wrap-around needed.
    return ++this.lastId;
  }

  /** Register a request for `command` (its `type`) that fails with a timeout after `timeoutMs`. */
  open(command: string, now: number, timeoutMs: number): OpenedRequest {
    let settle!: ReplyCallback;
    const result = new Promise<unknown>((resolve, reject) => {
      settle = (error, value) => (error === null ? resolve(value) : reject(error));
    });
    return { id: this.openWith(command, now, timeoutMs, settle), result };
  }

  /** Register a request whose outcome goes to `settle`, synchronously; returns its id. */
  openWith(command: string, now: number, timeoutMs: number, settle: ReplyCallback): number {
    const id = this.nextId();
    this.pending.set(id, { command, timeoutMs, deadline: now + timeoutMs, settle });
    return id;
  }

  /**
   * Settle the request a reply answers: its `result`, or a ServerError for an error reply.
   * Returns false when no request waits for that id (late, duplicate or unsolicited replies).
   */
  settle(reply: Reply): boolean {
    const request = this.pending.get(reply.id);
    if (request === undefined) return false;
    this.pending.delete(reply.id);
    if ('error' in reply) request.settle(serverErrorFrom(reply.error));
    else request.settle(null, reply.result);
    return true;
  }

  /** Reject one request with `error` (for example: its frame could not be sent). */
  reject(id: number, error: Error): void {
    const request = this.pending.get(id);
    if (request === undefined) return;
    this.pending.delete(id);
    request.settle(error);
  }

  /**
   * Reject every request whose deadline is at or before `now` with a RequestTimeoutError.
   * Returns the earliest remaining deadline, or Infinity when nothing is pending.
   */
  expire(now: number): number {
    const expired: PendingRequest[] = [];
    let next = Infinity;
    for (const [id, request] of this.pending) {
      if (request.deadline <= now) {
        this.pending.delete(id);
        expired.push(request);
      } else if (request.deadline < next) {
        next = request.deadline;
      }
    }
    // Settled after the sweep: a callback may open or reject requests itself.
    for (const request of expired)
      request.settle(new RequestTimeoutError(request.command, request.timeoutMs));
    return next;
  }

  /** Reject every pending request with `error` (the connection closed). */
  rejectAll(error: Error): void {
    const requests = [...this.pending.values()];
    this.pending.clear();
    for (const request of requests) request.settle(error);
  }
}
