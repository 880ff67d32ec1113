/**
 * A user's detail: every connection on every node (transport, address, user agent, channels), the
 * dead letters, and the actions on them: disconnect the user, disconnect one connection, redeliver a
 * dead letter.
 */
import { arrayOf, numberOf, objectOf, stringOf } from './context.js';
import type { ViewContext } from './context.js';
import { confirmAction } from './confirm.js';
import { card, h, name, numCell, row, table } from './dom.js';
import { NONE, formatAgo, formatCount, formatDateTime, formatJsonCompact, plural } from './format.js';
import { channelLink } from './overview-tables.js';
import { chip, pageHead } from './page-head.js';

/** The close reason field of a disconnect dialog (optional, at most 123 bytes: a close frame's limit). */
function reasonField(): { field: HTMLElement; value: () => string | undefined } {
  const input = h('input', {
    id: 'disconnect-reason',
    class: 'input',
    attrs: {
      type: 'text',
      maxlength: '123',
      placeholder: 'disconnected by an administrator',
      autocomplete: 'off',
    },
  });
  return {
    field: h(
      'label',
      { class: 'field' },
      h('span', { class: 'field-label' }, 'Close reason (optional)'),
      input,
    ),
    value: () => (input.value.trim() === '' ? undefined : input.value.trim()),
  };
}

const KICKED =
  'Each connection is closed with code 4502 (kicked): Switchboard clients do not reconnect by themselves ' +
  'after it, so the user stays offline until their application connects again. Guaranteed messages stay in ' +
  'their inbox; anything else in flight to these connections is lost.';

function disconnectUser(ctx: ViewContext, userId: string, connections: number): void {
  const reason = reasonField();
  void confirmAction({
    title: 'Disconnect a user',
    tone: 'danger',
    confirmLabel: 'Disconnect user',
    body: [
      h(
        'p',
        null,
        'Close ',
        connections === 1 ? 'the one connection' : `all ${formatCount(connections)} connections`,
        ' of user ',
        name(userId),
        ', on every node?',
      ),
      h('p', { class: 'muted' }, KICKED),
      reason.field,
    ],
    run: async () => {
      const why = reason.value();
      await ctx.api.post(
        `users/${encodeURIComponent(userId)}/disconnect`,
        why === undefined ? {} : { reason: why },
      );
      ctx.refresh();
      return `Disconnected user ${userId}.`;
    },
  });
}

function disconnectConnection(ctx: ViewContext, userId: string, id: string, nodeId: string): void {
  const reason = reasonField();
  void confirmAction({
    title: 'Disconnect a connection',
    tone: 'danger',
    confirmLabel: 'Disconnect',
    body: [
      h('p', null, 'Close connection ', name(id), ' of user ', name(userId), ' on node ', name(nodeId), '?'),
      h(
        'p',
        { class: 'muted' },
        KICKED.replace('Each connection is', 'It is').replace('these connections', 'it'),
      ),
      reason.field,
    ],
    run: async () => {
      const why = reason.value();
      await ctx.api.post(
        `connections/${encodeURIComponent(id)}/disconnect`,
        why === undefined ? {} : { reason: why },
      );
      ctx.refresh();
      return `Disconnected connection ${id}.`;
    },
  });
}

function redeliver(ctx: ViewContext, userId: string, id: string): void {
  void confirmAction({
    title: 'Redeliver a dead letter',
    tone: 'primary',
    confirmLabel: 'Redeliver',
    body: [
      h('p', null, 'Put dead letter ', name(id), ' back in the inbox of user ', name(userId), '?'),
      h(
        'p',
        { class: 'muted' },
        'It leaves the dead letters and goes back at the end of the user’s inbox as a new message (a new ' +
          'id, attempts counted from zero), delivered to the user’s devices like any inbox message. A full ' +
          'inbox refuses it (507 inbox_full) and it stays a dead letter.',
      ),
    ],
    run: async () => {
      await ctx.api.post(
        `users/${encodeURIComponent(userId)}/dead-letters/${encodeURIComponent(id)}/redeliver`,
      );
      ctx.refresh();
      return `Dead letter ${id} redelivered to ${userId}.`;
    },
  });
}

