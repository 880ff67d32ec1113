/**
 * Rendering of outbound messages. A fan-out renders each wire format at most once and hands the same
 * {@link PreparedFrame} to every recipient: never per-recipient JSON, and the transport frames it once.
 * A v1 frame for MessagePack connections is made from its JSON, once, the first time one is a recipient.
 */
import { encodeServerFrame, msgpackFromJson } from '@switchboard/protocol';
import type { FrameEncoding, ServerFrame } from '@switchboard/protocol';
import { PreparedFrame } from '../transports/transport.js';
import { renderSseEvent } from './sse-stream.js';

/**
 * How a connection speaks:
 * - `v1`: the multiplexed protocol of docs/protocol.md (`/ws`);
 * - `room`: the seeds' single-room style (`/ws/:room`), where a message is the published JSON object
 *   itself with an `id` added;
 * - `sse`: Server-Sent Events (`/sse/:channel`, `/sse?channel=`), push only: a message is an event whose
 *   id is the stream's position (see sse-stream.ts).
 */
export type WireFormat = 'v1' | 'room' | 'sse';

/** A message rendered lazily, once per wire format (and per encoding of v1). */
export class Outbound {
  private v1: PreparedFrame | undefined;
  private v1Msgpack: PreparedFrame | undefined;
  private v1Text: string | undefined;
  private room: PreparedFrame | undefined;
  /** The SSE event without an id, or with the id every single-channel stream shares (SseCursor.frame). */
  sse: PreparedFrame | undefined;
  private sseText: string | undefined;

  constructor(
    private readonly renderV1: () => string,
    private readonly renderRoom: () => string,
    private readonly renderSse: () => string,
  ) {}

  /** The SSE event's lines after its id (rendered once). */
  sseBody(): string {
    return (this.sseText ??= this.renderSse());
  }

  /** The v1 frame's JSON (rendered once: the MessagePack frame is made from it too). */
  v1Json(): string {
    return (this.v1Text ??= this.renderV1());
  }

  /** The encoded frame for `format` (and `encoding`, for v1). */
  frame(format: WireFormat, encoding: FrameEncoding = 'json'): Buffer {
    return this.prepared(format, encoding).payload;
  }

  /**
   * The frame for `format`, shared by every recipient (the transport caches its framing in it); for v1,
   * in `encoding` (only v1 connections over WebSocket may be `msgpack`).
   */
  prepared(format: WireFormat, encoding: FrameEncoding = 'json'): PreparedFrame {
    if (format === 'v1')
      return encoding === 'json'
        ? (this.v1 ??= new PreparedFrame(Buffer.from(this.v1Json())))
        : (this.v1Msgpack ??= new PreparedFrame(msgpackPayload(this.v1Json()), true));
    if (format === 'sse') return (this.sse ??= new PreparedFrame(Buffer.from(this.sseBody())));
    return (this.room ??= new PreparedFrame(Buffer.from(this.renderRoom())));
  }

  /** An outbound message whose WebSocket formats are the same frame (an SSE event named after its type). */
  static same(frame: ServerFrame): Outbound {
    const text = encodeServerFrame(frame);
    return new Outbound(
      () => text,
      () => text,
      () => renderSseEvent(frame.type, text),
    );
  }
}

/**
 * The room format of a payload given as JSON: a JSON object is delivered as itself, plus `id` when there
 * is one (replacing any `id` the payload carried); any other value is wrapped as
 * `{"type": kind, "data": value}`. Called once per fan-out, never per recipient.
 */
export function renderRoomPayload(kind: string, json: string, id: number | undefined): string {
  if (json.startsWith('{')) {
    if (id === undefined) return json;
    return JSON.stringify({ ...(JSON.parse(json) as Record<string, unknown>), id });
  }
  return id === undefined
    ? `{"type":${JSON.stringify(kind)},"data":${json}}`
    : `{"type":${JSON.stringify(kind)},"data":${json},"id":${id}}`;
}

/** The v1 `message` push, assembled around the already-encoded payload. */
export function renderV1Message(channel: string, id: number | undefined, json: string, time: number): string {
  const idPart = id === undefined ? '' : `,"id":${id}`;
  return `{"type":"message","channel":${JSON.stringify(channel)}${idPart},"data":${json},"time":${time}}`;
}

/** The v1 `direct` or `broadcast` push, assembled around the already-encoded payload. */
export function renderV1Push(type: 'direct' | 'broadcast', json: string, time: number): string {
  return `{"type":"${type}","data":${json},"time":${time}}`;
}

/**
 * The reply to `subscribe`, assembled around the stored JSON of the missed messages (no re-encoding).
 * `joined` is what ChannelRegistry.join resolved with.
 */
export function renderSubscribeReply(
  id: number,
  joined: {
    readonly channel: string;
    readonly position: { offset: number; epoch: string };
    readonly recovered?: boolean;
    readonly missed: readonly { offset: number; json: string; time: number }[];
  },
): string {
  const head = `{"type":"reply","id":${id},"result":{"channel":${JSON.stringify(joined.channel)},"offset":${joined.position.offset},"epoch":${JSON.stringify(joined.position.epoch)}`;
  if (joined.recovered === undefined) return `${head}}}`;
  const messages = joined.missed.map((m) => `{"id":${m.offset},"data":${m.json},"time":${m.time}}`).join(',');
  return `${head},"recovered":${joined.recovered},"messages":[${messages}]}}`;
}

/** The reply to `history`, assembled around the stored JSON of the messages. */
export function renderHistoryReply(
  id: number,
  channel: string,
  page: {
    readonly position: { offset: number; epoch: string };
    readonly messages: readonly { offset: number; json: string; time: number }[];
    readonly complete: boolean;
  },
): string {
  const messages = page.messages.map((m) => `{"id":${m.offset},"data":${m.json},"time":${m.time}}`).join(',');
  return `{"type":"reply","id":${id},"result":{"channel":${JSON.stringify(channel)},"offset":${page.position.offset},"epoch":${JSON.stringify(page.position.epoch)},"messages":[${messages}],"complete":${page.complete}}}`;
}

/** A frame's JSON as the MessagePack payload of a binary message (a view of the encoder's result). */
export function msgpackPayload(json: string): Buffer {
  const bytes = msgpackFromJson(json);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A frame's JSON as the payload `encoding` sends: the text as UTF-8, or its MessagePack. */
export function payloadIn(encoding: FrameEncoding, json: string): Buffer {
  return encoding === 'json' ? Buffer.from(json) : msgpackPayload(json);
}

/** The shared heartbeat ping; identical in both formats. */
export const PING_FRAME: Buffer = Buffer.from(encodeServerFrame({ type: 'ping' }));

/** {@link PING_FRAME} as one prepared frame for every connection: framed once per process. */
export const PING_PREPARED: PreparedFrame = new PreparedFrame(PING_FRAME);

/** The ping of MessagePack connections, framed once per process too. */
export const PING_PREPARED_MSGPACK: PreparedFrame = new PreparedFrame(
  msgpackPayload('{"type":"ping"}'),
  true,
);
