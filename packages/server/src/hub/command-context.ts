/**
 * The command context: everything a wire dialect's handler (v1, the room dialect, and those to come) may
 * do for a client's command, and nothing more. Handlers receive this interface, never the hub. It holds
 * the one authorize-then-run and the one error -> code mapping every entry point shares.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { DeliveryCommand, PresenceEntry, StreamPosition } from '@switchboard/protocol';
import type { Exclusion, Publication } from '../broker/broker.js';
import type { HistoryPage, StoredMessage } from '../history/history-store.js';
import type { Authorizer, ChannelOperation } from '../auth/authorizer.js';
import type { Logger } from '../util/logger.js';
import { ApplicationError } from '../errors.js';
import type { ChannelQueries } from './channel-queries.js';
import type { ChannelRegistry, Joined, Outcome } from './channel-registry.js';
import type { Connection } from './connection.js';
import type { Credentials } from './credentials.js';
import type { Closer, Delivery } from './delivery.js';
import type { ErrorReplies } from './error-replies.js';
import { hookFailed } from './hooks.js';
import type { ServerHooks } from './hooks.js';
import type { Publisher } from './publisher.js';
import type { SseCompletions } from './sse-completions.js';
import type { GuaranteedCommands } from './guaranteed.js';

export type { Joined, Outcome } from './channel-registry.js';

/** What a dialect handler may do for a client's command. */
export interface CommandContext {
  /** The longest channel name (the codec's bound). */
  readonly maxChannelLength: number;

  /** Send a successful reply to command `id`. */
  reply(connection: Connection, id: number, result: unknown): void;
  /** Answer command `id` with an outcome: its value as the reply (when there is an id), or its error. */
  answer<T>(connection: Connection, id: number | undefined, outcome: Outcome<T>): void;
  /** Write an already-encoded frame (a pre-assembled reply). */
  writeText(connection: Connection, text: string): void;
  /** Write a JSON value as it is (the room dialect's own frames). */
  writeRaw(connection: Connection, value: unknown): void;
  /** Answer with an error (a reply when `id` is given); malformed input charges the error budget. */
  error(connection: Connection, code: ErrorCode, message: string, id?: number): void;
  /** Answer a command whose operation threw: its mapped code, or `internal` (logged). */
  failed(connection: Connection, id: number | undefined, error: unknown): void;
  /** Close the connection with `code` (it leaves every registry at once). */
  close(connection: Connection, code: number, reason: string): void;
  /**
   * Count an admitted command that answers later until `work` (which writes its answer) settles: a close
   * that waits for the connection's answers (the rate-limit close) waits for it.
   */
  track(connection: Connection, work: Promise<unknown>): void;

  /**
   * Run `then` if the connection may perform `operation` on `channel`; otherwise answer
   * `permission_denied` (to command `id`). Open servers (no rules, no hook) run it synchronously. The
   * promise settles once `then`'s own promise has, or the refusal was written.
   */
  authorized(
    connection: Connection,
    operation: ChannelOperation,
    channel: string,
    id: number | undefined,
    then: () => Promise<void>,
    data?: unknown,
  ): Promise<void>;
  /** Whether the connection may perform `operation` on `channel`, for entry points that refuse otherwise. */
  permits(connection: Connection, operation: ChannelOperation, channel: string): Promise<boolean>;

  /**
   * Subscribe, recovering from `since` when given. Live messages are held back until {@link release}:
   * write the reply or the missed messages first, then release, in the same synchronous step.
   */
  join(connection: Connection, channel: string, since: StreamPosition | undefined): Promise<Outcome<Joined>>;
  /** Write a recovery's missed messages, in order. */
  writeMissed(
    connection: Connection,
    channel: string,
    messages: readonly StoredMessage[],
    epoch: string,
  ): void;
  /** Deliver what was held back during {@link join} after `sent`, then live messages again. */
  release(connection: Connection, channel: string, sent: StreamPosition, hold: readonly Publication[]): void;
  unsubscribe(connection: Connection, channel: string): Outcome<Record<string, never>>;
  /** Publish to a channel on every node; resolves with the publication (its `id` is the offset). */
  publish(channel: string, data: unknown, ephemeral: boolean, exclude?: Exclusion): Promise<Publication>;
  position(channel: string): Promise<StreamPosition>;
  history(channel: string, since: number | undefined, limit: number): Promise<HistoryPage>;
  presence(channel: string): Promise<Outcome<readonly PresenceEntry[]>>;
  presenceStats(channel: string): Promise<Outcome<{ users: number; connections: number }>>;

  /**
   * `auth` (first-message authentication) or `refresh` (new credentials for the same user); settles once
   * answered.
   */
  credentials(
    connection: Connection,
    type: 'auth' | 'refresh',
    token: string,
    id: number | undefined,
  ): Promise<void>;
  /** Hand a `send` payload to the application's onMessage hook; its result is the reply. */
  message(connection: Connection, data: unknown): Promise<Outcome<unknown>>;
  /** Whether `channel` is completed (SSE finished streams) and `position` is at or past its end. */
  streamEnded(channel: string, position: StreamPosition): boolean;
  /** A guaranteed-delivery command (inbox, ack, nack, consume, cancel); settles once answered. */
  guaranteed(connection: Connection, command: DeliveryCommand): Promise<void>;
}

