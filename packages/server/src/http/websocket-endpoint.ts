/**
 * The WebSocket endpoints: `${basePath}/ws` (protocol v1) and `${basePath}/ws/:room` (the seeds' room
 * dialect). An upgrade is admitted by the shared handshake, completed by the WebSocket transport and handed
 * to the hub; every refusal is an HTTP answer before the upgrade (ws's abortHandshake pattern), never a
 * half-open socket. That includes a room the handshake's user may not join (401 anonymous, 403 otherwise):
 * identity and room are both known before the upgrade (docs/protocol.md#the-room-dialect-wsroom).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  BATCH_QUERY_PARAM,
  ErrorCode,
  JSON_SUBPROTOCOL,
  MSGPACK_SUBPROTOCOL,
  channelNameProblem,
} from '@switchboard/protocol';
import type { Principal } from '../auth/authenticator.js';
import type { AcceptOptions, JoinDecision } from '../hub/accept-options.js';
import type { WireFormat } from '../hub/outbound.js';
import type {
  AdmissionCheck,
  Admission,
  Admitted,
  CheckVerdict,
  Handshake,
  Refusal,
} from '../transports/handshake.js';
import type { ConnectionHandle, TransportSocket } from '../transports/transport.js';
import { WebSocketTransport } from '../transports/websocket-transport.js';
import { resolveCompression } from '../transports/permessage-deflate.js';
import type { CompressionOptions } from '../transports/permessage-deflate.js';
import { offeredSubprotocols } from '../auth/token-sources.js';
import { rejectUpgrade, sendError } from './http-utils.js';
import type { Router } from './router.js';

/** Where an admitted WebSocket connection goes: the hub. */
export interface WebSocketAcceptor {
  accept(socket: TransportSocket, format: WireFormat, admitted: Admitted<AcceptOptions>): ConnectionHandle;
  /** Whether `principal` may join `room`; rejects when the application's authorize hook throws. */
  authorizeJoin(principal: Principal, room: string): Promise<JoinDecision>;
}

/** What the endpoints are built from. */
export interface WebSocketEndpointOptions {
  /** Prefix of the endpoints' paths ('' or `/rt`). */
  readonly basePath: string;
  readonly maxChannelLength: number;
  /** Frames larger than this close the connection with 1009 (after inflation, when compressed). */
  readonly maxMessageBytes: number;
  /** permessage-deflate for the clients that offer it (the server's `compression` option). */
  readonly compression: CompressionOptions | undefined;
  readonly handshake: Handshake;
  readonly acceptor: WebSocketAcceptor;
}

/** The accept options of a plain v1 handshake, shared (the hub only reads them). */
const NO_ACCEPT_OPTIONS: AcceptOptions = Object.freeze({});

/** The longest session id a client may present. */
const MAX_SESSION_ID = 64;

/**
 * The upgrade socket's error listener until ws takes the socket over (it stays attached for the
 * connection's lifetime). One shared function, not a closure: a closure created in handleUpgrade would
 * share that function's context, which holds the request, its headers, the URL with the token and the
 * `head` Buffer (a view of the whole request's bytes), and keep them alive as long as the connection.
 */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Answer a refused upgrade and close the socket. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const headers: Record<string, string> =
    refusal.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(refusal.retryAfterSeconds) };
  rejectUpgrade(socket, refusal.status, refusal.code, refusal.message, headers);
}

/** `/ws` and `/ws/:room`. */
export class WebSocketEndpoint {
  private readonly wsPath: string;
  private readonly transport: WebSocketTransport;
  /** The room dialect's admission check, bound once (no closure per handshake). */
  private readonly joinCheck: AdmissionCheck<AcceptOptions>;

