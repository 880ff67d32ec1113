/**
 * What the dashboard's JSON API answers (http/admin-routes.ts calls it): the overview from the snapshot
 * book, cluster-wide search and user detail through the admin calls, a channel's detail, and the
 * actions, each through the server's own library API ({@link AdminOperations}).
 */
import { randomBytes } from 'node:crypto';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import { InvalidArgumentError, SwitchboardError } from '../errors.js';
import { sealAdminToken } from '../auth/admin-credentials.js';
import { RESERVED_CHANNEL_PREFIX, isReservedChannel } from '../auth/admin-principal.js';
import type { Clock } from '../util/clock.js';
import type { AdminCalls, AdminQuestion } from './admin-calls.js';
import {
  mergeSearch,
  readSearchResult,
  readUserConnections,
  searchLocal,
  userConnections,
} from './local-directory.js';
import type { LocalConnection, LocalDirectory, SearchResult, UserConnection } from './local-directory.js';
import type { SnapshotBook } from './snapshot-book.js';

/** The server's library API, as much of it as the dashboard uses. */
export interface AdminOperations {
  publish(channel: string, data: unknown, options: { readonly ephemeral: boolean }): Promise<{ id?: number }>;
  /** Close every connection of a user with 4502. */
  disconnectUser(userId: string, options: { readonly code: number; readonly reason: string }): Promise<void>;
  /** Close one connection with 4502. */
  disconnectConnection(
    id: string,
    options: { readonly code: number; readonly reason: string },
  ): Promise<void>;
  channelInfo(channel: string): Promise<{ readonly offset: number }>;
  history(
    channel: string,
    options: { readonly since: number; readonly limit: number },
  ): Promise<{
    readonly messages: readonly { readonly id: number; readonly data: unknown; readonly time: number }[];
  }>;
  presence(channel: string): Promise<readonly object[]>;
  deadLetters(
    userId: string,
    options: { readonly limit: number },
  ): Promise<
    readonly {
      readonly id: string;
      readonly reason: string;
      readonly attempts: number;
      readonly time: number;
      readonly deadAt: number;
      readonly data: unknown;
    }[]
  >;
  redeliverDeadLetter(userId: string, id: string): Promise<{ readonly id: string } | null>;
  /** Counts across every node; rejects while the shared backend is away. */
  clusterCounts(): Promise<object>;
}

/** This node's side of the dashboard's questions. */
export interface LocalSource {
  /** Every connection and channel of this node. */
  directory(): LocalDirectory;
  /** A user's connections on this node. */
  userConnections(userId: string): readonly LocalConnection[];
}

/** What the service is built from. */
export interface AdminServiceOptions {
  readonly nodeId: string;
  readonly intervalMs: number;
  readonly key: Buffer;
  readonly ops: AdminOperations;
  readonly book: SnapshotBook;
  readonly calls: AdminCalls;
  readonly clock: Clock;
}

/** How long an admin connection token may be redeemed (ms). */
export const ADMIN_TOKEN_TTL_MS = 60_000;

/** Messages of a channel's recent history the detail shows. */
const RECENT_MESSAGES = 20;

/** Dead letters of a user the detail shows. */
const DEAD_LETTERS = 100;

/** The dashboard's API; see the file comment. */
export class AdminService {
  readonly nodeId: string;
  readonly intervalMs: number;

  constructor(private readonly options: AdminServiceOptions) {
    this.nodeId = options.nodeId;
    this.intervalMs = options.intervalMs;
  }

  /** This node's answer to a question (asked here, or by another node). */
  static answer(
    local: LocalSource,
    nodeId: string,
    question: AdminQuestion,
  ): SearchResult | UserConnection[] {
    if (question.op === 'search') return searchLocal(local.directory(), question.q);
    return userConnections(local.userConnections(question.userId), nodeId);
  }

  /** A single-use connection token for a session ending at `sessionEnd` (ms). */
  connectionToken(sessionEnd: number): { token: string; expiresIn: number } {
    const exp = this.options.clock.now() + ADMIN_TOKEN_TTL_MS;
    const nonce = randomBytes(16).toString('base64url');
    return { token: sealAdminToken(this.options.key, { exp, session: sessionEnd, nonce }), expiresIn: 60 };
  }