function connectionsTable(ctx: ViewContext, userId: string, connections: unknown[]): HTMLTableElement {
  const now = Date.now();
  // A column only when some node reports user agents (the server may not record them).
  const agents = connections.some((c) => typeof objectOf(c)['userAgent'] === 'string');
  return table(
    [
      'Connection',
      'Node',
      'Transport',
      'Address',
      ...(agents ? ['User agent'] : []),
      'Connected',
      'Channels',
      '',
    ],
    connections.map((entry) => {
      const c = objectOf(entry);
      const id = stringOf(c['id']);
      const nodeId = stringOf(c['nodeId'], NONE);
      const agent = stringOf(c['userAgent'], NONE);
      const at = numberOf(c['connectedAt']);
      const channels = arrayOf(c['channels']).filter((x): x is string => typeof x === 'string');
      const button = h(
        'button',
        {
          class: 'btn btn-small btn-danger-ghost',
          attrs: { type: 'button' },
          data: { action: 'disconnect-connection' },
        },
        'Disconnect…',
      );
      button.addEventListener('click', () => disconnectConnection(ctx, userId, id, nodeId));
      const tr = row(
        h('td', { class: 'truncate cell-id' }, name(id)),
        h('td', { class: 'truncate cell-node' }, name(nodeId)),
        h(
          'td',
          { class: 'cell-transport' },
          h('span', { class: 'pill pill-muted' }, stringOf(c['transport'], NONE)),
        ),
        h('td', { class: 'mono nowrap cell-address' }, stringOf(c['address'], NONE)),
        agents ? h('td', { class: 'truncate agent cell-agent', title: agent }, agent) : null,
        h('td', { class: 'nowrap cell-connected', title: formatDateTime(at) }, formatAgo(at, now)),
        h(
          'td',
          { class: 'cell-channels' },
          h(
            'div',
            { class: 'channel-chips' },
            channels.length === 0 ? h('span', { class: 'muted' }, 'none') : null,
            ...channels.slice(0, 8).map((channel) => channelLink(channel)),
            channels.length > 8 ? h('span', { class: 'muted' }, `+${channels.length - 8} more`) : null,
          ),
        ),
        h('td', { class: 'row-actions' }, button),
      );
      tr.dataset['connectionId'] = id;
      return tr;
    }),
    'No connection: the user is offline.',
    'connections-table',
  );
}

function deadLettersTable(ctx: ViewContext, userId: string, letters: unknown[]): HTMLTableElement {
  return table(
    ['Id', 'Reason', { label: 'Attempts', class: 'num' }, 'Dead since', 'Data', ''],
    letters.map((entry) => {
      const d = objectOf(entry);
      const id = stringOf(d['id'], String(d['id'] ?? ''));
      const button = h(
        'button',
        { class: 'btn btn-small', attrs: { type: 'button' }, data: { action: 'redeliver' } },
        'Redeliver…',
      );
      button.addEventListener('click', () => redeliver(ctx, userId, id));
      const tr = row(
        h('td', { class: 'truncate' }, name(id)),
        stringOf(d['reason'], NONE),
        numCell(formatCount(numberOf(d['attempts']))),
        h(
          'td',
          { class: 'nowrap' },
          h('div', null, formatDateTime(numberOf(d['deadAt']) ?? numberOf(d['time']))),
          numberOf(d['time']) === null
            ? null
            : h('div', { class: 'sub' }, `sent ${formatDateTime(numberOf(d['time']))}`),
        ),
        h(
          'td',
          { class: 'data-cell' },
          h('pre', { class: 'code-block small' }, formatJsonCompact(d['data'], 80, 600)),
        ),
        h('td', { class: 'row-actions' }, button),
      );
      tr.dataset['deadLetterId'] = id;
      return tr;
    }),
    'No dead letters.',
    'dead-letters-table',
  );
}

/** Load and build the user view. */
export async function userView(ctx: ViewContext, userId: string): Promise<HTMLElement> {
  const detail = objectOf(await ctx.api.get<unknown>(`users/${encodeURIComponent(userId)}`));
  const shown = stringOf(detail['userId'], userId);
  const connections = arrayOf(detail['connections']);
  const letters = detail['deadLetters'] === null ? null : arrayOf(detail['deadLetters']);
  const nodes = new Set(connections.map((c) => stringOf(objectOf(c)['nodeId'])));
  const disconnect = h(
    'button',
    { class: 'btn btn-danger', id: 'disconnect-user', attrs: { type: 'button' } },
    'Disconnect user…',
  );
  disconnect.disabled = connections.length === 0;
  disconnect.addEventListener('click', () => disconnectUser(ctx, shown, connections.length));
  return h(
    'div',
    { class: 'detail user-detail', data: { userId: shown } },
    pageHead({
      kind: 'User',
      title: shown,
      chips: [
        chip('connections', formatCount(connections.length)),
        chip('nodes', formatCount(nodes.size)),
        letters === null ? null : chip('dead letters', formatCount(letters.length)),
      ],
      actions: [disconnect],
      onRefresh: ctx.refresh,
    }),
    detail['partial'] === true
      ? h(
          'p',
          { class: 'notice notice-warn', attrs: { role: 'status' } },
          'A node did not answer in time: this list may be incomplete.',
        )
      : null,
    card('Connections', h('div', { class: 'table-wrap' }, connectionsTable(ctx, shown, connections)), {
      subtitle: `${plural(connections.length, 'connection')} on ${plural(nodes.size, 'node')}`,
    }),
    card(
      'Dead letters',
      letters === null
        ? h('p', { class: 'empty-note' }, 'This server keeps no dead letters (guaranteed delivery is off).')
        : h('div', { class: 'table-wrap' }, deadLettersTable(ctx, shown, letters)),
      { subtitle: 'Guaranteed messages that ran out of attempts' },
    ),
  );
}
