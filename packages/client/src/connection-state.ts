/**
 * The client's connection state machine. The client changes state in exactly one place (its `setState`),
 * which checks the move against {@link canTransition} and emits a {@link StateChange}.
 *
 * | from | to | when |
 * | --- | --- | --- |
 * | disconnected, closed | connecting | `connect()` |
 * | connecting | connected | the server's `connected` push |
 * | connecting, connected | disconnected | the socket closed, failed to open, or the server went silent |
 * | disconnected, connecting, connected | closed | `close()` |
 */

/**
 * Where a client is:
 * - `disconnected`: no socket; the initial state, and where an unrequested close leads (the reconnect
 *   issue schedules its attempts from here);
 * - `connecting`: a socket is opening, or open and waiting for the `connected` push;
 * - `connected`: the `connected` push arrived; commands may be sent;
 * - `closed`: the application called `close()`; nothing happens until it calls `connect()` again.
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'closed';

/**
 * Why a state change happened, for changes that are not a socket close. RFC 6455 leaves close codes
 * 0-999 unused, so these never collide with the close codes carried by changes to `disconnected` and
 * `closed`.
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
  /** A {@link TransitionCode} (below 1000) or, when the change was a close, the WebSocket close code. */
  readonly code: number;
  readonly reason: string;
}

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  disconnected: ['connecting', 'closed'],
  connecting: ['connected', 'disconnected', 'closed'],
  connected: ['disconnected', 'closed'],
  closed: ['connecting'],
};

/** Whether the state machine allows moving from `from` to `to`. */
export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return TRANSITIONS[from].includes(to);
}
