import type { HistoryReadStats } from '../history/history-read-pacing.js';
import type { DeadLetterReason } from '../inbox/inbox-store.js';

/** Why a message was not delivered to a connection. Every drop is counted under one of these. */
export type DropReason =
  /** An ephemeral message met a full outbound buffer. */
  | 'backpressure'
  /** The connection was closed as a slow consumer with messages still due to it. */
  | 'slow_consumer'
  /** The target connection closed while the message was in flight. */
  | 'closed';

/** Which limit refused a connection attempt or an inbound frame. Every refusal is counted under one of these. */
export type LimitName =
  /** The handshake's Origin is not on the allow-list (HTTP 403). */
  | 'origin'
  /** Too many new connections from one address per second (HTTP 429). */
  | 'ip_rate'
  /** Too many open connections from one address (HTTP 429). */
  | 'ip_connections'
  /** Too many open connections of one user (HTTP 429 at the handshake, close 4507 after first-message auth). */
  | 'user_connections'
  /** This node holds its maximum number of connections (HTTP 503). */
  | 'node_connections'
  /** This node is admitting its maximum of new connections per second (HTTP 503). */
  | 'node_rate'
  /** This node's event-loop delay is over `admissionLoopDelayMs` (HTTP 503). */
  | 'event_loop_delay'
  /** A frame over the connection's messages-per-second limit (a `rate_limited` reply). */
  | 'messages'
  /** A frame over the connection's bytes-per-second limit (a `rate_limited` reply). */
  | 'bytes'
  /** A request head or body that did not arrive in time (HTTP 408 from Node). */
  | 'request_timeout'
  /**
   * A socket that delivered no complete request head within `silentSocketTimeoutMs` of its accept (HTTP 408,
   * or a plain close during a TLS handshake).
   */
  | 'silent_socket'
  /** An HTTP API request from an address with too many failed API key attempts (HTTP 429). */
  | 'api_key_failures';

/** Why an HTTP API request was refused by the API key check. */
export type ApiKeyRejection =
  /** No key in either header (HTTP 401). */
  | 'missing'
  /** A key that is not the server's (HTTP 401). */
  | 'wrong'
  /** Not checked: the address has used up its failed attempts (HTTP 429). */
  | 'throttled'
  /** No key is configured and the client is not on this machine (HTTP 403; see `apiInsecure`). */
  | 'not_loopback';

/** Who closed a connection: the server (the code it sent) or the client (the code it sent, or 1006). */
export type CloseInitiator = 'server' | 'client';

/** Why a claimed job went back to its queue: a `nack`, its lock lapsed (ack timeout), or its consumer left. */
export type QueueNackReason = 'nack' | 'timeout' | 'released';

/**
 * Why a work-queue request was refused: an enqueue (full, bad name, too large, bad field), a consume
 * (permission), or an ack or nack (no such job held, or its lock moved on).
 */
export type QueueRefusal =
  | 'queue_full'
  | 'invalid_queue'
  | 'message_too_large'
  | 'bad_request'
  | 'permission_denied'
  | 'not_found'
  | 'lock_lost';
/** Why a `deliver` (or an inbox nack) was refused. */
export type InboxRefusal =
  /** The user's inbox is full (`inbox_full`, HTTP 507). */
  | 'full'
  /** The payload is over the size limit (`message_too_large`, HTTP 413). */
  | 'too_large'
  /** A nack over the connection's nack rate (`rate_limited`; the nack is ignored). */
  | 'rate_limited';

/** Counts shown in /stats and exported as gauges. */
export interface GaugeSnapshot {
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
}

/**
 * The metrics seam. Calls sit on hot paths, so implementations must be cheap; per-recipient work is
 * reported once per fan-out with a count, never once per recipient.
 */
/**
 * How a forwarded poll or DELETE ended: `answered` (the owner's answer was written), `timeout` (no answer
 * within the bound: 410), `refused` (too many waiting: 503), `unreachable` (the broker failed: 503),
 * `aborted` (the client went away first).
 */
export type ForwardOutcome = 'answered' | 'timeout' | 'refused' | 'unreachable' | 'aborted';

/**
 * How a webhook attempt or delivery ended: `delivered` (a 2xx answer), `retried` (an attempt failed, another
 * follows), `dead_lettered` (the last attempt failed, or the server stopped), `queue_full` (too many
 * deliveries pending: dead-lettered without an attempt).
 */
export type WebhookOutcome = 'delivered' | 'retried' | 'dead_lettered' | 'queue_full';

/**
 * Why a node refused a new connection to protect itself (`switchboard_admission_refused_total`): it is
 * draining or stopping, its event loop is late, it is over its accept budget (`connectionRate`), or it
 * holds its maximum of connections.
 */
export type AdmissionReason = 'shutting_down' | 'event_loop_delay' | 'accept_budget' | 'max_connections';