  constructor(private readonly options: WebSocketEndpointOptions) {
    this.wsPath = `${options.basePath}/ws`;
    this.joinCheck = (principal, accept) => this.checkJoin(principal, accept);
    // An application protocol is selected whenever one is offered: browsers that send a bearer
    // subprotocol beside it need one offered protocol echoed, and never the token
    // (docs/security-auth.md). switchboard.v1.msgpack (v1 in MessagePack) is for /ws only: a room
    // upgrade offering it is refused before the upgrade (handleUpgrade).
    this.transport = new WebSocketTransport({
      maxPayload: options.maxMessageBytes,
      protocols: [JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL],
      compression: resolveCompression(options.compression),
    });
  }

  /** Release the transport (open connections are closed by the hub). */
  close(): Promise<void> {
    return this.transport.close();
  }

  /** Handle an upgrade if its path is one of the endpoints; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    let format: WireFormat;
    let room: string | undefined;
    if (path === this.wsPath) {
      format = 'v1';
    } else if (path.startsWith(`${this.wsPath}/`)) {
      format = 'room';
      const name = roomName(path.slice(this.wsPath.length + 1));
      const problem = roomProblem(name, this.options.maxChannelLength);
      if (problem !== null) {
        socket.on('error', destroyOnError);
        refuseUpgrade(
          socket,
          this.options.handshake.refuse({ status: 400, code: ErrorCode.InvalidChannel, message: problem })
            .refusal,
        );
        return true;
      }
      room = name;
      if (offeredSubprotocols(req.headers['sec-websocket-protocol']).includes(MSGPACK_SUBPROTOCOL)) {
        socket.on('error', destroyOnError);
        const message = `the room dialect speaks JSON only: do not offer ${MSGPACK_SUBPROTOCOL}`;
        const refusal = { status: 400, code: ErrorCode.BadRequest, message };
        refuseUpgrade(socket, this.options.handshake.refuse(refusal).refusal);
        return true;
      }
    } else {
      return false;
    }
    socket.on('error', destroyOnError);
    const request = { url, headers: req.headers, peerAddress: req.socket.remoteAddress ?? '' };
    void this.options.handshake
      .admit(
        request,
        (query) => acceptOptions(query, format, room),
        room === undefined ? undefined : this.joinCheck,
      )
      .then((admission) => this.complete(req, socket, head, format, admission));
    return true;
  }

  /** Refuse an upgrade for a path nobody serves (404), counted like every refused handshake. */
  refuseUnknownPath(socket: Duplex): void {
    socket.on('error', destroyOnError);
    const refusal = { status: 404, code: ErrorCode.NotFound, message: 'no WebSocket endpoint at this path' };
    refuseUpgrade(socket, this.options.handshake.refuse(refusal).refusal);
  }

  /**
   * May the handshake's user join the room in the URL? Asked before the upgrade, so that a refusal is an
   * HTTP status (401 to an anonymous client: credentials could help; 403 otherwise) like every other
   * handshake refusal, and a non-browser client fails at connect instead of after it (the seeds' tests).
   */
  private checkJoin(principal: Principal, options: AcceptOptions): Promise<CheckVerdict<AcceptOptions>> {
    const room = options.room;
    if (room === undefined) return Promise.resolve({ ok: true, options });
    return this.options.acceptor.authorizeJoin(principal, room).then((decision) => {
      if (!decision.allowed) return { ok: false, refusal: joinRefusal(principal, room) };
      const id = decision.connectionId;
      return { ok: true, options: id === undefined ? options : { ...options, joinAuthorizedAs: id } };
    });
  }

  /** An admitted handshake is upgraded and handed to the hub; a refused one is answered. */
  private complete(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    format: WireFormat,
    admission: Admission<AcceptOptions>,
  ): void {
    try {
      if (!admission.ok) {
        refuseUpgrade(socket, admission.refusal);
        return;
      }
      const acceptor = this.options.acceptor;
      this.transport.upgrade(req, socket, head, (transportSocket) =>
        acceptor.accept(transportSocket, format, admission),
      );
    } catch (error) {
      refuseUpgrade(socket, this.options.handshake.failed(error).refusal);
    }
  }
}

