/** Dispatch of protocol v1 commands (the multiplexed `/ws` endpoint). */
import { DEFAULT_HISTORY_LIMIT, ErrorCode, decodeCommand } from '@switchboard/protocol';
import type { ClientCommand } from '@switchboard/protocol';
import { ApplicationError } from '../errors.js';
import type { ChannelOperation } from '../auth/authorizer.js';
import type { Connection } from './connection.js';
import type { Hub, Outcome } from './hub.js';
import { renderHistoryReply } from './outbound.js';

/**
 * `send` commands one connection may have waiting on the application's hook at once: a slow or stuck hook
 * must not let one client pile up unbounded work. Past it, `rate_limited` (temporary).
 */
export const MAX_PENDING_SENDS = 32;

/** Handle one text frame from a v1 connection. */
export function handleV1Frame(hub: Hub, connection: Connection, text: string): void {
  const decoded = decodeCommand(text, { maxChannelLength: hub.settings.maxChannelLength });
  if (!decoded.ok) {
    hub.clientError(connection, decoded.error.code, decoded.error.message, decoded.id);
    return;
  }
  dispatch(hub, connection, decoded.command);
}

function answer<T>(hub: Hub, connection: Connection, id: number | undefined, outcome: Outcome<T>): void {
  if (!outcome.ok) hub.clientError(connection, outcome.code, outcome.message, id);
  else if (id !== undefined) hub.reply(connection, id, outcome.value);
}

/**
 * Run `then` if the connection may perform `operation` on `channel`; otherwise answer
 * `permission_denied`. Open servers (no rules, no hook) skip the check synchronously.
 */
function authorized(
  hub: Hub,
  connection: Connection,
  operation: ChannelOperation,
  channel: string,
  id: number | undefined,
  then: () => void,
  data?: unknown,
): void {
  if (hub.authorizer.permissive) {
    then();
    return;
  }
  hub.authorizer.allows(connection, operation, channel, data).then(
    (allowed) => {
      if (connection.state !== 'open') return;
      if (allowed) then();
      else
        hub.clientError(
          connection,
          ErrorCode.PermissionDenied,
          `not allowed to ${operation} on ${channel}`,
          id,
        );
    },
    (error: unknown) => hub.failed(connection, id, error),
  );
}

function dispatch(hub: Hub, connection: Connection, command: ClientCommand): void {
  const id = command.id;
  switch (command.type) {
    case 'pong':
      return;
    case 'ping':
      if (id !== undefined) hub.reply(connection, id, {});
      return;
    case 'subscribe':
      authorized(hub, connection, 'subscribe', command.channel, id, () =>
        hub.subscribe(connection, command.channel, command.since, id),
      );
      return;
    case 'unsubscribe':
      answer(hub, connection, id, hub.unsubscribe(connection, command.channel));
      return;
    case 'publish': {
      const exclude = command.excludeSelf === true ? { connectionId: connection.id } : undefined;
      const publish = (): void => {
        hub.publish(command.channel, command.data, command.ephemeral === true, exclude).then(
          (publication) =>
            answer(hub, connection, id, {
              ok: true,
              value: publication.id === undefined ? {} : { id: publication.id },
            }),
          (error: unknown) => hub.failed(connection, id, error),
        );
      };
      authorized(hub, connection, 'publish', command.channel, id, publish, command.data);
      return;
    }
    case 'send':
      if (connection.pendingSends >= MAX_PENDING_SENDS) {
        hub.clientError(
          connection,
          ErrorCode.RateLimited,
          `at most ${MAX_PENDING_SENDS} send commands in flight`,
          id,
        );
        return;
      }
      connection.pendingSends++;
      void runMessageHook(hub, connection, command.data).then((outcome) => {
        connection.pendingSends--;
        answer(hub, connection, id, outcome);
      });
      return;
    case 'history': {
      const { channel, since } = command;
      authorized(hub, connection, 'history', channel, id, () =>
        hub.history(channel, since, command.limit ?? DEFAULT_HISTORY_LIMIT).then(
          (page) => {
            if (id !== undefined) hub.writeText(connection, renderHistoryReply(id, channel, page));
          },
          (error: unknown) => hub.failed(connection, id, error),
        ),
      );
      return;
    }
    case 'presence': {
      const channel = command.channel;
      authorized(hub, connection, 'presence', channel, id, () =>
        hub.presenceOf(channel).then(
          (outcome) =>
            answer(
              hub,
              connection,
              id,
              outcome.ok ? { ok: true, value: { channel, users: outcome.value } } : outcome,
            ),
          (error: unknown) => hub.failed(connection, id, error),
        ),
      );
      return;
    }
    case 'auth':
    case 'refresh':
      hub.authCommand(connection, command.type, command.token, id);
      return;
    case 'presence_stats': {
      const channel = command.channel;
      authorized(hub, connection, 'presence', channel, id, () =>
        hub.presenceStats(channel).then(
          (outcome) =>
            answer(
              hub,
              connection,
              id,
              outcome.ok ? { ok: true, value: { channel, ...outcome.value } } : outcome,
            ),
          (error: unknown) => hub.failed(connection, id, error),
        ),
      );
      return;
    }
  }
}

async function runMessageHook(hub: Hub, connection: Connection, data: unknown): Promise<Outcome<unknown>> {
  const hook = hub.hooks.onMessage;
  if (hook === undefined) {
    return { ok: false, code: ErrorCode.NotAvailable, message: 'this server has no message handler' };
  }
  try {
    const result: unknown = await hook(connection, data);
    return { ok: true, value: result === undefined ? null : result };
  } catch (error) {
    if (error instanceof ApplicationError)
      return { ok: false, code: ErrorCode.ApplicationError, message: error.message };
    hub.logger.error({ err: error, connectionId: connection.id }, 'onMessage hook failed');
    return {
      ok: false,
      code: ErrorCode.ApplicationError,
      message: 'the application failed to handle the message',
    };
  }
}
