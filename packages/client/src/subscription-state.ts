/**
 * The subscription state machine and the events of a {@link Subscription}. Each subscription changes
 * state in one place (its `setState`), which checks the move against {@link canSubscriptionTransition}
 * and emits a {@link SubscriptionStateChange}.
 *
 * | from | to | when |
 * | --- | --- | --- |
 * | unsubscribed | subscribing | `subscribe()` |
 * | subscribing | subscribed | the server answered the `subscribe` command |
 * | subscribed | subscribing | the connection was lost, a gap was seen, or the server asked for a resubscribe |
 * | subscribing, subscribed | unsubscribed | `unsubscribe()`, a permanent error, or the server ended it |
 */
import type { StreamPosition } from '@switchboard/protocol';
import type { ChannelMessage, MembershipChange, StateLostEvent } from './client-events.js';

/**
 * Where a subscription is:
 * - `unsubscribed`: not wanted (the initial state, and after `unsubscribe()` or a permanent failure);
 * - `subscribing`: wanted, not in sync yet: waiting for a connection, for the `subscribe` reply, or for a
 *   re-sync after a gap;
 * - `subscribed`: in sync: every message after {@link Subscription.position} will be delivered in order.
 */
export type SubscriptionState = 'unsubscribed' | 'subscribing' | 'subscribed';

/** Why a subscription changed state (`code` of {@link SubscriptionStateChange}). */
export const SubscriptionCode = {
  /** The application called `subscribe()`. */
  SubscribeCalled: 0,
  /** The server answered the `subscribe` command. */
  Subscribed: 1,
  /** The application called `unsubscribe()`. */
  UnsubscribeCalled: 2,
  /** The connection was lost; the subscription resumes from its position on the next connection. */
  ConnectionLost: 3,
  /** A message id skipped ahead; the client re-syncs from its position. */
  Gap: 4,
  /** The server dropped the subscription and asked for a resubscribe from the client's position. */
  ServerResubscribe: 5,
  /** The server ended the subscription for good. */
  ServerUnsubscribed: 6,
  /** The server refused the subscription with a permanent error (see the `error` event). */
  SubscribeFailed: 7,
  /** The application closed the client; the subscription resumes if it connects again. */
  ClientClosed: 8,
} as const;

/** One of the codes in {@link SubscriptionCode}. */
export type SubscriptionCode = (typeof SubscriptionCode)[keyof typeof SubscriptionCode];

/** The payload of a subscription's `state` event. */
export interface SubscriptionStateChange {
  readonly channel: string;
  readonly from: SubscriptionState;
  readonly to: SubscriptionState;
  /** A {@link SubscriptionCode}. */
  readonly code: number;
  readonly reason: string;
}

/** The subscription is in sync with the channel's stream. */
export interface SubscribedEvent {
  readonly channel: string;
  /** The last message delivered (or skipped, after a state loss); live messages continue after it. */
  readonly position: StreamPosition;
  /**
   * Present when the client resubscribed from a position of its own: true when the server proved that
   * nothing was missed (the `replayed` messages were all that was missing), false when it could not
   * (a `stateLost` event follows).
   */
  readonly recovered?: boolean;
  /** How many missed messages the reply carried that had not been delivered yet. */
  readonly replayed: number;
}

/** A subscription failed: the server refused it (permanent errors end it; temporary ones are retried). */
export interface SubscriptionErrorEvent {
  readonly channel: string;
  readonly error: Error;
}

/** Every event of a subscription, by name. `Data` types its messages. */
export interface SubscriptionEvents<Data = unknown> {
  /** The subscription changed state. */
  state: SubscriptionStateChange;
  /** The subscription is in sync (after every `subscribe` reply, including re-syncs). */
  subscribed: SubscribedEvent;
  /** Messages were lost for good; reload the application's state. */
  stateLost: StateLostEvent;
  /** A message, in order and at most once per id. */
  message: ChannelMessage<Data>;
  /** A user joined the channel (presence-enabled channels). */
  join: MembershipChange;
  /** A user left the channel (presence-enabled channels). */
  leave: MembershipChange;
  /** A subscribe failed. */
  error: SubscriptionErrorEvent;
}

const TRANSITIONS: Readonly<Record<SubscriptionState, readonly SubscriptionState[]>> = {
  unsubscribed: ['subscribing'],
  subscribing: ['subscribed', 'unsubscribed'],
  subscribed: ['subscribing', 'unsubscribed'],
};

/** Whether the subscription state machine allows moving from `from` to `to`. */
export function canSubscriptionTransition(from: SubscriptionState, to: SubscriptionState): boolean {
  return TRANSITIONS[from].includes(to);
}
