/**
 * A channel's detail: members and stream position, presence, the last messages, and the publish action
 * (a JSON editor checked before anything is sent).
 */
import { arrayOf, numberOf, objectOf, stringOf } from './context.js';
import type { ViewContext } from './context.js';
import { confirmAction } from './confirm.js';
import { card, h, name, numCell, row, table } from './dom.js';
import {
  NONE,
  formatAgo,
  formatClock,
  formatCount,
  formatDateTime,
  formatJson,
  formatJsonCompact,
} from './format.js';
import { checkJson } from './json-input.js';
import { userLink } from './overview-tables.js';
import { chip, pageHead } from './page-head.js';

const SAMPLE = '{\n  "type": "admin-test",\n  "text": "Hello from the Switchboard dashboard"\n}';

/** The publish card: editor, live check, and the button that opens the confirmation. */
function publishCard(ctx: ViewContext, channel: string): HTMLElement {
  const editor = h('textarea', {
    id: 'publish-data',
    class: 'editor mono',
    attrs: { rows: '8', spellcheck: 'false', 'aria-label': 'Message data (JSON)', autocomplete: 'off' },
  });
  editor.value = SAMPLE;
  const check = h('p', { id: 'publish-check', class: 'editor-check', attrs: { 'aria-live': 'polite' } });
  const button = h(
    'button',
    { class: 'btn btn-primary', id: 'publish-button', attrs: { type: 'button' } },
    'Publish…',
  );
  const validate = (): ReturnType<typeof checkJson> => {
    const result = checkJson(editor.value);
    check.textContent = result.ok ? `Valid JSON · ${formatCount(result.bytes)} bytes` : result.message;
    check.dataset['valid'] = String(result.ok);
    button.disabled = !result.ok;
    return result;
  };
  editor.addEventListener('input', validate);
  validate();
  button.addEventListener('click', () => {
    const result = validate();
    if (!result.ok) return;
    void confirmAction({
      title: 'Publish a test message',
      tone: 'primary',
      confirmLabel: 'Publish',
      body: [
        h('p', null, 'Publish this message to ', name(channel), '?'),
        h(
          'p',
          { class: 'muted' },
          'Every subscriber of the channel, on every node, receives it now, and it is stored in the ' +
            'channel’s history when the channel keeps one. A published message cannot be taken back.',
        ),
        h('pre', { class: 'code-block' }, formatJson(result.value, 2000)),
      ],
      run: async () => {
        const answer = await ctx.api.post<{ ok: boolean; offset?: number }>(
          `channels/${encodeURIComponent(channel)}/publish`,
          { data: result.value },
        );
        ctx.refresh();
        return typeof answer.offset === 'number'
          ? `Published to ${channel} at offset ${answer.offset}.`
          : `Published to ${channel}.`;
      },
    });
  });
  return card(
    'Publish a test message',
    [
      h('label', { class: 'field-label', attrs: { for: 'publish-data' } }, 'Data (JSON)'),
      editor,
      check,
      h('div', { class: 'form-actions' }, button),
    ],
    { class: 'publish-card', subtitle: 'Sent as the admin, like POST /api/publish' },
  );
}

/** The last messages, newest first. */
function historyList(history: unknown[]): HTMLElement {
  if (history.length === 0)
    return h(
      'p',
      { class: 'empty-note' },
      'No message in the history (the channel keeps none, or none was published).',
    );
  return h(
    'ol',
    { class: 'messages', id: 'channel-messages' },
    ...[...history].reverse().map((entry) => {
      const m = objectOf(entry);
      const offset = numberOf(m['offset']) ?? numberOf(m['id']);
      const time = numberOf(m['time']);
      return h(
        'li',
        { class: 'message' },
        h('span', { class: 'mono offset' }, offset === null ? NONE : `#${offset}`),
        h('time', { class: 'message-time', title: formatDateTime(time) }, formatClock(time)),
        h('pre', { class: 'message-data' }, formatJsonCompact(m['data'], 120, 1500)),
      );
    }),
  );
}

/** Who is present. */
function presenceTable(presence: unknown[]): HTMLTableElement {
  return table(
    ['User', { label: 'Connections', class: 'num' }, 'Info'],
    presence.map((entry) => {
      const p = objectOf(entry);
      const userId = typeof p['userId'] === 'string' ? p['userId'] : null;
      return row(
        h(
          'td',
          { class: 'truncate' },
          userId === null ? h('span', { class: 'muted' }, 'anonymous') : userLink(userId),
        ),
        numCell(formatCount(numberOf(p['connections']))),
        h('td', { class: 'truncate mono small' }, p['info'] === undefined ? NONE : JSON.stringify(p['info'])),
      );
    }),
    'Nobody is present.',
    'presence-table',
  );
}

/** The channel's `info` fields. */
function infoList(info: Record<string, unknown>): HTMLElement {
  const entries = Object.entries(info).filter(([key]) => key !== 'channel');
  if (entries.length === 0) return h('p', { class: 'empty-note' }, 'No information.');
  return h(
    'dl',
    { class: 'kv-list' },
    ...entries.flatMap(([key, value]) => [
      h('dt', null, key),
      h('dd', { class: 'mono' }, typeof value === 'string' ? value : JSON.stringify(value)),
    ]),
  );
}

/** Load and build the channel view. */
export async function channelView(ctx: ViewContext, channel: string): Promise<HTMLElement> {
  const detail = objectOf(await ctx.api.get<unknown>(`channels/${encodeURIComponent(channel)}`));
  const shown = stringOf(detail['channel'], channel);
  const info = objectOf(detail['info']);
  const presence = detail['presence'] === null ? null : arrayOf(detail['presence']);
  const history = arrayOf(detail['history']);
  const members = numberOf(info['members']);
  const offset = numberOf(info['offset']);
  const lastTime = numberOf(objectOf(history[history.length - 1])['time']);
  return h(
    'div',
    { class: 'detail channel-detail', data: { channel: shown } },
    pageHead({
      kind: 'Channel',
      title: shown,
      chips: [
        chip('members here', formatCount(members)),
        chip('offset', offset === null ? NONE : String(offset)),
        presence === null ? null : chip('present', formatCount(presence.length)),
        lastTime === null ? null : chip('last message', formatAgo(lastTime, Date.now())),
      ],
      onRefresh: ctx.refresh,
    }),
    h(
      'div',
      { class: 'detail-grid' },
      h(
        'div',
        { class: 'detail-main' },
        card('Recent messages', historyList(history), {
          subtitle: 'The last 20 of the history, newest first',
        }),
      ),
      h(
        'div',
        { class: 'detail-side' },
        publishCard(ctx, shown),
        card(
          'Presence',
          presence === null
            ? h('p', { class: 'empty-note' }, 'Presence is off for this channel.')
            : h('div', { class: 'table-wrap' }, presenceTable(presence)),
          { subtitle: 'Every node' },
        ),
        card('Channel', infoList(info)),
      ),
    ),
  );
}
