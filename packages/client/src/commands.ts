/** The shapes of what the client sends: commands without their id, and the results their replies carry. */
import type {
  AnyChannelMap,
  ClientCommand,
  HistoryResult,
  PongCommand,
  PresenceResult,
  PresenceStatsResult,
  IsChannelMap,
  PublishResult,
  SendRequestOf,
  SendResultOf,
  SubscribeResult,
} from '@switchboard/protocol';

/** `Omit` applied to each member of a union, so the result stays a discriminated union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A command for {@link SwitchboardClient.request}: any command that gets a reply, without its `id`. */
export type RequestCommand = DistributiveOmit<Exclude<ClientCommand, PongCommand>, 'id'>;

/** A command for {@link SwitchboardClient.notify}: any command, sent without an `id` (no reply). */
export type NotifyCommand = DistributiveOmit<ClientCommand, 'id'>;

/** The reply `result` of a command, by its `type` (docs/protocol.md, "Commands"). */
export type ResultOf<C extends { readonly type: string }> = C extends { readonly type: 'subscribe' }
  ? SubscribeResult
  : C extends { readonly type: 'publish' }
    ? PublishResult
    : C extends { readonly type: 'history' }
      ? HistoryResult
      : C extends { readonly type: 'presence' }
        ? PresenceResult
        : C extends { readonly type: 'presence_stats' }
          ? PresenceStatsResult
          : C extends { readonly type: 'unsubscribe' | 'ping' }
            ? Record<string, never>
            : unknown;

/** What `send()` of a `SwitchboardClient<T>` takes: the channel map's `send.request`, else unknown. */
export type SendRequest<T> = IsChannelMap<T> extends true ? SendRequestOf<T & AnyChannelMap> : unknown;

/** What `send()` resolves with: the map's `send.reply` (null for a hook that returned nothing), else unknown. */
export type SendResult<T> = IsChannelMap<T> extends true ? SendResultOf<T & AnyChannelMap> : unknown;

/** Options of one request. */
export interface RequestOptions {
  /** How long to wait for the reply (ms). Default: the client's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** Options of {@link SwitchboardClient.publish}. */
export interface PublishOptions extends RequestOptions {
  /** Skip history and allow the server to drop it under pressure (typing indicators, cursors). Default false. */
  readonly ephemeral?: boolean;
  /** Do not deliver the message back to this connection. Default false. */
  readonly excludeSelf?: boolean;
}

/** Options of {@link SwitchboardClient.history}. */
export interface HistoryOptions extends RequestOptions {
  /** Only messages after this offset. Default: the oldest retained. */
  readonly since?: number;
  /** At most this many messages (1-1000). Default: the server's, 100. */
  readonly limit?: number;
}

/**
 * What became of a fire-and-forget command: written to the socket, queued until the client is connected
 * again (and its subscriptions are back), or dropped (the client is closed, or the offline queue refused it).
 */
export type SendStatus = 'sent' | 'queued' | 'dropped';