/**
 * Answer a plain HTTP request (no `Upgrade` header) to `/ws` or `/ws/:room`: 426 Upgrade Required with
 * `Upgrade: websocket`, or for an invalid room name the 400 the upgrade would get, so that a page whose
 * WebSocket never opened can learn why (a browser cannot read a refused upgrade's status). Cheap on
 * purpose: no admission, no limits, nothing counted as a handshake.
 */
export function addWebSocketPathRoutes(router: Router, basePath: string, maxChannelLength: number): void {
  const roomsAt = `${basePath}/ws/`.length;
  router.add('GET', '/ws', ({ req, res }) => upgradeRequired(req, res, 'protocol v1'));
  // Room names may hold '/': the rest of the path is the name, decoded as the upgrade decodes it.
  router.add('GET', '/ws/*room', ({ req, res, url }) => {
    const problem = roomProblem(roomName(url.pathname.slice(roomsAt)), maxChannelLength);
    req.resume();
    if (problem === null) upgradeRequired(req, res, 'the room dialect');
    else sendError(res, ErrorCode.InvalidChannel, problem, 400);
  });
}

function upgradeRequired(req: IncomingMessage, res: ServerResponse, dialect: string): void {
  req.resume();
  sendError(
    res,
    ErrorCode.BadRequest,
    `this is a WebSocket endpoint (${dialect}): open it with a WebSocket client (GET with Upgrade: websocket)`,
    426,
    // HTTP/2 has no Upgrade (RFC 9113 section 8.2.2: connection-specific headers are malformed there, and
    // Node refuses to send them): the client has to come back over HTTP/1.1, which the body says.
    req.httpVersionMajor >= 2 ? {} : { upgrade: 'websocket', connection: 'Upgrade' },
  );
}

/** The room name in a path's last part, decoded ('' when its escapes are malformed). */
function roomName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return '';
  }
}

/** Why `name` is not a room name (the channel naming rules, in the words of rooms), or null. */
function roomProblem(name: string, maxChannelLength: number): string | null {
  const problem = channelNameProblem(name, maxChannelLength);
  return problem === null ? null : `room ${problem.replace(/^channel /, '')}`;
}

/**
 * Query parameters of an upgrade: `session` and `batch` (v1), `last_message_id` and `epoch` (rooms). A
 * string is the problem.
 */
function acceptOptions(url: URL, format: WireFormat, room: string | undefined): AcceptOptions | string {
  const params = url.searchParams;
  if (format === 'v1') {
    // The encoding is negotiated, so that a server that does not know MessagePack answers with JSON the
    // client can tell it got; a query parameter would be ignored by one, and misread (docs/protocol.md).
    if (params.has('format'))
      return `the wire format is chosen by subprotocol (${MSGPACK_SUBPROTOCOL}), not by a format parameter`;
    // `batch=1`: the client reads several frames per WebSocket message (docs/protocol.md, Batching).
    const batch = params.get(BATCH_QUERY_PARAM) === '1';
    const session = params.get('session');
    if (session === null || session === '') return batch ? { batch } : NO_ACCEPT_OPTIONS;
    if (session.length > MAX_SESSION_ID) return `session must be at most ${MAX_SESSION_ID} characters`;
    return batch ? { sessionId: session, batch } : { sessionId: session };
  }
  const out: { room?: string; lastMessageId?: number; epoch?: string } = {};
  if (room !== undefined) out.room = room;
  const last = params.get('last_message_id');
  if (last !== null) {
    if (!/^\d{1,15}$/.test(last)) return 'last_message_id must be a non-negative integer';
    out.lastMessageId = Number(last);
  }
  const epoch = params.get('epoch');
  if (epoch !== null) {
    if (epoch.length === 0 || epoch.length > 64) return 'epoch must be 1 to 64 characters';
    out.epoch = epoch;
  }
  return out;
}

/** The refusal of a join the authorizer denied. */
function joinRefusal(principal: Principal, room: string): Refusal {
  if (principal.userId === null)
    return { status: 401, code: ErrorCode.Unauthorized, message: `credentials are required to join ${room}` };
  return { status: 403, code: ErrorCode.PermissionDenied, message: `not allowed to join ${room}` };
}
