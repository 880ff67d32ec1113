/** What the inbox and the work-queue consumers need from their client: the current connection and requests. */
import type { ConnectedInfo } from './client-events.js';
import type { RequestCommand } from './commands.js';
import { ConnectionClosedError, NotConnectedError } from './errors.js';
import type { ReplyCallback } from './request-table.js';

/** The client seen from the delivery side (inbox.ts, consumer.ts). */
export interface DeliveryHost {
  /**
   * The current connection, null when not connected. Compared by identity: each connection has its own
   * object, so a message remembers the connection it came on and its ack never goes out on another.
   */
  connection(): ConnectedInfo | null;
  /**
   * Send `command` with a fresh id; `settle` hears the reply, or at once NotConnectedError when not
   * connected, or ConnectionClosedError when the connection is lost first.
   */
  request(command: RequestCommand, settle: ReplyCallback): void;
}

/**
 * Whether `error` only says the connection went away. Such failures are not reported: a lost connection
 * drops acks, nacks and opens on purpose, and the server redelivers (and the SDK reopens) afterwards.
 */
export function isConnectionLoss(error: Error): boolean {
  return error instanceof ConnectionClosedError || error instanceof NotConnectedError;
}
