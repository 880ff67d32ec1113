/** The overview's tables: nodes, close codes, top channels, recent errors, Redis and history reads. */
import { closeCodeName, closeCodeReconnects } from './close-codes.js';
import { h, name, numCell, pill, row, table } from './dom.js';
import {
  NONE,
  formatAgo,
  formatBytes,
  formatClock,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
} from './format.js';
import { pacingFields } from './history-reads.js';
import { formatRoute } from './route.js';
import type { NodeError } from './series.js';
import type { Snapshot, TopChannel } from './snapshot.js';
import type { NodeView } from './timeline.js';

/** A cell with a main line and a muted second line. */
function stacked(main: Node | string, sub: string | Node | null, className = ''): HTMLTableCellElement {
  return h(
    'td',
    { class: className },
    h('div', null, main),
    sub === null || sub === '' ? null : h('div', { class: 'sub' }, sub),
  );
}

const STATE_TONES: Readonly<Record<string, 'ok' | 'warn' | 'bad'>> = {
  running: 'ok',
  draining: 'warn',
  stopping: 'bad',
};

const SHORT_TRANSPORTS: Readonly<Record<string, string>> = { websocket: 'ws', sse: 'sse', polling: 'poll' };

/** `ws 12k · sse 80 · poll 40`, without the transports nobody uses. */
export function transportLine(counts: Iterable<[string, number]>): string {
  return [...counts]
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${SHORT_TRANSPORTS[t] ?? t} ${formatCount(n)}`)
    .join(' · ');
}

function redisCell(s: Snapshot): HTMLTableCellElement {
  if (s.redis === null) return stacked(h('span', { class: 'muted' }, 'memory engine'), null);
  if (s.redis.ready)
    return stacked(
      pill('ok', 'ok'),
      s.redis.probeRttMs === null ? null : `probe ${formatMs(s.redis.probeRttMs)}`,
    );
  return stacked(pill('down', 'bad'), s.redis.reason ?? 'not ready', 'reason');
}

/** The nodes table; `self` is the node that serves this page. */
export function nodesTable(nodes: readonly NodeView[], self: string, now: number): HTMLTableElement {
  const rows = nodes.map(({ snapshot: s, stale, receivedAt }) => {
    const tr = row(
      stacked(
        h('span', { class: 'node-id' }, name(s.nodeId), s.nodeId === self ? pill('this page', 'info') : null),
        s.startedAt === null ? null : `up ${formatDuration(s.time - s.startedAt)}`,
      ),
      h('td', null, pill(s.state, STATE_TONES[s.state] ?? 'muted')),
      stacked(
        s.ready ? pill('ready', 'ok') : pill('not ready', 'bad'),
        s.ready ? null : s.readyReason,
        'reason',
      ),
      stacked(
        s.health.status === 'ok' ? pill('ok', 'ok') : pill(s.health.status, 'warn'),
        s.health.reasons.length > 0 ? s.health.reasons.join('; ') : null,
        'reason',
      ),
      stacked(formatCount(s.connections), transportLine(Object.entries(s.transports)), 'num'),
      numCell(formatCount(s.users)),
      stacked(
        formatMs(s.eventLoopDelayMs.p99),
        s.eventLoopDelayMs.max === null ? null : `max ${formatMs(s.eventLoopDelayMs.max)}`,
        'num',
      ),
      stacked(
        formatBytes(s.memory.rssBytes),
        s.memory.heapUsedBytes === null ? null : `heap ${formatBytes(s.memory.heapUsedBytes)}`,
        'num',
      ),
      numCell(formatPercent(s.cpuPercent)),
      redisCell(s),
      stale
        ? h('td', null, pill(`silent ${formatDuration(now - receivedAt)}`, 'warn'))
        : h('td', { class: 'muted nowrap' }, formatAgo(receivedAt, now)),
    );
    tr.dataset['nodeId'] = s.nodeId;
    if (stale) tr.classList.add('stale');
    return tr;
  });
  return table(
    [
      'Node',
      'State',
      'Ready',
      'Health',
      { label: 'Connections', class: 'num' },
      { label: 'Users', class: 'num' },
      { label: 'Loop p99', class: 'num' },
      { label: 'Memory', class: 'num' },
      { label: 'CPU', class: 'num' },
      'Redis',
      'Last report',
    ],
    rows,
    'No node has reported yet.',
    'nodes-table',
  );
}

/** Close codes since each node started, summed. */
export function closeCodesTable(codes: readonly { code: string; count: number }[]): HTMLTableElement {
  return table(
    ['Code', 'Meaning', 'Client reconnects', { label: 'Count', class: 'num' }],
    codes.map(({ code, count }) =>
      row(
        h('span', { class: 'mono' }, code),
        closeCodeName(code),
        h('span', { class: 'muted' }, closeCodeReconnects(code) ? 'yes' : 'no'),
        numCell(formatCount(count)),
      ),
    ),
    'No connection has closed yet.',
    'close-codes-table',
  );
}

/** A link to a channel's detail view. */
export function channelLink(channel: string): HTMLAnchorElement {
  return h('a', { class: 'link', attrs: { href: formatRoute({ view: 'channel', channel }) } }, name(channel));
}

/** A link to a user's detail view. */
export function userLink(userId: string): HTMLAnchorElement {
  return h('a', { class: 'link', attrs: { href: formatRoute({ view: 'user', userId }) } }, name(userId));
}

/** The busiest channels. */
export function topChannelsTable(channels: readonly TopChannel[]): HTMLTableElement {
  return table(
    [
      'Channel',
      { label: 'Members', class: 'num' },
      { label: 'In', class: 'num' },
      { label: 'Out', class: 'num' },
    ],
    channels.map((c) =>
      row(
        h('td', { class: 'truncate' }, channelLink(c.name)),
        numCell(formatCount(c.members)),
        numCell(formatRate(c.inPerSec)),
        numCell(formatRate(c.outPerSec)),
      ),
    ),
    'No channel has traffic.',
    'top-channels-table',
  );
}

/** The newest errors of every node. */
export function recentErrorsTable(errors: readonly NodeError[]): HTMLTableElement {
  return table(
    ['Time', 'Node', 'Code', 'Message'],
    errors.map((e) =>
      row(
        h('td', { class: 'mono nowrap' }, formatClock(e.time)),
        h('td', { class: 'truncate' }, name(e.nodeId)),
        h('td', null, h('span', { class: 'mono code' }, e.code)),
        h('td', { class: 'message' }, e.message ?? NONE),
      ),
    ),
    'No errors recorded recently.',
    'errors-table',
  );
}

/** Redis health and history-read pacing, per node. */
export function redisTable(nodes: readonly NodeView[]): HTMLTableElement {
  return table(
    ['Node', 'Redis', { label: 'Probe RTT', class: 'num' }, 'History reads'],
    nodes.map(({ snapshot: s }) => {
      const reads = s.historyReads;
      const pacing =
        reads === null
          ? h('span', { class: 'muted' }, 'not paced')
          : h(
              'span',
              { class: 'kv-inline' },
              ...pacingFields(reads).map(([key, value]) =>
                h('span', { class: 'kv' }, h('span', { class: 'k' }, key), h('span', { class: 'v' }, value)),
              ),
            );
      return row(
        h('td', { class: 'truncate' }, name(s.nodeId)),
        s.redis === null
          ? h('span', { class: 'muted' }, 'memory engine')
          : s.redis.ready
            ? pill('ready', 'ok')
            : h('span', null, pill('down', 'bad'), ' ', s.redis.reason ?? ''),
        numCell(formatMs(s.redis?.probeRttMs ?? null)),
        h('td', null, pacing),
      );
    }),
    'No node has reported yet.',
    'redis-table',
  );
}
