/**
 * The Server-Sent Events endpoints: `${basePath}/sse/:channel` (one channel) and
 * `${basePath}/sse?channel=a&channel=b` (several on one stream, one `Last-Event-ID` for all of them). A
 * stream is admitted by the shared handshake (origin, limits, credentials, may this user subscribe to
 * each channel), opened by the SSE transport and handed to the hub; every refusal is an HTTP status with
 * a JSON error body before the stream starts. docs/protocol.md#server-sent-events.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, channelNameProblem } from '@switchboard/protocol';
import type { Principal } from '../auth/authenticator.js';
import type { AcceptOptions } from '../hub/accept-options.js';
import type { StreamDecision } from '../hub/hub.js';
import { MAX_LAST_EVENT_ID_LENGTH, MAX_SSE_CHANNELS } from '../hub/sse-event-id.js';
import type {
  Admission,
  AdmissionCheck,
  Admitted,
  CheckVerdict,
  Handshake,
  Refusal,
} from '../transports/handshake.js';
import { openSseStream } from '../transports/sse-transport.js';
import type { ConnectionHandle, TransportSocket } from '../transports/transport.js';
import { sendError } from './http-utils.js';
import type { Router } from './router.js';

/** Where an admitted stream goes: the hub. */
export interface SseAcceptor {
  accept(socket: TransportSocket, format: 'sse', admitted: Admitted<AcceptOptions>): ConnectionHandle;
  /** Whether a stream resuming from `lastEventId` has nothing left: every channel completed, all had. */
  streamFinished(channels: readonly string[], lastEventId: string | undefined): boolean;
  /** Whether `principal` may subscribe to every channel; rejects when the authorize hook throws. */
  authorizeStream(principal: Principal, channels: readonly string[]): Promise<StreamDecision>;
}

/** What the endpoints are built from. */
export interface SseEndpointOptions {
  /** Prefix of the paths ('' or `/rt`). */
  readonly basePath: string;
  readonly maxChannelLength: number;
  /** The `retry:` hint: how long EventSource waits before it reconnects (ms). */
  readonly sseRetryMs: number;
  readonly handshake: Handshake;
  readonly acceptor: SseAcceptor;
}

/** The query parameter that names a channel of a multi-channel stream. */
export const SSE_CHANNEL_PARAM = 'channel';

/** The query parameter that carries the position on a first connect (EventSource cannot set headers). */
export const LAST_EVENT_ID_PARAM = 'last_event_id';

/** Register `GET /sse/*channel` and `GET /sse`. */
export function addSseRoutes(router: Router, options: SseEndpointOptions): void {
  const endpoint = new SseEndpoint(options);
  const channelAt = `${options.basePath}/sse/`.length;
  router.add('GET', '/sse', ({ req, res, url }) => {
    endpoint.open(req, res, url, url.searchParams.getAll(SSE_CHANNEL_PARAM));
  });
  // Channel names may hold '/': the rest of the path is the name, decoded as a room name is.
  router.add('GET', '/sse/*channel', ({ req, res, url }) => {
    endpoint.open(req, res, url, [decoded(url.pathname.slice(channelAt))]);
  });
}

/** `/sse/:channel` and `/sse?channel=`. */
class SseEndpoint {
  /** The check that the user may subscribe to every channel, bound once (no closure per request). */
  private readonly streamCheck: AdmissionCheck<AcceptOptions>;

  constructor(private readonly options: SseEndpointOptions) {
    this.streamCheck = (principal, accept) => this.checkChannels(principal, accept);
  }

  /** Admit a stream on `names` and start it, or answer why not. */
  open(req: IncomingMessage, res: ServerResponse, url: URL, names: readonly string[]): void {
    req.resume();
    const handshake = this.options.handshake;
    const channels = [...new Set(names)].sort();
    const problem = channelsProblem(channels, this.options.maxChannelLength);
    if (problem !== null) {
      refuse(req, res, handshake.refuse(problem).refusal);
      return;
    }
    if (req.method === 'HEAD') {
      // What a stream would answer with, without opening one (no admission, nothing counted).
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.end();
      return;
    }
    const lastEventId = lastEventIdOf(req, url);
    const request = { url, headers: req.headers, peerAddress: req.socket.remoteAddress ?? '' };
    void handshake
      .admit(request, () => streamOptions(channels, lastEventId), this.streamCheck)
      .then((admission) => this.complete(req, res, admission));
  }

