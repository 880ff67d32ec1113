/**
 * The reserved `$admin:` channels and the connections allowed on them. A connection opened with an admin
 * connection token (admin-authenticator.ts) carries an `info` object made here and remembered in a
 * module-private WeakSet: nothing a client sends can produce that object, so no JWT claim, user id or
 * authorize hook can pass for an admin connection. Every other connection is refused every operation on
 * `$admin:*` (`permission_denied`), whatever the channel rules and the authorize hook say.
 */
import type { Principal } from './authenticator.js';

/** Channels starting with this are the server's own (docs/admin.md): clients may not use them. */
export const RESERVED_CHANNEL_PREFIX = '$admin:';

/** The channel every node with the dashboard on publishes its snapshot to. */
export const ADMIN_NODES_CHANNEL = '$admin:nodes';

/** The `info` objects of admin principals (a WeakSet: a closed connection's is collected with it). */
const adminInfos = new WeakSet<object>();

/** The principal of an admin connection: anonymous, until `expiresAt` (the dashboard session's end). */
export function adminPrincipal(expiresAt: number): Principal {
  const info = Object.freeze({ admin: true });
  adminInfos.add(info);
  return { userId: null, info, expiresAt };
}

/** Whether a connection (or the one a principal will open) was opened with an admin connection token. */
export function isAdminConnection(connection: { readonly info?: unknown }): boolean {
  const info = connection.info;
  return typeof info === 'object' && info !== null && adminInfos.has(info);
}

/** Whether `channel` is a reserved one (`$admin:...`). */
export function isReservedChannel(channel: string): boolean {
  return channel.startsWith(RESERVED_CHANNEL_PREFIX);
}

/**
 * The decision on a reserved channel: only an admin connection, and only to subscribe. Null when the
 * channel is not reserved (the rules and the hook decide).
 */
export function reservedChannelDecision(
  connection: { readonly info?: unknown },
  operation: string,
  channel: string,
): boolean | null {
  if (!isReservedChannel(channel)) return null;
  return operation === 'subscribe' && isAdminConnection(connection);
}
