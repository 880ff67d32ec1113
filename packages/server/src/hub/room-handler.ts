/**
 * The seeds' single-room protocol (`/ws/:room`), for a bare browser WebSocket or wscat: every JSON
 * object a client sends, other than `{"type":"ping"}` and `{"type":"pong"}`, is published to the room.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';

const PONG = { type: 'pong' } as const;

/** Handle one text frame from a room connection. */
export function handleRoomFrame(hub: Hub, connection: Connection, text: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    hub.clientError(connection, ErrorCode.InvalidJson, 'frame is not valid JSON');
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    hub.clientError(connection, ErrorCode.InvalidFrame, 'frame must be a JSON object');
    return;
  }
  const type = (value as { type?: unknown }).type;
  if (type === 'pong') return;
  if (type === 'refresh') {
    // Room clients renew their credentials too: {"type":"refresh","token":"..."} (errors arrive as error frames).
    const token = (value as { token?: unknown }).token;
    if (typeof token === 'string' && token.length > 0)
      hub.authCommand(connection, 'refresh', token, undefined);
    else hub.clientError(connection, ErrorCode.BadRequest, 'refresh needs a token');
    return;
  }
  if (type === 'ping') {
    hub.writeRaw(connection, PONG);
    return;
  }
  const room = connection.room;
  if (room === null) return;
  const publish = (): void => {
    hub.publish(room, value, false).catch((error: unknown) => hub.failed(connection, undefined, error));
  };
  if (hub.authorizer.permissive) {
    publish();
    return;
  }
  hub.authorizer.allows(connection, 'publish', room, value).then(
    (allowed) => {
      if (connection.state !== 'open') return;
      if (allowed) publish();
      else hub.clientError(connection, ErrorCode.PermissionDenied, `not allowed to publish on ${room}`);
    },
    (error: unknown) => hub.failed(connection, undefined, error),
  );
}
