import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { PerMessageDeflateOptions } from 'ws';
import { MSGPACK_SUBPROTOCOL } from '@switchboard/protocol';
import type { FrameEncoding } from '@switchboard/protocol';
import type { ConnectionHandle, PreparedFrame, TransportSocket } from './transport.js';
import { frameDeflated, frameMessage } from './websocket-frame.js';
import { releaseInflaterPerMessage, shareDeflateState } from './ws-inflater.js';
import {
  CLIENT_WINDOW_BITS,
  SERVER_WINDOW_BITS,
  deflateMessage,
  negotiationFor,
} from './permessage-deflate.js';

/** Options for {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /**
   * Messages larger than this close the connection with 1009 (enforced by ws while reading), whether they
   * come in one frame or in fragments.
   */
  readonly maxPayload: number;
  /**
   * Subprotocols the server accepts. Of those a client offers, the first it offers is selected (its
   * order is its preference); `switchboard.v1.msgpack` makes the connection's encoding `msgpack`.
   * Default: none is required.
   */
  readonly protocols?: readonly string[];
  /**
   * Negotiate permessage-deflate with the clients that offer it, and compress every frame of at least
   * `thresholdBytes` to them (a shared frame once for all of them). Default: no compression.
   */
  readonly compression?: { readonly thresholdBytes: number } | undefined;
}

const HANDLE = Symbol('switchboard.handle');

type TaggedSocket = WebSocket & { [HANDLE]?: ConnectionHandle | undefined };

// One set of listener functions shared by every socket (they read the handle from `this`), so a
// connection costs no closures. A JSON connection reads text messages, a MessagePack one binary ones:
// the other kind is unsupported data (1003).
function onJsonMessage(this: TaggedSocket, data: Buffer, isBinary: boolean): void {
  const handle = this[HANDLE];
  if (handle === undefined) return;
  if (isBinary) handle.receiveUnsupported();
  else handle.receiveText(data.toString('utf8'));
}
function onMsgpackMessage(this: TaggedSocket, data: Buffer, isBinary: boolean): void {
  const handle = this[HANDLE];
  if (handle === undefined) return;
  if (isBinary) handle.receiveBinary(data);
  else handle.receiveUnsupported();
}
function onPing(this: TaggedSocket, data: Buffer): void {
  // autoPong is off: a ping is answered only when the hub admits it under the connection's rate limits.
  // (ws's own answer had no limit, and past 60 pongs not yet flushed it dropped the connection without a
  // close frame.)
  if (this[HANDLE]?.receiveTransportPing(data.length) === true && this.readyState === OPEN) this.pong(data);
}
function onPong(this: TaggedSocket, data: Buffer): void {
  this[HANDLE]?.receiveTransportPong(data.length);
}
function onClose(this: TaggedSocket, code: number, reason: Buffer): void {
  const handle = this[HANDLE];
  this[HANDLE] = undefined;
  handle?.closed(code, reason.toString('utf8'));
}
function onError(this: TaggedSocket, error: Error & { code?: string }): void {
  // ws emits 'error' for what its receiver refuses, after it has sent the close frame itself (and stopped
  // reading): 'close' follows, usually with 1006 because the peer's answer is never read, so the hub
  // hears here the code that was sent; that includes 1009 for a compressed message that inflates past
  // maxPayload. (Its Sender's errors, which end the socket without a close frame, cannot happen here: ws
  // never compresses what we send, and we send no Blobs. 'close' reports them.)
  const code = closeCodeOf(error);
  if (code !== null) this[HANDLE]?.receiveInvalid(code, error.message);
}

/**
 * The close code ws sends for each error of its receiver (ws's `lib/receiver.js`; the codes are ws's
 * documented error codes): 1009 for a message or frame over `maxPayload`, 1008 for a message in more
 * than {@link MAX_FRAGMENTS} fragments, 1007 for invalid UTF-8, 1002 for every other protocol error;
 * null for an error that is not the receiver's.
 */
export function closeCodeOf(error: { readonly code?: string | undefined }): number | null {
  if (typeof error.code !== 'string' || !error.code.startsWith('WS_ERR_')) return null;
  switch (error.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    default:
      return 1002;
  }
}

/**
 * The most fragments one message may come in (ws's default, stated here because it is a limit clients
 * meet): past it the connection is closed with 1008 whatever the message's size, because every fragment
 * costs a Buffer kept until the message is whole. With fragments of 4 bytes or more, a message over
 * `maxPayload` (64 KiB by default) reaches the size limit first and gets 1009.
 */
export const MAX_FRAGMENTS = 16_384;

const OPEN = WebSocket.OPEN;

/** Frames up to this many bytes are framed by {@link frameMessage}, one copy; larger ones by ws. */
const SMALL_FRAME = 4096;
/** ws.send's options for each encoding, shared; ws never compresses (see below). */
const TEXT = { binary: false, compress: false } as const;
const BINARY = { binary: true, compress: false } as const;

