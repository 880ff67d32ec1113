/**
 * The states, messages and events of a {@link ReconnectingWebSocket}. Its state changes in exactly one
 * place (its `setState`), which checks the move against {@link canReconnectingTransition} and emits a
 * {@link ReconnectingStateChange}.
 *
 * | from | to | when |
 * | --- | --- | --- |
 * | connecting, reconnecting | open | a socket opened (queued messages were written first) |
 * | connecting, open | reconnecting | the socket closed or failed, and a retry is scheduled |
 * | connecting, open, reconnecting | closed | `close()`, a terminal close code, or no attempts left |
 */
import type { DroppedItem } from './send-queue.js';

/**
 * Where a reconnecting socket is:
 * - `connecting`: the first attempt is under way (the initial state);
 * - `open`: a socket is open; `send()` writes to it;
 * - `reconnecting`: a connection was lost or an attempt failed; waiting for the next attempt or making
 *   it (each attempt is announced by a `retry` event, not by a state change);
 * - `closed`: for good; a new instance is needed to connect again.
 */
export type ReconnectingState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The payload of the `state` event. */
export interface ReconnectingStateChange {
  readonly from: ReconnectingState;
  readonly to: ReconnectingState;
  /**
   * The close code when the change was a close (a code of 1000 or more); 1 (`TransitionCode.Connected`)
   * when a socket opened.
   */
  readonly code: number;
  readonly reason: string;
}

const TRANSITIONS: Readonly<Record<ReconnectingState, readonly ReconnectingState[]>> = {
  connecting: ['open', 'reconnecting', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

/** Whether a reconnecting socket may move from `from` to `to`. */
export function canReconnectingTransition(from: ReconnectingState, to: ReconnectingState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What `send()` accepts: text, or binary data (copied when queued, so the caller may reuse its buffer). */
export type OutgoingData = string | ArrayBufferLike | ArrayBufferView;

/** What became of a `send()`: written to the open socket, queued for the next one, or dropped. */
export type SendResult = 'sent' | 'queued' | 'dropped';

/** A received message. Binary messages arrive as an `ArrayBuffer` in browsers and in Node alike. */
export interface ReceivedMessage {
  readonly data: string | ArrayBuffer;
  /** True for a binary frame, false for a text frame. */
  readonly isBinary: boolean;
}

/** A message handed out by async iteration. */
export interface IteratedMessage extends ReceivedMessage {
  /**
   * How many messages this iterator discarded right before this one because its buffer was full (the
   * oldest buffered ones go first); 0 when none.
   */
  readonly missed: number;
}

/** The payload of the `close` event: one socket (or attempt) ended. */
export interface SocketClosed {
  /** The close code; 1006 when the connection failed or dropped without a close frame. */
  readonly code: number;
  readonly reason: string;
  /** Whether another attempt follows (the verdict of `shouldReconnect`, `maxAttempts` and `close()`). */
  readonly reconnect: boolean;
  /**
   * What went wrong, when something reported an error: the socket's `error` event (an `ErrorEvent`, whose
   * `error` is the cause in `ws`; browsers say nothing more), or what the URL provider or the WebSocket
   * constructor threw. Undefined for an orderly close.
   */
  readonly cause: unknown;
}

/** The payload of the `retry` event: an attempt is scheduled. */
export interface RetryScheduled {
  /** Which attempt since the last stable connection (1 for the first retry). */
  readonly attempt: number;
  /** The wait before it (ms), drawn by the backoff. */
  readonly delayMs: number;
}

/** The payload of the `dropped` event: queued messages that will never be sent. */
export interface DroppedMessages {
  /**
   * Oldest first. `reason` is `overflow` (evicted by a newer message), `expired` (older than
   * `queue.maxAgeMs`) or `cleared` (the socket closed for good).
   */
  readonly messages: readonly DroppedItem<OutgoingData>[];
}

/** The events of a {@link ReconnectingWebSocket} and their payloads. */
export interface ReconnectingWebSocketEvents {
  /** The state changed. */
  state: ReconnectingStateChange;
  /** A socket opened; `protocol` is the subprotocol the server chose ('' for none). */
  open: { readonly protocol: string };
  /** A message arrived (pongs recognised by `ping.isPong` are not delivered). */
  message: ReceivedMessage;
  /** A socket or attempt ended. */
  close: SocketClosed;
  /** The next attempt is scheduled. */
  retry: RetryScheduled;
  /**
   * Queued messages were discarded. Re-sending them from this listener while offline evicts others from
   * the full queue in turn; report them instead.
   */
  dropped: DroppedMessages;
  /** A pong answered the last ping; `latencyMs` is the round trip on the socket's clock. */
  latency: { readonly latencyMs: number };
}
