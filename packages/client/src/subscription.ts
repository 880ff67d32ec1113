/**
 * A subscription to one channel: its state, its position in the channel's stream, and its events. Created
 * by {@link SwitchboardClient.subscribe} (one per channel and client); it survives reconnects and
 * recovers what was missed by itself.
 *
 * ```ts
 * const room = client.subscribe<ChatMessage>('chat:lobby');
 * room.on('message', (m) => render(m.data));
 * room.on('stateLost', () => reloadFromBackend());
 * await room.ready();
 * ```
 */
import type {
  HistoryResult,
  PresenceResult,
  PresenceStatsResult,
  PublishResult,
  StreamPosition,
} from '@switchboard/protocol';
import type { ChannelSync } from './channel-sync.js';
import { validateTimeout } from './client-options.js';
import type { HistoryOptions, PublishOptions, RequestOptions } from './commands.js';
import type { Listener } from './emitter.js';
import type { SubscribedEvent, SubscriptionEvents, SubscriptionState } from './subscription-state.js';

/** What a subscription asks of its client for the channel-scoped shortcuts. */
export interface SubscriptionClient {
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  history(channel: string, options?: HistoryOptions): Promise<HistoryResult<unknown>>;
  presence(channel: string, options?: RequestOptions): Promise<PresenceResult>;
  presenceStats(channel: string, options?: RequestOptions): Promise<PresenceStatsResult>;
}

/** Options of {@link SwitchboardClient.subscribe}; they apply when the subscription is created. */
export interface SubscribeOptions {
  /**
   * Start after this position instead of the channel's current one: the first subscribe recovers every
   * message after it (or reports `stateLost`). Use a position saved with the application's own state.
   * Default: none (start from the current position).
   */
  readonly since?: StreamPosition;
}

/** A subscription to one channel; `Data` types its messages. */
export class Subscription<Data = unknown> {
  /** Made by the client; applications call `client.subscribe()`. */
  constructor(
    private readonly sync: ChannelSync<Data>,
    private readonly client: SubscriptionClient,
  ) {}

  /** The channel. */
  get channel(): string {
    return this.sync.channel;
  }

  /** `unsubscribed`, `subscribing` or `subscribed`. */
  get state(): SubscriptionState {
    return this.sync.state;
  }

  /**
   * The last position delivered (`{ offset, epoch }`); null before the first subscribe reply. Save it
   * with the application's state to resume from it later (the `since` option).
   */
  get position(): StreamPosition | null {
    return this.sync.position;
  }

  /**
   * Whether the last resubscribe from the client's own position recovered everything (true) or lost
   * messages (false, with a `stateLost` event); null when the last subscribe was not a recovery.
   */
  get recovered(): boolean | null {
    return this.sync.recovered;
  }

  /** Call `listener` on every `event`; returns a function that removes it. */
  on<K extends keyof SubscriptionEvents<Data>>(
    event: K,
    listener: Listener<SubscriptionEvents<Data>[K]>,
  ): () => void {
    return this.sync.events.on(event, listener);
  }

  /** Call `listener` on the next `event` only; returns a function that removes it. */
  once<K extends keyof SubscriptionEvents<Data>>(
    event: K,
    listener: Listener<SubscriptionEvents<Data>[K]>,
  ): () => void {
    return this.sync.events.once(event, listener);
  }

  /** Remove `listener` from `event`. */
  off<K extends keyof SubscriptionEvents<Data>>(
    event: K,
    listener: Listener<SubscriptionEvents<Data>[K]>,
  ): void {
    this.sync.events.off(event, listener);
  }

  /** Subscribe (again) after `unsubscribe()` or a failure; no-op while subscribing or subscribed. */
  subscribe(): this {
    this.sync.subscribe();
    return this;
  }

  /**
   * Stop receiving: state `unsubscribed` at once, position forgotten (a later `subscribe()` starts from
   * the channel's current position). Resolves when the server confirmed, or at once when offline.
   */
  unsubscribe(): Promise<void> {
    return this.sync.unsubscribe();
  }

  /**
   * Resolves with the `subscribed` event once the subscription is in sync (at once if it is). Rejects
   * with UnsubscribedError when it ends first, ConnectionClosedError on `close()`, and RequestTimeoutError
   * after `timeoutMs` (default: no limit; a subscription waits through reconnects).
   */
  ready(options: RequestOptions = {}): Promise<SubscribedEvent> {
    try {
      const timeoutMs =
        options.timeoutMs === undefined ? undefined : validateTimeout('timeoutMs', options.timeoutMs);
      return this.sync.ready(timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Publish `data` to this channel (see {@link SwitchboardClient.publish}). */
  publish(data: Data, options: PublishOptions = {}): Promise<PublishResult> {
    return this.client.publish(this.channel, data, options);
  }

  /** This channel's retained history (see {@link SwitchboardClient.history}); `Data` types its messages. */
  history(options: HistoryOptions = {}): Promise<HistoryResult<Data>> {
    // The application's promise, as for live messages: the server does not check payloads.
    return this.client.history(this.channel, options) as Promise<HistoryResult<Data>>;
  }

  /** Who is in this channel (see {@link SwitchboardClient.presence}). */
  presence(options: RequestOptions = {}): Promise<PresenceResult> {
    return this.client.presence(this.channel, options);
  }

  /** How many are in this channel (see {@link SwitchboardClient.presenceStats}). */
  presenceStats(options: RequestOptions = {}): Promise<PresenceStatsResult> {
    return this.client.presenceStats(this.channel, options);
  }
}