  /** Every live node's latest snapshot, this node's recent ones, the cluster counts. */
  async overview(): Promise<object> {
    const { book, ops, clock } = this.options;
    const cluster = await ops.clusterCounts().catch(() => null);
    const now = clock.now();
    return {
      nodeId: this.nodeId,
      intervalMs: this.intervalMs,
      cluster,
      nodes: book.nodes(now),
      history: book.history(),
    };
  }

  /** Channels and users whose name contains `q`, on every node that answers in time. */
  async search(q: string): Promise<object> {
    const { answers, partial } = await this.ask({ op: 'search', q });
    const results = [...answers.values()].map(readSearchResult).filter((r) => r !== null);
    return { ...mergeSearch(results), partial };
  }

  /** A channel's info, presence (null when off) and last messages. */
  async channel(channel: string): Promise<object> {
    const { ops } = this.options;
    const info = await ops.channelInfo(channel);
    const presence = await ops.presence(channel).catch(unless(ErrorCode.NotAvailable));
    const since = Math.max(0, info.offset - RECENT_MESSAGES);
    const page = info.offset === 0 ? null : await ops.history(channel, { since, limit: RECENT_MESSAGES });
    const history = (page?.messages ?? []).map((m) => ({ offset: m.id, time: m.time, data: m.data }));
    return { channel, info, presence, history };
  }

  /** A user's connections on every node that answers in time, and dead letters (null: no inbox). */
  async user(userId: string): Promise<object> {
    const { answers, partial } = await this.ask({ op: 'user', userId });
    const connections = [...answers.values()]
      .flatMap((answer) => readUserConnections(answer) ?? [])
      .sort((a, b) => a.connectedAt - b.connectedAt || (a.id < b.id ? -1 : 1));
    const letters = await this.options.ops
      .deadLetters(userId, { limit: DEAD_LETTERS })
      // No inbox on this server, or a user id no inbox can have (over 1024 characters): none.
      .catch(unless(ErrorCode.NotAvailable, ErrorCode.BadRequest));
    const deadLetters =
      letters?.map(({ id, reason, attempts, time, deadAt, data }) => ({
        id,
        reason,
        attempts,
        time,
        deadAt,
        data,
      })) ?? null;
    return { userId, connections, deadLetters, partial };
  }

  /** Publish a reliable message; reserved channels are refused. */
  async publish(channel: string, data: unknown): Promise<{ offset?: number }> {
    if (isReservedChannel(channel))
      throw new InvalidArgumentError(
        ErrorCode.PermissionDenied,
        `${channel} is reserved: channels starting with ${RESERVED_CHANNEL_PREFIX} are the server's own`,
      );
    const published = await this.options.ops.publish(channel, data, { ephemeral: false });
    return published.id === undefined ? {} : { offset: published.id };
  }

  disconnectUser(userId: string, reason: string): Promise<void> {
    return this.options.ops.disconnectUser(userId, { code: CloseCode.Kicked, reason });
  }

  disconnectConnection(connectionId: string, reason: string): Promise<void> {
    return this.options.ops.disconnectConnection(connectionId, { code: CloseCode.Kicked, reason });
  }

  /** Put a dead letter back in the user's inbox; false when there is none. */
  async redeliver(userId: string, id: string): Promise<boolean> {
    return (await this.options.ops.redeliverDeadLetter(userId, id)) !== null;
  }

  private ask(question: AdminQuestion): ReturnType<AdminCalls['ask']> {
    const { calls, book, clock } = this.options;
    return calls.ask(question, book.others(clock.now()));
  }
}

/** A rejection handler that answers null for errors with one of `codes` and rethrows the rest. */
function unless(...codes: ErrorCode[]): (error: unknown) => null {
  return (error) => {
    if (error instanceof SwitchboardError && (codes as string[]).includes(error.code)) return null;
    throw error;
  };
}