/**
 * A ws socket seen through the transport seam. Control frames and large replies go through ws; fan-out
 * frames ({@link sendPrepared}, framed once for all recipients) and small replies are framed here and
 * written straight to the socket the upgrade handed over, which is the very socket ws writes to. That is
 * safe because:
 * - ws never compresses (every ws.send says `compress: false`; pings and closes are never compressed)
 *   and we never send Blobs, so ws's Sender never queues: every ws frame (reply, ping, close) is written
 *   synchronously and whole, and our whole-frame writes can only land between two of its frames, never
 *   inside one (we never send fragmented messages either);
 * - ws's `bufferedAmount` is the socket's `writableLength` plus the Sender's queue (always empty here:
 *   it only fills while a message is deflated or a Blob is read), so the bytes we write are counted like
 *   ws's own and the slow-consumer rules see them;
 * - we write only while ws is OPEN, as `ws.send` does: never after its close frame.
 */
class WebSocketTransportSocket implements TransportSocket {
  readonly kind = 'websocket' as const;
  constructor(
    private readonly ws: WebSocket,
    /** The upgraded socket (a net.Socket or tls.TLSSocket), kept from the upgrade: no ws internals. */
    private readonly socket: Duplex,
    /** `msgpack` when the handshake selected `switchboard.v1.msgpack`: every frame is a binary message. */
    readonly encoding: FrameEncoding,
    /** Frames of at least this many bytes are compressed; Infinity when the peer did not negotiate it. */
    private readonly deflateFrom: number,
  ) {}
  send(frame: Buffer): void {
    const binary = this.encoding === 'msgpack';
    if (frame.length >= this.deflateFrom) {
      // A reply of its own (a history page, a recovery): compressed for this connection alone, with a
      // zlib context that lives for this call only (deflateRawSync), so nothing stays per connection.
      if (this.ws.readyState !== OPEN) return;
      const compressed = deflateMessage(frame);
      if (compressed !== null) {
        this.socket.write(frameDeflated(compressed, binary));
        return;
      }
    }
    // A small frame (a reply, the `connected` push) is framed here and written in one call, as a fan-out
    // frame is: ws.send would allocate its framing options and header and write two chunks. A large one
    // goes through ws, which writes the payload without copying it (never compressing it: see above).
    if (frame.length > SMALL_FRAME) this.ws.send(frame, binary ? BINARY : TEXT);
    else if (this.ws.readyState === OPEN) this.socket.write(frameMessage(frame, binary));
  }
  sendPrepared(frame: PreparedFrame): void {
    if (this.ws.readyState !== OPEN) return;
    if (frame.payload.length >= this.deflateFrom && frame.compressible) {
      this.socket.write((frame.websocketDeflated ??= deflatedFrame(frame)));
      return;
    }
    this.socket.write((frame.websocket ??= frameMessage(frame.payload, frame.binary)));
  }
  /** A pong comes back only once the peer has read every frame before the ping: frames are read in order. */
  readonly pingsProveReads = true;
  get bufferedAmount(): number {
    // ws's bufferedAmount is the socket's writableLength plus its Sender's queue, and that queue is
    // always empty here (see above). Reading the socket alone skips an object per recipient of a fan-out.
    return this.socket.writableLength;
  }
  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }
  close(code: number, reason: string): void {
    this.ws.close(code, truncateReason(reason));
  }
  terminate(): void {
    this.ws.terminate();
  }
}

/** A prepared frame compressed (RSV1 set), or its plain framing when compression does not shrink it. */
function deflatedFrame(frame: PreparedFrame): Buffer {
  const compressed = deflateMessage(frame.payload);
  if (compressed === null) return (frame.websocket ??= frameMessage(frame.payload, frame.binary));
  return frameDeflated(compressed, frame.binary);
}

/** A close reason must fit in a control frame: 123 bytes of UTF-8, cut between characters. */
function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = reason.slice(0, 123);
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  // A cut can leave the first half of a surrogate pair (a 4-byte character), which UTF-8 encodes as
  // U+FFFD (3 bytes): the peer would read a character the reason never had. Drop it.
  const last = out.charCodeAt(out.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? out.slice(0, -1) : out;
}

/**
 * What ws is told about permessage-deflate when the server compresses. ws negotiates (and writes the
 * response header) and inflates what clients send; it never deflates, since every send says
 * `compress: false` and we frame compressed messages ourselves. `server_no_context_takeover` is always
 * in the answer (RFC 7692 lets a server add it unasked), so a message's compressed bytes depend on the
 * message alone; `client_no_context_takeover` too, so that a client resets its compressor after every
 * message and ws's inflater keeps no history: it is closed after each message (ws-inflater.ts).
 * `serverMaxWindowBits` makes ws refuse an offer for a smaller server window than the shared frames are
 * compressed with (negotiationFor routes those upgrades to the plain server before ws can answer 400).
 */
