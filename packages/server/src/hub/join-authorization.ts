/**
 * Join decisions taken before a connection exists (the room dialect's upgrade, an SSE stream's channels):
 * the authorize hook sees the connection as it will be, under an id reserved now that it then opens with.
 */
import type { Principal } from '../auth/authenticator.js';
import type { Authorizer } from '../auth/authorizer.js';
import type { JoinDecision } from './accept-options.js';
import { NO_STRINGS } from './connection.js';

/** Whether a user may open an SSE stream on its channels; `denied` is the first channel it may not. */
export interface StreamDecision extends JoinDecision {
  readonly denied?: string;
}

/** The decision when no rule or hook can refuse a join. */
const JOIN_ALLOWED: Promise<StreamDecision> = Promise.resolve({ allowed: true });

/** The connection `principal` will open as, under `connectionId`. */
function future(principal: Principal, connectionId: string) {
  return {
    id: connectionId,
    userId: principal.userId,
    info: principal.info,
    scopes: principal.scopes ?? NO_STRINGS,
    grants: principal.channels ?? NO_STRINGS,
  };
}

/** Whether `principal` may join `room`; rejects when the hook throws. */
export function authorizeJoin(
  authorizer: Authorizer,
  reserveId: () => string,
  principal: Principal,
  room: string,
): Promise<JoinDecision> {
  if (authorizer.skips(room)) return JOIN_ALLOWED;
  const connectionId = reserveId();
  return authorizer
    .allows(future(principal, connectionId), 'subscribe', room)
    .then((allowed) => ({ allowed, connectionId }));
}

/** {@link authorizeJoin} for an SSE stream's channels: allowed only when every channel is. */
export async function authorizeStream(
  authorizer: Authorizer,
  reserveId: () => string,
  principal: Principal,
  channels: readonly string[],
): Promise<StreamDecision> {
  if (channels.every((channel) => authorizer.skips(channel))) return JOIN_ALLOWED;
  const connection = future(principal, reserveId());
  for (const channel of channels) {
    if (!(await authorizer.allows(connection, 'subscribe', channel)))
      return { allowed: false, connectionId: connection.id, denied: channel };
  }
  return { allowed: true, connectionId: connection.id };
}
