/**
 * The live feed: a Switchboard client (the browser SDK, bundled in) subscribed to `$admin:nodes`, every
 * connection attempt with a fresh 60-second admin token from `POST /admin/api/connect`, so a reconnect
 * (a restarted node, a drain) never reuses one. The dashboard updates itself over Switchboard's own
 * transport, with the SDK's reconnect, resume and fallback transports.
 */
import { SwitchboardClient } from '@switchboard/client';
import type { Subscription } from '@switchboard/client';
import { ApiError, describeError } from './api.js';
import type { AdminApi } from './api.js';
import { parseSnapshot } from './snapshot.js';
import type { Snapshot } from './snapshot.js';

/** What the header's indicator shows. */
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** What the feed reports. */
export interface LiveHandlers {
  snapshot(snapshot: Snapshot): void;
  status(status: LiveStatus, detail: string): void;
  /** The session ended (the token request answered 401): the page signs out. */
  signedOut(): void;
}

/** The `/ws` URL of the server that served the page (`<basePath>/ws`, ws: or wss: like the page). */
export function socketUrl(adminRoot: URL): string {
  const url = new URL('../ws', adminRoot);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** A running feed; `stop()` closes it. */
export class LiveFeed {
  private readonly client: SwitchboardClient;
  private readonly subscription: Subscription;
  private stopped = false;
  /** Whether a connection ever opened: after that, any other state is a reconnect under way. */
  private wasConnected = false;

  /** Connect and subscribe to `channel`. */
  constructor(
    api: AdminApi,
    adminRoot: URL,
    channel: string,
    private readonly handlers: LiveHandlers,
  ) {
    this.client = new SwitchboardClient(socketUrl(adminRoot), {
      token: async () => {
        try {
          const { token } = await api.post<{ token: string; expiresIn: number }>('connect');
          return token;
        } catch (error) {
          if (error instanceof ApiError && error.status === 401)
            queueMicrotask(() => this.handlers.signedOut());
          throw error;
        }
      },
      // In the handshake, so that the admin decorator sees it whatever the server's own auth is: a server
      // that takes connections without credentials as anonymous would never wait for a first-message
      // `auth`. A refused token is then a failed attempt (1006), retried with a fresh one.
      tokenTransport: 'subprotocol',
      // An admin connection should come back quickly after a deploy; the SDK's jitter still spreads it.
      backoff: { minDelayMs: 500, maxDelayMs: 5000 },
    });
    const client = this.client;
    this.subscription = client.subscription(channel);
    this.subscription.on('message', (message) => {
      const snapshot = parseSnapshot(message.data);
      if (snapshot !== null) this.handlers.snapshot(snapshot);
    });
    this.subscription.on('subscribed', () => this.report());
    this.subscription.on('error', ({ error }) => this.report(describeError(error)));
    client.on('state', () => this.report());
    client.on('reconnecting', ({ attempt, delayMs }) =>
      this.report(`attempt ${attempt}, next in ${(delayMs / 1000).toFixed(1)} s`),
    );
    client.on('disconnected', (event) =>
      this.report(`closed ${event.code}${event.reason ? `: ${event.reason}` : ''}`),
    );
    client.on('tokenError', ({ error }) => this.report(describeError(error)));
    this.subscription.subscribe();
    client.connect().catch(() => {
      // failures arrive as events; a final one leaves the status at offline
    });
  }

  /** The current status, derived from the client's and the subscription's states. */
  private report(detail = ''): void {
    if (this.stopped) return;
    const state = this.client.state;
    let status: LiveStatus;
    if (state === 'connected') {
      this.wasConnected = true;
      status = this.subscription.state === 'subscribed' ? 'live' : 'connecting';
    } else if (state === 'closed') status = 'offline';
    // 'disconnected' between attempts (a backoff delay), or 'connecting' again after an outage.
    else status = this.wasConnected || state === 'disconnected' ? 'reconnecting' : 'connecting';
    this.handlers.status(status, detail);
  }

  /** Close the connection for good (signing out, leaving the page). */
  stop(): void {
    this.stopped = true;
    this.client.close();
  }
}
