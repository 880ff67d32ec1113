/**
 * The hub's queue runtime factory (`queueRuntime` of HubOptions): the QueueDispatcher built from what the
 * hub hands over. Consumers are authorized as the operation `consume` on the channel `queue:<name>`.
 */
import type { Broker } from '../broker/broker.js';
import { ServerNotRunningError } from '../errors.js';
import { fullJitterDelay } from '../util/full-jitter.js';
import type { QueueRuntimeDeps } from './guaranteed-parts.js';
import { QueueDispatcher } from './queue-dispatcher.js';
import { QueueOperations } from './queue-operations.js';

/** The channel whose rules (operation `consume`) decide who may consume `queue`. */
export function queueChannel(queue: string): string {
  return `queue:${queue}`;
}

/**
 * Build this node's queue dispatcher and the library API's operations on it: they run while `server` is
 * running, wake consumers through `broker`, and take payloads up to `limits.maxMessageBytes` (publish's).
 */
export function queueOperations(
  deps: QueueRuntimeDeps,
  server: { readonly state: string },
  broker: Broker,
  limits: { readonly maxMessageBytes: number },
): QueueOperations {
  const { logger } = deps;
  // Stored durably already: a failed wake-up only delays the jobs until the consumers' next poll.
  const announce = (queue: string): Promise<void> =>
    broker.send({ kind: 'queue', queue }).catch((error: unknown) => {
      logger.warn({ err: error, queue }, 'work queue wake-up not sent; consumers poll');
    });
  const dispatcher = createQueueRuntime(deps, (queue) => void announce(queue));
  return new QueueOperations({
    store: deps.store,
    dispatcher,
    maxAttempts: deps.config.maxAttempts,
    maxMessageBytes: limits.maxMessageBytes,
    assertRunning: () => {
      if (server.state !== 'running') throw new ServerNotRunningError();
    },
    announce,
    metrics: deps.metrics,
    clock: deps.clock,
  });
}

/** Build this node's queue dispatcher. */
export function createQueueRuntime(
  deps: QueueRuntimeDeps,
  announce?: (queue: string) => void,
): QueueDispatcher {
  const { config, delivery, errors, authorizer, deadLetters } = deps;
  return new QueueDispatcher({
    nodeId: deps.nodeId,
    store: deps.store,
    ackTimeoutMs: config.ackTimeoutMs,
    pollMs: config.pollMs,
    backoff: (attempt) => fullJitterDelay(attempt, config.retryMinMs, config.retryMaxMs),
    permits: (connection, queue) =>
      authorizer.permissive
        ? Promise.resolve(true)
        : authorizer.allows(connection, 'consume', queueChannel(queue)),
    replies: {
      reply: (connection, id, result) => delivery.reply(connection, id, result),
      writeText: (connection, text) => delivery.writeText(connection, text),
      error: (connection, code, message, id) => errors.send(connection, code, message, id),
    },
    deadLettered: (queue, dead) => deadLetters.report({ kind: 'queue', queue }, dead),
    ...(announce === undefined ? {} : { announce }),
    metrics: deps.metrics,
    logger: deps.logger,
    clock: deps.clock,
  });
}