/** What the command context is built from. */
export interface HubCommandsOptions {
  readonly maxChannelLength: number;
  readonly delivery: Delivery;
  readonly errors: ErrorReplies;
  readonly close: Closer;
  /** Told when a tracked command has been answered (the lifecycle's `answered`). */
  readonly answered: (connection: Connection) => void;
  readonly authorizer: Authorizer;
  readonly channels: ChannelRegistry;
  readonly queries: ChannelQueries;
  readonly publisher: Publisher;
  readonly credentials: Credentials;
  readonly hooks: ServerHooks;
  /** Completed channels (SSE finished streams). */
  readonly completions: SseCompletions;
  /** The guaranteed-delivery commands' router. */
  readonly guaranteed: GuaranteedCommands;
  readonly logger: Logger;
}

/** The hub's command context. */
export class HubCommands implements CommandContext {
  readonly maxChannelLength: number;

  constructor(private readonly options: HubCommandsOptions) {
    this.maxChannelLength = options.maxChannelLength;
  }

  reply(connection: Connection, id: number, result: unknown): void {
    this.options.delivery.reply(connection, id, result);
  }

  answer<T>(connection: Connection, id: number | undefined, outcome: Outcome<T>): void {
    if (!outcome.ok) this.options.errors.send(connection, outcome.code, outcome.message, id);
    else if (id !== undefined) this.options.delivery.reply(connection, id, outcome.value);
  }

  writeText(connection: Connection, text: string): void {
    this.options.delivery.writeText(connection, text);
  }

  writeRaw(connection: Connection, value: unknown): void {
    this.options.delivery.writeRaw(connection, value);
  }

  error(connection: Connection, code: ErrorCode, message: string, id?: number): void {
    this.options.errors.send(connection, code, message, id);
  }

  failed(connection: Connection, id: number | undefined, error: unknown): void {
    this.options.errors.failed(connection, id, error);
  }

  close(connection: Connection, code: number, reason: string): void {
    this.options.close(connection, code, reason);
  }

  track(connection: Connection, work: Promise<unknown>): void {
    connection.inFlight++;
    const answered = (): void => this.options.answered(connection);
    work.then(answered, answered);
  }

  authorized(
    connection: Connection,
    operation: ChannelOperation,
    channel: string,
    id: number | undefined,
    then: () => Promise<void>,
    data?: unknown,
  ): Promise<void> {
    const { authorizer, errors } = this.options;
    if (authorizer.skips(channel)) return then();
    return authorizer.allows(connection, operation, channel, data).then(
      (allowed) => {
        if (connection.state !== 'open') return undefined;
        if (allowed) return then();
        errors.send(connection, ErrorCode.PermissionDenied, `not allowed to ${operation} on ${channel}`, id);
        return undefined;
      },
      (error: unknown) => errors.failed(connection, id, error),
    );
  }

  permits(connection: Connection, operation: ChannelOperation, channel: string): Promise<boolean> {
    const authorizer = this.options.authorizer;
    return authorizer.skips(channel)
      ? Promise.resolve(true)
      : authorizer.allows(connection, operation, channel);
  }

  join(connection: Connection, channel: string, since: StreamPosition | undefined): Promise<Outcome<Joined>> {
    return this.options.channels.join(connection, channel, since);
  }

  writeMissed(
    connection: Connection,
    channel: string,
    messages: readonly StoredMessage[],
    epoch: string,
  ): void {
    this.options.channels.writeMissed(connection, channel, messages, epoch);
  }

  release(connection: Connection, channel: string, sent: StreamPosition, hold: readonly Publication[]): void {
    this.options.channels.release(connection, channel, sent, hold);
  }

  unsubscribe(connection: Connection, channel: string): Outcome<Record<string, never>> {
    return this.options.channels.unsubscribe(connection, channel);
  }

  publish(channel: string, data: unknown, ephemeral: boolean, exclude?: Exclusion): Promise<Publication> {
    return this.options.publisher.publish(channel, data, ephemeral, exclude);
  }

  position(channel: string): Promise<StreamPosition> {
    return this.options.queries.position(channel);
  }

  history(channel: string, since: number | undefined, limit: number): Promise<HistoryPage> {
    return this.options.queries.readHistory(channel, since, limit);
  }

  presence(channel: string): Promise<Outcome<readonly PresenceEntry[]>> {
    return this.options.queries.presenceOf(channel);
  }

  presenceStats(channel: string): Promise<Outcome<{ users: number; connections: number }>> {
    return this.options.queries.presenceStats(channel);
  }

  credentials(
    connection: Connection,
    type: 'auth' | 'refresh',
    token: string,
    id: number | undefined,
  ): Promise<void> {
    return this.options.credentials.command(connection, type, token, id);
  }

  async message(connection: Connection, data: unknown): Promise<Outcome<unknown>> {
    const hook = this.options.hooks.onMessage;
    if (hook === undefined) {
      return { ok: false, code: ErrorCode.NotAvailable, message: 'this server has no message handler' };
    }
    try {
      const result: unknown = await hook(connection, data);
      return { ok: true, value: result === undefined ? null : result };
    } catch (error) {
      if (error instanceof ApplicationError)
        return { ok: false, code: ErrorCode.ApplicationError, message: error.message };
      hookFailed(this.options.logger, 'onMessage', connection.id, error);
      return {
        ok: false,
        code: ErrorCode.ApplicationError,
        message: 'the application failed to handle the message',
      };
    }
  }

  streamEnded(channel: string, position: StreamPosition): boolean {
    return this.options.completions.reached(channel, position);
  }

  guaranteed(connection: Connection, command: DeliveryCommand): Promise<void> {
    return this.options.guaranteed.handle(connection, command);
  }
}
