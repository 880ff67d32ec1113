/**
 * The guaranteed-delivery commands (`inbox`, `ack`, `nack`, `consume`, `cancel`) routed to the inbox
 * runtime (a user's acknowledged inbox) and the queue runtime (work queues). Either may be absent (not
 * configured): its commands then answer `not_available`.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { DeliveryCommand } from '@switchboard/protocol';
import type { Connection } from './connection.js';
import type { ErrorReplies } from './error-replies.js';

/** The inbox runtime's side of the wire (hub/inbox-dispatcher.ts). Each call writes its own answer. */
export interface InboxRuntime {
  open(
    connection: Connection,
    device: string,
    prefetch: number | undefined,
    id: number | undefined,
  ): Promise<void>;
  ack(connection: Connection, message: string, id: number | undefined): Promise<void>;
  nack(
    connection: Connection,
    message: string,
    delayMs: number | undefined,
    id: number | undefined,
  ): Promise<void>;
  /** The connection left (any reason): what it held unacked is redelivered (to its other devices, later). */
  closed(connection: Connection): void;
}

/** The queue runtime's side of the wire (hub/queue-dispatcher.ts). Each call writes its own answer. */
export interface QueueRuntime {
  consume(
    connection: Connection,
    queue: string,
    prefetch: number | undefined,
    id: number | undefined,
  ): Promise<void>;
  cancel(connection: Connection, queue: string, id: number | undefined): Promise<void>;
  ack(connection: Connection, queue: string, message: string, id: number | undefined): Promise<void>;
  nack(
    connection: Connection,
    queue: string,
    message: string,
    delayMs: number | undefined,
    id: number | undefined,
  ): Promise<void>;
  /** The connection left: the jobs it held go back to their queues at once. */
  closed(connection: Connection): void;
}

/** Routes each guaranteed-delivery command to its runtime. */
export class GuaranteedCommands {
  constructor(
    private readonly errors: Pick<ErrorReplies, 'send' | 'failed'>,
    private readonly inbox: InboxRuntime | null,
    private readonly queues: QueueRuntime | null,
  ) {}

  /** Handle one command; settles once it is answered. */
  handle(connection: Connection, command: DeliveryCommand): Promise<void> {
    const id = command.id;
    switch (command.type) {
      case 'inbox':
        return this.inboxOr(connection, id, (inbox) =>
          inbox.open(connection, command.device, command.prefetch, id),
        );
      case 'consume':
        return this.queuesOr(connection, id, (queues) =>
          queues.consume(connection, command.queue, command.prefetch, id),
        );
      case 'cancel':
        return this.queuesOr(connection, id, (queues) => queues.cancel(connection, command.queue, id));
      case 'ack': {
        const queue = command.queue;
        if (queue === undefined)
          return this.inboxOr(connection, id, (inbox) => inbox.ack(connection, command.message, id));
        return this.queuesOr(connection, id, (queues) => queues.ack(connection, queue, command.message, id));
      }
      case 'nack': {
        const queue = command.queue;
        if (queue === undefined)
          return this.inboxOr(connection, id, (inbox) =>
            inbox.nack(connection, command.message, command.delay, id),
          );
        return this.queuesOr(connection, id, (queues) =>
          queues.nack(connection, queue, command.message, command.delay, id),
        );
      }
    }
  }

  /** The connection left every registry. */
  closed(connection: Connection): void {
    this.inbox?.closed(connection);
    this.queues?.closed(connection);
  }

  private inboxOr(
    connection: Connection,
    id: number | undefined,
    run: (inbox: InboxRuntime) => Promise<void>,
  ): Promise<void> {
    if (this.inbox === null) {
      this.errors.send(connection, ErrorCode.NotAvailable, 'this server has no inbox', id);
      return Promise.resolve();
    }
    return run(this.inbox).catch((error: unknown) => this.errors.failed(connection, id, error));
  }

  private queuesOr(
    connection: Connection,
    id: number | undefined,
    run: (queues: QueueRuntime) => Promise<void>,
  ): Promise<void> {
    if (this.queues === null) {
      this.errors.send(connection, ErrorCode.NotAvailable, 'this server has no work queues', id);
      return Promise.resolve();
    }
    return run(this.queues).catch((error: unknown) => this.errors.failed(connection, id, error));
  }
}
