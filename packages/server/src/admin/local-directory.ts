/**
 * The dashboard's search and user detail over one node's connections and channels, and the merge of
 * several nodes' answers (each node answers for itself: admin-calls.ts). Pure. Reserved channels
 * (`$admin:...`) are the server's own and never listed.
 */
import { isReservedChannel } from '../auth/admin-principal.js';

/** One connection as the directory reads it (the hub's ConnectionInfo fits). */
export interface LocalConnection {
  readonly id: string;
  readonly userId: string | null;
  readonly transport: string;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  channels(): string[];
}

/** One node's connections and channels, live. */
export interface LocalDirectory {
  readonly connections: Iterable<LocalConnection>;
  channels(): readonly { readonly name: string; readonly members: number }[];
}

/** What a search finds: channels with their members, users with their connections. */
export interface SearchResult {
  readonly channels: readonly { readonly name: string; readonly members: number }[];
  readonly users: readonly { readonly userId: string; readonly connections: number }[];
}

/** One connection of a user, as the user detail lists it. */
export interface UserConnection {
  readonly id: string;
  readonly nodeId: string;
  readonly transport: string;
  readonly address: string;
  readonly connectedAt: number;
  readonly channels: readonly string[];
}

/** Results of each kind a search returns at most. */
export const SEARCH_LIMIT = 50;

/** The channels and users of this node whose name contains `q` (case-sensitive), at most `limit` each. */
export function searchLocal(directory: LocalDirectory, q: string, limit = SEARCH_LIMIT): SearchResult {
  const channels = directory
    .channels()
    .filter((c) => c.name.includes(q) && !isReservedChannel(c.name))
    .map(({ name, members }) => ({ name, members }));
  const users = new Map<string, number>();
  for (const connection of directory.connections) {
    const { userId } = connection;
    if (userId !== null && userId.includes(q)) users.set(userId, (users.get(userId) ?? 0) + 1);
  }
  return bounded(
    channels,
    [...users].map(([userId, connections]) => ({ userId, connections })),
    limit,
  );
}

/** Several nodes' search results as one: members and connections summed by name. */
export function mergeSearch(results: readonly SearchResult[], limit = SEARCH_LIMIT): SearchResult {
  const channels = new Map<string, number>();
  const users = new Map<string, number>();
  for (const result of results) {
    for (const c of result.channels) channels.set(c.name, (channels.get(c.name) ?? 0) + c.members);
    for (const u of result.users) users.set(u.userId, (users.get(u.userId) ?? 0) + u.connections);
  }
  return bounded(
    [...channels].map(([name, members]) => ({ name, members })),
    [...users].map(([userId, connections]) => ({ userId, connections })),
    limit,
  );
}

/** A user's connections on this node, for the user detail. */
export function userConnections(connections: readonly LocalConnection[], nodeId: string): UserConnection[] {
  return connections.map((c) => ({
    id: c.id,
    nodeId,
    transport: c.transport,
    address: c.remoteAddress,
    connectedAt: c.connectedAt,
    channels: c.channels().filter((channel) => !isReservedChannel(channel)),
  }));
}

/** Another node's search answer, checked; null when it is not one. */
export function readSearchResult(value: unknown): SearchResult | null {
  if (typeof value !== 'object' || value === null) return null;
  const { channels, users } = value as Record<string, unknown>;
  if (!Array.isArray(channels) || !Array.isArray(users)) return null;
  const okChannels = channels.every(
    (c: unknown) => isRecord(c) && typeof c['name'] === 'string' && typeof c['members'] === 'number',
  );
  const okUsers = users.every(
    (u: unknown) => isRecord(u) && typeof u['userId'] === 'string' && typeof u['connections'] === 'number',
  );
  return okChannels && okUsers ? (value as SearchResult) : null;
}

/** Another node's user connections, checked; null when they are not. */
export function readUserConnections(value: unknown): UserConnection[] | null {
  if (!Array.isArray(value)) return null;
  const ok = value.every(
    (c: unknown) =>
      isRecord(c) &&
      typeof c['id'] === 'string' &&
      typeof c['nodeId'] === 'string' &&
      typeof c['transport'] === 'string' &&
      typeof c['address'] === 'string' &&
      typeof c['connectedAt'] === 'number' &&
      Array.isArray(c['channels']) &&
      (c['channels'] as unknown[]).every((ch) => typeof ch === 'string'),
  );
  return ok ? (value as UserConnection[]) : null;
}

function bounded(
  channels: { name: string; members: number }[],
  users: { userId: string; connections: number }[],
  limit: number,
): SearchResult {
  channels.sort((a, b) => b.members - a.members || compare(a.name, b.name));
  users.sort((a, b) => b.connections - a.connections || compare(a.userId, b.userId));
  return { channels: channels.slice(0, limit), users: users.slice(0, limit) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
