/** Dispatch of protocol v1 commands (the multiplexed `/ws` endpoint). */
import { DEFAULT_HISTORY_LIMIT, ErrorCode } from '@switchboard/protocol';
import type { ClientCommand, DecodeResult, StreamPosition } from '@switchboard/protocol';
import type { CommandContext } from './command-context.js';
import type { Connection } from './connection.js';
import { renderHistoryReply, renderSubscribeReply } from './outbound.js';

/**
 * `send` commands one connection may have waiting on the application's hook at once: a slow or stuck hook
 * must not let one client pile up unbounded work. Past it, `rate_limited` (temporary).
 */
export const MAX_PENDING_SENDS = 32;

/** Handle one frame from a v1 connection, as its codec (JSON or MessagePack) decoded it. */
export function handleV1Frame(ctx: CommandContext, connection: Connection, decoded: DecodeResult): void {
  if (!decoded.ok) {
    ctx.error(connection, decoded.error.code, decoded.error.message, decoded.id);
    return;
  }
  dispatch(ctx, connection, decoded.command);
}

/**
 * The `subscribe` command: join (recovering from `since` when given), reply, then let live messages
 * through. Reply and release happen in one synchronous step, so nothing live can slip in between.
 */
function subscribe(
  ctx: CommandContext,
  connection: Connection,
  channel: string,
  since: StreamPosition | undefined,
  id: number | undefined,
): Promise<void> {
  return ctx.join(connection, channel, since).then((outcome) => {
    if (!outcome.ok) {
      ctx.error(connection, outcome.code, outcome.message, id);
      return;
    }
    const joined = outcome.value;
    if (id !== undefined) ctx.writeText(connection, renderSubscribeReply(id, joined));
    else ctx.writeMissed(connection, channel, joined.missed, joined.position.epoch);
    ctx.release(connection, channel, joined.position, joined.hold);
  });
}

/**
 * Run one decoded command. Commands that answer later are tracked (`ctx.track`) from here until their
 * answer is written, so that a rate-limit close admitted after them waits for their answers.
 */
function dispatch(ctx: CommandContext, connection: Connection, command: ClientCommand): void {
  const id = command.id;
  switch (command.type) {
    case 'pong':
      return;
    case 'ping':
      if (id !== undefined) ctx.reply(connection, id, {});
      return;
    case 'subscribe':
      ctx.track(
        connection,
        ctx.authorized(connection, 'subscribe', command.channel, id, () =>
          subscribe(ctx, connection, command.channel, command.since, id),
        ),
      );
      return;
    case 'unsubscribe':
      ctx.answer(connection, id, ctx.unsubscribe(connection, command.channel));
      return;
    case 'publish': {
      const exclude = command.excludeSelf === true ? { connectionId: connection.id } : undefined;
      const publish = (): Promise<void> =>
        ctx.publish(command.channel, command.data, command.ephemeral === true, exclude).then(
          (publication) =>
            ctx.answer(connection, id, {
              ok: true,
              value: publication.id === undefined ? {} : { id: publication.id },
            }),
          (error: unknown) => ctx.failed(connection, id, error),
        );
      ctx.track(
        connection,
        ctx.authorized(connection, 'publish', command.channel, id, publish, command.data),
      );
      return;
    }
    case 'send':
      if (connection.pendingSends >= MAX_PENDING_SENDS) {
        ctx.error(
          connection,
          ErrorCode.RateLimited,
          `at most ${MAX_PENDING_SENDS} send commands in flight`,
          id,
        );
        return;
      }
      connection.pendingSends++;
      ctx.track(
        connection,
        ctx.message(connection, command.data).then((outcome) => {
          connection.pendingSends--;
          ctx.answer(connection, id, outcome);
        }),
      );
      return;
    case 'history': {
      const { channel, since } = command;
      ctx.track(
        connection,
        ctx.authorized(connection, 'history', channel, id, () =>
          ctx.history(channel, since, command.limit ?? DEFAULT_HISTORY_LIMIT).then(
            (page) => {
              if (id !== undefined) ctx.writeText(connection, renderHistoryReply(id, channel, page));
            },
            (error: unknown) => ctx.failed(connection, id, error),
          ),
        ),
      );
      return;
    }
    case 'presence': {
      const channel = command.channel;
      ctx.track(
        connection,
        ctx.authorized(connection, 'presence', channel, id, () =>
          ctx.presence(channel).then(
            (outcome) =>
              ctx.answer(
                connection,
                id,
                outcome.ok ? { ok: true, value: { channel, users: outcome.value } } : outcome,
              ),
            (error: unknown) => ctx.failed(connection, id, error),
          ),
        ),
      );
      return;
    }
    case 'inbox':
    case 'ack':
    case 'nack':
    case 'consume':
    case 'cancel':
      ctx.track(connection, ctx.guaranteed(connection, command));
      return;
    case 'auth':
    case 'refresh':
      ctx.track(connection, ctx.credentials(connection, command.type, command.token, id));
      return;
    case 'presence_stats': {
      const channel = command.channel;
      ctx.track(
        connection,
        ctx.authorized(connection, 'presence', channel, id, () =>
          ctx.presenceStats(channel).then(
            (outcome) =>
              ctx.answer(
                connection,
                id,
                outcome.ok ? { ok: true, value: { channel, ...outcome.value } } : outcome,
              ),
            (error: unknown) => ctx.failed(connection, id, error),
          ),
        ),
      );
      return;
    }
  }
}
