/**
 * An SSE stream's side of the hub: where the stream stands in each of its channels (the cursor every
 * event id is made of) and how events are written (docs/protocol.md#server-sent-events). Pure.
 */
import type { StreamPosition } from '@switchboard/protocol';
import type { Publication } from '../broker/broker.js';
import { PreparedFrame } from '../transports/transport.js';
import { encodeEventId, epochTag } from './sse-event-id.js';
import type { SseEntry } from './sse-event-id.js';

/** The comment line written on every heartbeat visit: proxies see traffic, dead peers show on the TCP side. */
export const SSE_KEEPALIVE: PreparedFrame = new PreparedFrame(Buffer.from(': keep-alive\n\n'));

/**
 * One event: `event:` (omitted for `message`, the EventSource default, would be shorter; it is written
 * anyway so that every event names itself) and the data. A payload is JSON on one line unless it carried
 * raw line breaks (whitespace between tokens): each line is its own `data:` line, which EventSource joins
 * with `\n`, so the data still parses.
 */
export function renderSseEvent(event: string, json: string): string {
  const data = /[\r\n]/.test(json) ? json.split(/\r\n|\r|\n/).join('\ndata: ') : json;
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Why a `gap` event says some channels start live: the id was not one of this stream's (garbage, too
 * long, another channel count), a channel's stream has a new epoch (a restart of the memory engine, a
 * stream forgotten while idle), or history no longer holds what was missed (or the id is ahead of it).
 */
export type SseGapReason = 'invalid_id' | 'epoch_changed' | 'not_recoverable';

/** A cursor's own entry: mutable, so that a delivery moves its offset without allocating. */
interface CursorEntry {
  tag: string;
  offset: number;
}

/** Where one SSE stream stands in each of its channels; each event's id is made from it. */
export class SseCursor {
  private readonly entries: CursorEntry[];
  private readonly epochs: string[];
  /** Channels whose `done` event was written (completed channels); null until the first. */
  private done: Set<string> | null = null;

  /** @param channels the stream's channels, in id order (sorted, distinct). */
  constructor(readonly channels: readonly string[]) {
    this.entries = channels.map(() => ({ tag: '', offset: 0 }));
    this.epochs = channels.map(() => '');
  }

  /** One channel only: its ids depend on the publication alone, so one frame serves every such stream. */
  get single(): boolean {
    return this.entries.length === 1;
  }

  /** Set a channel's position. */
  set(channel: string, epoch: string, offset: number): void {
    // At most 32 channels: a scan costs less than a Map per stream.
    const i = this.channels.indexOf(channel);
    if (i === -1) return;
    if (epoch !== this.epochs[i]) {
      this.epochs[i] = epoch;
      this.entries[i] = { tag: epochTag(epoch), offset };
    } else {
      (this.entries[i] as CursorEntry).offset = offset;
    }
  }

  /** Where the stream stands in `channel`; undefined for a channel it does not carry. */
  position(channel: string): StreamPosition | undefined {
    const i = this.channels.indexOf(channel);
    if (i === -1) return undefined;
    return { epoch: this.epochs[i] as string, offset: (this.entries[i] as SseEntry).offset };
  }

  /** Whether `channel` has had its `done` event. */
  isDone(channel: string): boolean {
    return this.done?.has(channel) === true;
  }

  /** The `done` event of a completed channel; `last` is true once every channel of the stream is done. */
  finish(channel: string): { readonly event: string; readonly last: boolean } {
    (this.done ??= new Set()).add(channel);
    const event = `id: ${this.id()}\n${renderSseEvent('done', JSON.stringify({ channel }))}`;
    return { event, last: this.done.size === this.channels.length };
  }

  /** The id of the stream's current position. */
  id(): string {
    return encodeEventId(this.entries);
  }

  /**
   * The frame of a publication for this stream, advancing its cursor. Ephemeral messages have no
   * position: they carry no id, and the browser's last event id stays where it was.
   */
  frame(
    publication: Publication,
    body: () => string,
    shared: { sse: PreparedFrame | undefined },
  ): PreparedFrame {
    const { id, epoch } = publication;
    if (id === undefined || epoch === undefined)
      return (shared.sse ??= new PreparedFrame(Buffer.from(body())));
    this.set(publication.channel, epoch, id);
    if (this.single) return (shared.sse ??= new PreparedFrame(Buffer.from(`id: ${this.id()}\n${body()}`)));
    return new PreparedFrame(Buffer.from(`id: ${this.id()}\n${body()}`));
  }

  /** An event carrying only the current id: EventSource records it and dispatches nothing (WHATWG §9.2.6). */
  mark(): string {
    return `id: ${this.id()}\n\n`;
  }

  /** The `gap` event: these channels start live, what was published in between cannot be replayed. */
  gap(channels: readonly string[], reason: SseGapReason): string {
    return `id: ${this.id()}\n${renderSseEvent('gap', JSON.stringify({ channels, reason }))}`;
  }
}