function deflateOptions(clientMaxWindowBits: number | undefined): PerMessageDeflateOptions {
  return {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: SERVER_WINDOW_BITS,
    ...(clientMaxWindowBits === undefined ? {} : { clientMaxWindowBits }),
    // ws's own compression threshold: never reached, ws never compresses (see above).
    threshold: Number.MAX_SAFE_INTEGER,
    // The inflater ws keeps once a client sent a compressed message: a small output buffer (zlib's
    // default is 16 KiB, allocated per inflater); inbound messages are bounded by maxPayload anyway.
    zlibInflateOptions: { chunkSize: 1024 },
    // Inflations in flight at once, over every connection of the process (ws's limiter is global).
    concurrencyLimit: 10,
  };
}

/** The WebSocket transport: ws in no-server mode, so it rides on any Node HTTP(S) server. */
export class WebSocketTransport {
  private readonly wss: WebSocketServer;
  /**
   * With compression: the servers that negotiate it, one asking the client for a small window (it
   * offered `client_max_window_bits`), one not (it did not, and must not be asked: RFC 7692 7.1.2.2).
   */
  private readonly deflating: { readonly narrow: WebSocketServer; readonly wide: WebSocketServer } | null;
  private readonly deflateFrom: number;

  constructor(options: WebSocketTransportOptions) {
    const protocols = options.protocols ?? [];
    const base = {
      noServer: true,
      maxPayload: options.maxPayload,
      maxFragments: MAX_FRAGMENTS,
      // Pings are answered in onPing, under the connection's rate limits.
      autoPong: false,
      clientTracking: false,
      // Select only a configured protocol, never merely the first offered (ws's default without this
      // hook): a browser may offer `switchboard.bearer.<token>`, and echoing it would put the token in
      // the response. A client that offered protocols and gets none back fails the handshake (Chrome,
      // ws), so the authenticator refuses a bearer offered without an application protocol before the
      // upgrade. Of the configured ones, the client's first choice wins: a client offering
      // `switchboard.v1.msgpack, switchboard.v1` gets MessagePack here and JSON from an older server.
      handleProtocols: (offered: Set<string>) => {
        for (const protocol of offered) if (protocols.includes(protocol)) return protocol;
        return false;
      },
    };
    // ws's own compression keeps ~300 KB of zlib state per socket and deflates per recipient: never used.
    this.wss = new WebSocketServer({ ...base, perMessageDeflate: false });
    const compression = options.compression;
    this.deflateFrom = compression?.thresholdBytes ?? Infinity;
    this.deflating =
      compression === undefined
        ? null
        : {
            narrow: new WebSocketServer({ ...base, perMessageDeflate: deflateOptions(CLIENT_WINDOW_BITS) }),
            wide: new WebSocketServer({ ...base, perMessageDeflate: deflateOptions(undefined) }),
          };
  }

  /**
   * Complete the upgrade and register the socket. `accept` returns the handle the socket reports to;
   * nothing is read from the socket before it is attached.
   *
   * The socket is corked for the duration: ws writes the 101 response and calls back synchronously (no
   * `verifyClient`), so the response and whatever `accept` writes at once (the `connected` push) leave
   * in one write, one syscall, instead of two.
   */
  upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    accept: (socket: TransportSocket) => ConnectionHandle,
  ): void {
    const negotiation =
      this.deflating === null ? null : negotiationFor(request.headers['sec-websocket-extensions']);
    const wss = negotiation === null || this.deflating === null ? this.wss : this.deflating[negotiation];
    const deflateFrom = negotiation === null ? Infinity : this.deflateFrom;
    socket.cork();
    try {
      wss.handleUpgrade(request, socket, head, (ws: TaggedSocket) => {
        ws.on('error', onError);
        if (negotiation !== null) {
          releaseInflaterPerMessage(ws);
          shareDeflateState(ws);
        }
        const encoding = ws.protocol === MSGPACK_SUBPROTOCOL ? 'msgpack' : 'json';
        ws[HANDLE] = accept(new WebSocketTransportSocket(ws, socket, encoding, deflateFrom));
        ws.on('message', encoding === 'msgpack' ? onMsgpackMessage : onJsonMessage);
        ws.on('ping', onPing);
        ws.on('pong', onPong);
        ws.on('close', onClose);
      });
    } finally {
      socket.uncork();
    }
  }

  /** Release the server object (open sockets are closed by the hub). */
  async close(): Promise<void> {
    const servers = [this.wss, ...(this.deflating === null ? [] : Object.values(this.deflating))];
    await Promise.all(servers.map((wss) => new Promise<void>((resolve) => wss.close(() => resolve()))));
  }
}
