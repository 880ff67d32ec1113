/**
 * The shared session seam: where a session waits out its grace period when every node must be able to
 * resume it. Without one (the memory engine) sessions wait in the node's own registry, which is enough for
 * one process. With one (Redis), a client that reconnects to another node gets its session back there:
 * the same session id, its subscriptions restored from their positions, and its `connection.state`.
 */
import type { StreamPosition } from '@switchboard/protocol';

/** What survives a connection between nodes. */
export interface SessionSnapshot {
  readonly userId: string | null;
  /** Each subscribed channel with the position last delivered on it. */
  readonly channels: readonly (readonly [string, StreamPosition | null])[];
  /** `connection.state` entries; values must survive JSON (others are dropped, with a warning). */
  readonly state: readonly (readonly [string, unknown])[];
}

/** Sessions away within their grace period, shared by every node. */
export interface SessionStore {
  /** Keep `snapshot` under session `id` for `ttlMs`. */
  save(id: string, snapshot: SessionSnapshot, ttlMs: number): Promise<void>;
  /** Remove and return the session; null when unknown, expired or already taken. Atomic across nodes. */
  take(id: string): Promise<SessionSnapshot | null>;
}
