/**
 * The hub's queue runtime factory (`queueRuntime` of HubOptions): the QueueDispatcher built from what the
 * hub hands over. Consumers are authorized as the operation `consume` on the channel `queue:<name>`.
 */
import { fullJitterDelay } from '../util/full-jitter.js';
import type { QueueRuntimeDeps } from './guaranteed-parts.js';
import { QueueDispatcher } from './queue-dispatcher.js';

/** The channel whose rules (operation `consume`) decide who may consume `queue`. */
export function queueChannel(queue: string): string {
  return `queue:${queue}`;
}

/** Build this node's queue dispatcher. */
export function createQueueRuntime(deps: QueueRuntimeDeps): QueueDispatcher {
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
    metrics: deps.metrics,
    logger: deps.logger,
    clock: deps.clock,
  });
}
