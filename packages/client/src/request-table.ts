/**
 * Requests waiting for their reply, keyed by command id. Pure bookkeeping: no socket and no timer of its
 * own. The client owns the single timer and calls {@link RequestTable.expire} when it fires.
 */
import type { Reply } from '@switchboard/protocol';
import { RequestTimeoutError, serverErrorFrom } from './errors.js';

interface PendingRequest {
  readonly command: string;
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
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
    const id = this.nextId();
    const result = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { command, timeoutMs, deadline: now + timeoutMs, resolve, reject });
    });
    return { id, result };
  }

  /**
   * Settle the request a reply answers: its `result`, or a ServerError for an error reply.
   * Returns false when no request waits for that id (late, duplicate or unsolicited replies).
   */
  settle(reply: Reply): boolean {
    const request = this.pending.get(reply.id);
    if (request === undefined) return false;
    this.pending.delete(reply.id);
    if ('error' in reply) request.reject(serverErrorFrom(reply.error));
    else request.resolve(reply.result);
    return true;
  }

  /** Reject one request with `error` (for example: its frame could not be sent). */
  reject(id: number, error: Error): void {
    const request = this.pending.get(id);
    if (request === undefined) return;
    this.pending.delete(id);
    request.reject(error);
  }

  /**
   * Reject every request whose deadline is at or before `now` with a RequestTimeoutError.
   * Returns the earliest remaining deadline, or Infinity when nothing is pending.
   */
  expire(now: number): number {
    let next = Infinity;
    for (const [id, request] of this.pending) {
      if (request.deadline <= now) {
        this.pending.delete(id);
        request.reject(new RequestTimeoutError(request.command, request.timeoutMs));
      } else if (request.deadline < next) {
        next = request.deadline;
      }
    }
    return next;
  }

  /** Reject every pending request with `error` (the connection closed). */
  rejectAll(error: Error): void {
    const requests = [...this.pending.values()];
    this.pending.clear();
    for (const request of requests) request.reject(error);
  }
}
