/**
 * The offline queue of a client: `publish`, `send` and `notify` calls made while it is not connected wait
 * here (bounded by a {@link SendQueue}) and go out, in order, once the client is connected again and its
 * subscriptions are back. Each call gets exactly one outcome: sent, or dropped with a reason; a dropped
 * call's promise rejects with {@link MessageDroppedError} and the drop is reported, so nothing vanishes
 * silently (socket.io-client's unbounded `sendBuffer` and partysocket's `maxEnqueuedMessages: Infinity`
 * are the counter-examples).
 */
import type { ClientConnection } from './client-connection.js';
import type { NotifyCommand, RequestCommand } from './commands.js';
import type { DroppedCommand } from './client-events.js';
import { MessageDroppedError } from './errors.js';
import { SendQueue } from './send-queue.js';
import type { DroppedItem, SendQueueLimits } from './send-queue.js';

/** A call waiting for the connection. */
export interface QueuedCommand {
  readonly command: NotifyCommand;
  /** For a request: how long its reply may take once sent (ms), and how to settle its promise. */
  readonly request?: {
    readonly timeoutMs: number;
    readonly resolve: (result: unknown) => void;
    readonly reject: (error: Error) => void;
  };
}

/** A bounded queue of calls made while offline. */
export class Outbox {
  private readonly queue: SendQueue<QueuedCommand>;

  /** Throws InvalidOptionError for invalid limits. `report` hears about every drop, once. */
  constructor(
    limits: SendQueueLimits,
    private readonly report: (dropped: readonly DroppedCommand[]) => void,
  ) {
    this.queue = new SendQueue<QueuedCommand>({ ...limits, onDrop: (dropped) => this.dropped(dropped) });
  }

  /** How many calls wait. */
  get size(): number {
    return this.queue.size;
  }

  /** Queue `entry` at `now`; `dropped` when the queue refused it (its promise is rejected already). */
  push(entry: QueuedCommand, now: number): 'queued' | 'dropped' {
    const verdict = this.queue.push(entry, now);
    // The queue reports only what it evicts; a call it refused outright is reported here, the same way.
    if (verdict === 'dropped') this.dropped([{ item: entry, reason: 'overflow', queuedAt: now }]);
    return verdict;
  }

  /** Hand out the waiting calls at `now`, oldest first (expired ones are dropped and reported). */
  drain(now: number): Generator<QueuedCommand, void, undefined> {
    return this.queue.drain(now);
  }

  /** Drop every waiting call (reason `cleared`). */
  clear(): void {
    const cleared = this.queue.clear();
    if (cleared.length > 0) this.dropped(cleared);
  }

  private dropped(items: readonly DroppedItem<QueuedCommand>[]): void {
    const commands: DroppedCommand[] = [];
    for (const { item, reason, queuedAt } of items) {
      commands.push({ command: item.command, reason, queuedAt });
      item.request?.reject(new MessageDroppedError(item.command.type, reason));
    }
    this.report(commands);
  }
}

/** Send a call that waited, on `link`: a notify is written, a request's promise settles with its reply. */
export function sendQueued(entry: QueuedCommand, link: Pick<ClientConnection, 'write' | 'request'>): void {
  const request = entry.request;
  if (request === undefined) link.write(entry.command);
  else {
    link.request(entry.command as RequestCommand, request.timeoutMs).then(request.resolve, request.reject);
  }
}