export interface Metrics {
  connectionOpened(transport: string): void;
  /**
   * A connection's transport reported its end. `code` is the server's own close code when `by` is
   * `server` (whatever the peer answered, or 1006 when it never did), else the client's.
   */
  connectionClosed(transport: string, code: number, by: CloseInitiator): void;
  /** A connection attempt was refused before or during the handshake. */
  handshakeRejected(status: number, reason: string): void;
  /** A limit refused a connection attempt or a frame (the 4003 close that may follow is a connectionClosed). */
  limitRejected(limit: LimitName): void;
  /** A new connection was refused because the node protects itself (also counted as a handshake refusal). */
  admissionRefused(reason: AdmissionReason): void;
  /** A drain closed `count` connections (one batch). */
  connectionsDrained(count: number): void;
  /** A drain began (true) or the server stopped (false): the `switchboard_draining` gauge. */
  setDraining(draining: boolean): void;
  /** An HTTP API request (or `/stats`) was refused by the API key check. */
  apiKeyRejected(reason: ApiKeyRejection): void;
  /** Frames received from clients. */
  framesReceived(count: number): void;
  /** Messages written to client connections. */
  messagesDelivered(count: number): void;
  /** A publish, user send, connection send or broadcast entered the hub. */
  messagePublished(kind: 'channel' | 'user' | 'connection' | 'broadcast'): void;
  messagesDropped(reason: DropReason, count: number): void;
  /** An error reply or error push with `code` went to a client. */
  clientError(code: string): void;
  /** A heartbeat tick visited `visited` connections in `durationMs`. */
  heartbeatTick(visited: number, durationMs: number): void;
  /**
   * A channel's subscribers were told to resubscribe: messages were lost between the broker and this node
   * (a pub/sub outage, a failover) and history could not fill the gap. They recover by their positions.
   */
  streamReset(): void;
  /** A poll or DELETE that reached this node for another node's HTTP connection ended (forwarded-calls.ts). */
  httpCallForwarded(call: 'poll' | 'delete', outcome: ForwardOutcome): void;
  /** A job was stored in a work queue (not counted again for a duplicate idempotency key). */
  queueEnqueued(): void;
  /** Jobs were handed to consumers: on their first attempt, or again. */
  queueDispatched(attempt: 'first' | 'retry', count: number): void;
  /** A job was acked (done). */
  queueAcked(): void;
  /** Jobs went back to their queue. */
  queueNacked(reason: QueueNackReason, count: number): void;
  /** A work-queue request was refused. */
  queueRefused(reason: QueueRefusal): void;
  /** A message was stored in a user's inbox (`deliver`, or a dead letter redelivered). */
  inboxStored(): void;
  /** An inbox message was pushed to a device: its first attempt on that device, or a retry. */
  inboxPushed(attempt: 'first' | 'retry'): void;
  /** A device acked an inbox message; `latencyMs` from its push when this node pushed it, else null. */
  inboxAcked(latencyMs: number | null): void;
  /** An inbox message in flight was given back: a `nack`, or its ack timeout. */
  inboxNacked(reason: 'nack' | 'timeout'): void;
  /** A `deliver` or a nack was refused. */
  inboxRefused(reason: InboxRefusal): void;
  /** A message (inbox) or job (queue) became a dead letter. */
  deadLettered(kind: 'inbox' | 'queue', reason: DeadLetterReason): void;
  /** Old dead letters dropped to keep a user's or queue's dead letters within `maxDeadLetters`. */
  deadLettersDropped(count: number): void;
  /** A webhook of `event` (user.offline, inbox.undelivered, dead_letter) to one target ended an attempt. */
  webhookOutcome(event: string, outcome: WebhookOutcome): void;
  /** Register the source of the connection/user/channel gauges. */
  setGaugeSource(source: () => GaugeSnapshot): void;
  /** Register the source of the readiness gauge (1 while `/ready` answers 200). */
  setReadinessSource(source: () => boolean): void;
  /** Register the source of the history read gauges and refusal counter (the engine's paced reads). */
  setHistoryReadSource(source: () => HistoryReadStats): void;
  /** The metrics in the Prometheus text format, or null when this implementation exports none. */
  render(): Promise<{ contentType: string; body: string } | null>;
}

/** Metrics that record nothing. */
export class NoopMetrics implements Metrics {
  connectionOpened(): void {}
  connectionClosed(): void {}
  handshakeRejected(): void {}
  limitRejected(): void {}
  admissionRefused(): void {}
  connectionsDrained(): void {}
  setDraining(): void {}
  apiKeyRejected(): void {}
  framesReceived(): void {}
  messagesDelivered(): void {}
  messagePublished(): void {}
  messagesDropped(): void {}
  clientError(): void {}
  heartbeatTick(): void {}
  streamReset(): void {}
  httpCallForwarded(): void {}
  queueEnqueued(): void {}
  queueDispatched(): void {}
  queueAcked(): void {}
  queueNacked(): void {}
  queueRefused(): void {}
  inboxStored(): void {}
  inboxPushed(): void {}
  inboxAcked(): void {}
  inboxNacked(): void {}
  inboxRefused(): void {}
  deadLettered(): void {}
  deadLettersDropped(): void {}
  webhookOutcome(): void {}
  setGaugeSource(): void {}
  setReadinessSource(): void {}
  setHistoryReadSource(): void {}
  render(): Promise<null> {
    return Promise.resolve(null);
  }
}
