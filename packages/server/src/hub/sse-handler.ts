/**
 * An SSE stream (`/sse/:channel`, `/sse?channel=a&channel=b`) subscribes to its channels as it opens,
 * resuming from its `Last-Event-ID` where history allows: first a `gap` event naming the channels that
 * start live (never a silent gap), then the missed messages of the others in order, then live messages.
 * Push only: the client never sends a frame. docs/protocol.md#server-sent-events.
 */
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import type { StreamPosition } from '@switchboard/protocol';
import type { AcceptOptions } from './accept-options.js';
import type { CommandContext, Joined, Outcome } from './command-context.js';
import type { Connection } from './connection.js';
import { decodeEventId, epochTag } from './sse-event-id.js';
import { SseCursor } from './sse-stream.js';
import type { SseGapReason } from './sse-stream.js';

/** Subscribe an SSE stream to its channels, replaying what its Last-Event-ID missed. */
export async function joinSseStream(
  ctx: CommandContext,
  connection: Connection,
  options: AcceptOptions,
): Promise<void> {
  const channels = options.channels ?? [];
  const cursor = new SseCursor(channels);
  connection.sse = cursor;
  try {
    if (options.joinAuthorizedAs === undefined) {
      for (const channel of channels) {
        if (!(await ctx.permits(connection, 'subscribe', channel))) {
          ctx.close(connection, CloseCode.Forbidden, `not allowed to subscribe to ${channel}`);
          return;
        }
      }
    }
    const last = options.lastEventId;
    const entries = last === undefined ? null : decodeEventId(last, channels.length);
    let reason: SseGapReason | null = last !== undefined && entries === null ? 'invalid_id' : null;
    const since = await Promise.all(
      channels.map(async (channel, i): Promise<StreamPosition | undefined> => {
        const entry = entries?.[i];
        if (entry === undefined) return undefined;
        const position = await ctx.position(channel);
        if (epochTag(position.epoch) === entry.tag) return { offset: entry.offset, epoch: position.epoch };
        reason ??= 'epoch_changed';
        return undefined;
      }),
    );
    const outcomes = await Promise.all(channels.map((channel, i) => ctx.join(connection, channel, since[i])));
    const joined: Joined[] = [];
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        closeRefused(ctx, connection, outcome);
        return;
      }
      joined.push(outcome.value);
    }
    // The cursor starts where the client stands: its own position in the channels it recovers, the
    // current one in the others (which the gap event names).
    const gaps: string[] = [];
    joined.forEach((j, i) => {
      const from = since[i];
      if (from !== undefined && j.recovered === true) cursor.set(j.channel, from.epoch, from.offset);
      else {
        cursor.set(j.channel, j.position.epoch, j.position.offset);
        if (last !== undefined) {
          gaps.push(j.channel);
          if (from !== undefined) reason ??= 'not_recoverable';
        }
      }
    });
    if (gaps.length > 0) ctx.writeText(connection, cursor.gap(gaps, reason ?? 'not_recoverable'));
    for (const j of joined) {
      if (j.missed.length > 0) ctx.writeMissed(connection, j.channel, j.missed, j.position.epoch);
      cursor.set(j.channel, j.position.epoch, j.position.offset);
    }
    // The position as of now, even when nothing was sent: a stream cut before its first message then
    // resumes from here instead of starting live again (EventSource keeps an id from an event without data).
    ctx.writeText(connection, cursor.mark());
    for (const j of joined) ctx.release(connection, j.channel, j.position, j.hold);
    finishCompleted(ctx, connection);
  } catch (error) {
    // The authorize hook threw or a stream's position could not be read (a backend outage): the stream
    // ends and EventSource retries after its `retry:` delay.
    const message = error instanceof Error ? error.message : String(error);
    ctx.close(connection, CloseCode.TryAgainLater, `could not open the stream (${message}); retry`);
  }
}

/**
 * Write `event: done` for each channel of the stream that is completed and whose end the stream has
 * reached; once every channel is done, end the stream (a reconnect from there gets 204).
 */
export function finishCompleted(ctx: CommandContext, connection: Connection): void {
  const cursor = connection.sse;
  if (cursor === null || connection.state !== 'open') return;
  for (const channel of cursor.channels) {
    const position = cursor.position(channel);
    if (cursor.isDone(channel) || position === undefined || !ctx.streamEnded(channel, position)) continue;
    const { event, last } = cursor.finish(channel);
    ctx.writeText(connection, event);
    if (last) ctx.close(connection, CloseCode.Normal, 'stream complete');
  }
}

/** End a stream one of whose channels could not be joined (full, too many, a backend outage). */
function closeRefused(ctx: CommandContext, connection: Connection, outcome: Outcome<Joined>): void {
  if (outcome.ok) return;
  const code = outcome.code === ErrorCode.ChannelFull ? CloseCode.ChannelFull : CloseCode.TryAgainLater;
  ctx.close(connection, code, outcome.message);
}
