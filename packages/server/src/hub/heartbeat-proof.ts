/**
 * What proves a connection alive to the heartbeat, per wire dialect: application frames only, or WebSocket
 * protocol pings and pongs too. Browsers and WebSocket libraries answer protocol pings below the
 * application (RFC 6455 section 5.5.2; a frozen tab's browser still does), so only an application frame
 * shows that the program on the other end still runs. docs/protocol.md#heartbeats has the defaults' reasons.
 */
import type { WireFormat } from './outbound.js';

/**
 * `application`: only text frames prove life (a `pong`, or any command or message); `any`: WebSocket
 * protocol pings and pongs too, so a client that answers only protocol pings (wscat) stays connected.
 */
export type HeartbeatProof = 'application' | 'any';

/** Every accepted value, in the order docs list them. */
export const HEARTBEAT_PROOFS: readonly HeartbeatProof[] = ['application', 'any'];

/**
 * The proof each WebSocket dialect requires: `v1` at `/ws`, `room` at `/ws/:room`. (An SSE stream has no
 * way to answer: its liveness is the TCP write side, see Liveness.)
 */
export type HeartbeatProofs = Readonly<Record<Exclude<WireFormat, 'sse'>, HeartbeatProof>>;

/**
 * Both endpoints want an application frame: the SDK, the demo page and the seeds' clients all answer
 * `{"type":"ping"}`, and a tab whose script no longer runs must not hold its connection (and its presence)
 * forever because its browser still answers protocol pings.
 */
export const DEFAULT_HEARTBEAT_PROOFS: HeartbeatProofs = { v1: 'application', room: 'application' };

/** Per dialect, whether WebSocket protocol pings and pongs prove a connection alive. */
export type TransportProof = Readonly<Record<WireFormat, boolean>>;

/** {@link TransportProof} of `proofs`. */
export function transportProof(proofs: HeartbeatProofs): TransportProof {
  return { v1: proofs.v1 === 'any', room: proofs.room === 'any', sse: false };
}

/** Whether `value` is a {@link HeartbeatProof}. */
export function isHeartbeatProof(value: unknown): value is HeartbeatProof {
  return HEARTBEAT_PROOFS.includes(value as HeartbeatProof);
}