  /** May the handshake's user subscribe to every channel? Asked before the stream's 200. */
  private checkChannels(principal: Principal, options: AcceptOptions): Promise<CheckVerdict<AcceptOptions>> {
    const channels = options.channels ?? [];
    return this.options.acceptor.authorizeStream(principal, channels).then((decision) => {
      if (!decision.allowed) return { ok: false, refusal: streamRefusal(principal, decision.denied ?? '') };
      const id = decision.connectionId;
      return { ok: true, options: id === undefined ? options : { ...options, joinAuthorizedAs: id } };
    });
  }

  /** Start an admitted stream and hand it to the hub; answer a refused one. */
  private complete(req: IncomingMessage, res: ServerResponse, admission: Admission<AcceptOptions>): void {
    const handshake = this.options.handshake;
    try {
      if (!admission.ok) {
        refuse(req, res, admission.refusal);
        return;
      }
      if (admission.pendingAuth) {
        // A stream cannot send a first-message `auth`: its credentials come with the request.
        const refusal = handshake.refuse({
          status: 401,
          code: ErrorCode.Unauthorized,
          message: 'an SSE stream needs credentials in its request (?ticket=, ?token= or Authorization)',
        }).refusal;
        refuse(req, res, refusal);
        return;
      }
      // The client left while it was admitted: nothing to open.
      if (res.destroyed || req.socket.destroyed) return;
      const acceptor = this.options.acceptor;
      const { channels = [], lastEventId } = admission.options;
      if (acceptor.streamFinished(channels, lastEventId)) {
        // Everything was delivered and the channels are completed: 204 stops EventSource (WHATWG §9.2.3).
        res.writeHead(204, corsHeaders(req));
        res.end();
        return;
      }
      openSseStream(res, corsHeaders(req), this.options.sseRetryMs, (socket) =>
        acceptor.accept(socket, 'sse', admission),
      );
    } catch (error) {
      if (!res.headersSent) refuse(req, res, handshake.failed(error).refusal);
      else res.destroy();
    }
  }
}

/** Answer a refusal: its status, a JSON error body, `Retry-After` when one is known. */
export function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  const headers: Record<string, string> =
    refusal.retryAfterSeconds === undefined ? {} : { 'retry-after': String(refusal.retryAfterSeconds) };
  // A page may read why (fetch) when its origin is allowed; a refused origin learns nothing more.
  if (refusal.limit !== 'origin') Object.assign(headers, corsHeaders(req));
  sendError(res, refusal.code, refusal.message, refusal.status, headers);
}

/**
 * CORS for a cross-origin page (`new EventSource(url, { withCredentials: true })` sends cookies only when
 * the answer names its origin and allows credentials). Only reached by origins the handshake's allow-list
 * admits; a request without Origin (same-origin, or not a browser) gets none.
 */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  };
}

/** The position a client sends: `Last-Event-ID` (a reconnect), else `?last_event_id=` (a first connect). */
function lastEventIdOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['last-event-id'];
  const value =
    typeof header === 'string' ? header : (url.searchParams.get(LAST_EVENT_ID_PARAM) ?? undefined);
  // Never kept whole: one character over the limit is enough to refuse it as oversized.
  return value === undefined ? undefined : value.slice(0, MAX_LAST_EVENT_ID_LENGTH + 1);
}

function streamOptions(channels: readonly string[], lastEventId: string | undefined): AcceptOptions {
  return lastEventId === undefined || lastEventId === '' ? { channels } : { channels, lastEventId };
}

/** Why `channels` cannot be a stream's (400), or null. */
function channelsProblem(channels: readonly string[], maxChannelLength: number): Refusal | null {
  if (channels.length === 0)
    return {
      status: 400,
      code: ErrorCode.InvalidChannel,
      message: `name a channel: /sse/<channel> or /sse?${SSE_CHANNEL_PARAM}=<channel>`,
    };
  if (channels.length > MAX_SSE_CHANNELS)
    return {
      status: 400,
      code: ErrorCode.BadRequest,
      message: `at most ${MAX_SSE_CHANNELS} channels per stream`,
    };
  for (const channel of channels) {
    const problem = channelNameProblem(channel, maxChannelLength);
    if (problem !== null) return { status: 400, code: ErrorCode.InvalidChannel, message: problem };
  }
  return null;
}

/** A path part decoded ('' when its escapes are malformed: an invalid channel name). */
function decoded(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return '';
  }
}

/** The refusal of a stream the authorizer denied. */
function streamRefusal(principal: Principal, channel: string): Refusal {
  if (principal.userId === null)
    return {
      status: 401,
      code: ErrorCode.Unauthorized,
      message: `credentials are required to subscribe to ${channel}`,
    };
  return { status: 403, code: ErrorCode.PermissionDenied, message: `not allowed to subscribe to ${channel}` };
}
