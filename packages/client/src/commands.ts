/** The shapes of what the client sends: commands without their id, and the results their replies carry. */
import type { ClientCommand, PongCommand, PublishResult, SubscribeResult } from '@switchboard/protocol';

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
    : C extends { readonly type: 'unsubscribe' | 'ping' }
      ? Record<string, never>
      : unknown;

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

/**
 * What became of a fire-and-forget command: written to the socket, or dropped because the client was
 * not connected. (The send-queue issue adds `queued`.)
 */
export type SendStatus = 'sent' | 'dropped';
