/**
 * The client's connection state machine. The client changes state in exactly one place (its `setState`),
 * which checks the move against {@link canTransition} and emits a {@link StateChange}.
 *
 * | from | to | when |
 * | --- | --- | --- |
 * | disconnected, closed | connecting | `connect()` |
 * | connecting | connected | the server's `connected` push |
 * | connected | connecting | the connection was lost and a retry is scheduled (code: the close code) |
 * | connecting, connected | disconnected | the client stopped trying: a terminal close code, reconnection off, or attempts used up |
 * | disconnected, connecting, connected | closed | `close()` |
 *
 * A failed attempt while `connecting` is not a change of state: the client stays `connecting` and reports
 * the attempt with a `disconnected` event (`reconnect: true`) and a `reconnecting` event.
 */

/**
 * Where a client is:
 * - `disconnected`: no socket and no attempt scheduled; the initial state, and where the client ends up
 *   when it stops trying on its own;
 * - `connecting`: a socket is opening, or the client waits out a backoff delay before the next attempt;
 * - `connected`: the `connected` push arrived; commands may be sent;
 * - `closed`: the application called `close()`; nothing happens until it calls `connect()` again.
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'closed';

/**
 * Why a state change happened, for changes that are not a socket close. RFC 6455 leaves close codes
 * 0-999 unused, so these never collide with the close codes carried by changes caused by a close.
 */
export const TransitionCode = {
  /** The application called `connect()`. */
  ConnectCalled: 0,
  /** The server's `connected` push arrived. */
  Connected: 1,
} as const;

/** One of the codes in {@link TransitionCode}. */
export type TransitionCode = (typeof TransitionCode)[keyof typeof TransitionCode];

/** The payload of the `state` event. */
export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  /** A {@link TransitionCode} (below 1000) or, when the change was caused by a close, the WebSocket close code. */
  readonly code: number;
  readonly reason: string;
}

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  disconnected: ['connecting', 'closed'],
  connecting: ['connected', 'disconnected', 'closed'],
  connected: ['connecting', 'disconnected', 'closed'],
  closed: ['connecting'],
};

/** Whether the state machine allows moving from `from` to `to`. */
export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return TRANSITIONS[from].includes(to);
}
