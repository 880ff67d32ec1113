/**
 * Members whose subscription starts ahead of what this node's live feed has delivered on their channel.
 *
 * A subscribe reads the stream's position (or the missed messages) from history, on a command connection,
 * while live publications reach this node on another path (Redis pub/sub). Under load the history read can
 * come back before the live feed has delivered the same messages: the subscriber was given message 42 from
 * history, and message 42 then arrives live. A member is marked with where its subscription started; the
 * fan-out skips, for that member alone, every live publication at or before its mark, and forgets the mark
 * once the channel's live position reaches it. Channels without marks pay one null check per publication.
 */
import type { StreamPosition } from '@switchboard/protocol';
import type { Publication } from '../broker/broker.js';
import type { Channel } from './channel.js';
import type { Connection } from './connection.js';

/**
 * Mark `connection` when `start` (where its subscription starts) is ahead of the channel's live position.
 * A different epoch is not "ahead": the channel's stream was reset, and continuity checks deal with it.
 */
export function markIfAhead(channel: Channel, connection: Connection, start: StreamPosition): void {
  const live = channel.position;
  if (live !== null && (live.epoch !== start.epoch || live.offset >= start.offset)) return;
  (channel.ahead ??= new Map()).set(connection, start);
}

/** Whether the live `publication` is one `connection` already has (at or before its mark). */
export function alreadyHas(
  ahead: ReadonlyMap<Connection, StreamPosition>,
  connection: Connection,
  publication: Publication,
): boolean {
  const mark = ahead.get(connection);
  return mark !== undefined && covers(mark, publication);
}

/** Whether a marked member that reads batched frames already has `publication` (a batch cannot skip it). */
export function batchingMemberHas(
  ahead: ReadonlyMap<Connection, StreamPosition>,
  publication: Publication,
): boolean {
  for (const [connection, mark] of ahead) if (connection.batch && covers(mark, publication)) return true;
  return false;
}

function covers(mark: StreamPosition, publication: Publication): boolean {
  return publication.id !== undefined && publication.epoch === mark.epoch && publication.id <= mark.offset;
}

/** After a fan-out: forget the marks the channel's live position has reached (or that a reset voided). */
export function settleMarks(channel: Channel): void {
  const ahead = channel.ahead;
  const live = channel.position;
  if (ahead === null || live === null) return;
  for (const [connection, mark] of ahead) {
    if (mark.epoch !== live.epoch || mark.offset <= live.offset) ahead.delete(connection);
  }
  if (ahead.size === 0) channel.ahead = null;
}

/** A member leaves: its mark goes with it. */
export function unmark(channel: Channel, connection: Connection): void {
  const ahead = channel.ahead;
  if (ahead === null || !ahead.delete(connection)) return;
  if (ahead.size === 0) channel.ahead = null;
}
