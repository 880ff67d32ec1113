/**
 * The seeds' single-room protocol (`/ws/:room`), for a bare browser WebSocket or wscat: every JSON
 * object a client sends, other than `{"type":"ping"}` and `{"type":"pong"}`, is published to the room.
 */
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import type { StreamPosition } from '@switchboard/protocol';
import type { AcceptOptions } from './accept-options.js';
import type { CommandContext } from './command-context.js';
import type { Connection } from './connection.js';

const PONG = { type: 'pong' } as const;

/** Handle one text frame from a room connection. */
export function handleRoomFrame(ctx: CommandContext, connection: Connection, text: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    ctx.error(connection, ErrorCode.InvalidJson, 'frame is not valid JSON');
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.error(connection, ErrorCode.InvalidFrame, 'frame must be a JSON object');
    return;
  }
  const type = (value as { type?: unknown }).type;
  if (type === 'pong') return;
  if (type === 'refresh') {
    // Room clients renew their credentials too: {"type":"refresh","token":"..."} (errors arrive as error frames).
    const token = (value as { token?: unknown }).token;
    if (typeof token === 'string' && token.length > 0)
      ctx.track(connection, ctx.credentials(connection, 'refresh', token, undefined));
    else ctx.error(connection, ErrorCode.BadRequest, 'refresh needs a token');
    return;
  }
  if (type === 'ping') {
    ctx.writeRaw(connection, PONG);
    return;
  }
  const room = connection.room;
  if (room === null) return;
  ctx.track(
    connection,
    ctx.authorized(
      connection,
      'publish',
      room,
      undefined,
      () =>
        ctx.publish(room, value, false).then(
          () => undefined,
          (error: unknown) => ctx.failed(connection, undefined, error),
        ),
      value,
    ),
  );
}

/**
 * A room connection joins its room as it opens, replaying from `?last_message_id=` when given (then a
 * `recovery` frame says whether everything was replayed). The permission to join was checked before the
 * upgrade when the handshake named the user (a refusal is HTTP 401 or 403, docs/protocol.md); after a
 * first-message `auth` it is checked here, and a refusal is close 4505. A full room (4503) and a backend
 * outage (1013) are found only here.
 */
export async function joinRoom(
  ctx: CommandContext,
  connection: Connection,
  room: string,
  options: AcceptOptions,
): Promise<void> {
  try {
    if (options.joinAuthorizedAs === undefined && !(await ctx.permits(connection, 'subscribe', room))) {
      ctx.close(connection, CloseCode.Forbidden, `not allowed to join ${room}`);
      return;
    }
    let since: StreamPosition | undefined;
    if (options.lastMessageId !== undefined) {
      const epoch = options.epoch ?? (await ctx.position(room)).epoch;
      since = { offset: options.lastMessageId, epoch };
    }
    const outcome = await ctx.join(connection, room, since);
    if (!outcome.ok) {
      const code = outcome.code === ErrorCode.ChannelFull ? CloseCode.ChannelFull : CloseCode.TryAgainLater;
      ctx.close(connection, code, outcome.message);
      return;
    }
    const joined = outcome.value;
    ctx.writeMissed(connection, room, joined.missed, joined.position.epoch);
    if (since !== undefined) {
      ctx.writeRaw(connection, {
        type: 'recovery',
        recovered: joined.recovered ?? false,
        offset: joined.position.offset,
        epoch: joined.position.epoch,
      });
    }
    ctx.release(connection, room, joined.position, joined.hold);
  } catch (error) {
    // The authorize hook threw or the stream's position could not be read (a backend outage): the client
    // is told why, and 1013 sends it to reconnect later, instead of a rejection nobody handles.
    ctx.failed(connection, undefined, error);
    ctx.close(connection, CloseCode.TryAgainLater, 'could not join the room; retry');
  }
}
