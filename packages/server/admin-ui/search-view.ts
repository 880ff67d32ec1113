/** Search results: channels and users whose name contains the query (case-sensitive, as the API). */
import { arrayOf, numberOf, objectOf, stringOf } from './context.js';
import type { ViewContext } from './context.js';
import { card, h, numCell, row, table } from './dom.js';
import { formatCount, plural } from './format.js';
import { channelLink, userLink } from './overview-tables.js';
import { pageHead } from './page-head.js';

/** The most the API answers of each kind. */
const LIMIT = 50;

/** Load and build the results of `query`. */
export async function searchView(ctx: ViewContext, query: string): Promise<HTMLElement> {
  const answer = objectOf(await ctx.api.get<unknown>(`search?q=${encodeURIComponent(query)}`));
  const channels = arrayOf(answer['channels'])
    .map(objectOf)
    .filter((c) => typeof c['name'] === 'string');
  const users = arrayOf(answer['users'])
    .map(objectOf)
    .filter((u) => typeof u['userId'] === 'string');
  const subtitle = (n: number, noun: string): string =>
    n >= LIMIT ? `The first ${LIMIT} ${noun}s` : plural(n, noun);
  return h(
    'div',
    { class: 'detail search-results' },
    pageHead({ kind: 'Search', title: query, onRefresh: ctx.refresh }),
    h(
      'div',
      { class: 'grid-2' },
      card(
        'Channels',
        h(
          'div',
          { class: 'table-wrap' },
          table(
            ['Channel', { label: 'Members', class: 'num' }],
            channels.map((c) =>
              row(
                h('td', { class: 'truncate' }, channelLink(stringOf(c['name']))),
                numCell(formatCount(numberOf(c['members']))),
              ),
            ),
            'No channel name contains this text.',
            'search-channels',
          ),
        ),
        { subtitle: subtitle(channels.length, 'channel') },
      ),
      card(
        'Users',
        h(
          'div',
          { class: 'table-wrap' },
          table(
            ['User', { label: 'Connections', class: 'num' }],
            users.map((u) =>
              row(
                h('td', { class: 'truncate' }, userLink(stringOf(u['userId']))),
                numCell(formatCount(numberOf(u['connections']))),
              ),
            ),
            'No user id contains this text.',
            'search-users',
          ),
        ),
        { subtitle: subtitle(users.length, 'user') },
      ),
    ),
  );
}
