/**
 * Guaranteed delivery on the client: the user's inbox and the work-queue consumers, routed the pushes
 * and connection changes they need. The client holds one and forwards to it (client.ts stays a router).
 */
import { DEFAULT_CONSUME_PREFETCH, MAX_CONSUME_PREFETCH, queueNameProblem } from '@switchboard/protocol';
import type { InboxPush, JobPush } from '@switchboard/protocol';
import { Consumer } from './consumer.js';
import type { ConsumeOptions, JobHandler } from './consumer.js';
import type { DeliveryHost } from './delivery-host.js';
import type { EmitterOptions } from './emitter.js';
import { InvalidArgumentError } from './errors.js';
import { Inbox } from './inbox.js';
import type { ClientConnection } from './client-connection.js';
import type { ResolvedClientOptions } from './client-options.js';

/** The inbox and the consumers of one client. */
export class Delivery {
  readonly inbox: Inbox;
  private readonly consumers = new Map<string, Consumer>();

  private readonly host: DeliveryHost;

  constructor(
    options: ResolvedClientOptions,
    link: Pick<ClientConnection, 'info' | 'requestWith'>,
    private readonly emitterOptions: EmitterOptions,
  ) {
    const timeoutMs = options.requestTimeoutMs;
    this.host = {
      connection: () => link.info,
      request: (command, settle) => link.requestWith(command, timeoutMs, settle),
    };
    this.inbox = new Inbox(options.inbox, this.host, emitterOptions);
  }

  /** See {@link SwitchboardClient.consume}. */
  consume<T>(queue: string, handler: JobHandler<T>, options: ConsumeOptions = {}): Consumer {
    const problem = queueNameProblem(queue);
    if (problem !== null) throw new InvalidArgumentError(`invalid queue name: ${problem}`);
    if (typeof handler !== 'function') throw new InvalidArgumentError('the job handler must be a function');
    const prefetch = options.prefetch ?? DEFAULT_CONSUME_PREFETCH;
    if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > MAX_CONSUME_PREFETCH) {
      throw new InvalidArgumentError(`prefetch must be an integer from 1 to ${MAX_CONSUME_PREFETCH}`);
    }
    if (this.consumers.has(queue)) {
      throw new InvalidArgumentError(`this client already consumes ${queue}: cancel() that consumer first`);
    }
    const consumer = new Consumer(
      queue,
      prefetch,
      handler as JobHandler,
      this.host,
      this.emitterOptions,
      (ended) => {
        if (this.consumers.get(queue) === ended) this.consumers.delete(queue);
      },
    );
    this.consumers.set(queue, consumer);
    return consumer;
  }

  /** A connection is up (the host's connection() is it): reopen the inbox and consume again. */
  connected(): void {
    this.inbox.connected();
    for (const consumer of this.consumers.values()) consumer.connected();
  }

  /** The connection is gone (or the client closed). */
  lost(): void {
    this.inbox.lost();
  }

  /** An `inbox` or `job` push. */
  push(frame: InboxPush | JobPush): void {
    if (frame.type === 'inbox') this.inbox.push(frame);
    else this.consumers.get(frame.queue)?.push(frame);
  }
}
