/**
 * The signed-in page: the header (cluster status, node count, live indicator), the views behind the URL
 * fragment, and the data flow: the overview's history backfills the timeline, then snapshots from
 * `$admin:nodes` keep it current, and the overview redraws at most once per animation frame.
 */
import { ApiError, describeError } from './api.js';
import type { AdminApi, Session } from './api.js';
import { channelView } from './channel-view.js';
import type { ViewContext } from './context.js';
import { byId, h, name, replace } from './dom.js';
import { plural } from './format.js';
import { LiveFeed } from './live.js';
import type { LiveStatus } from './live.js';
import { Overview } from './overview.js';
import { formatRoute, parseRoute } from './route.js';
import type { Route } from './route.js';
import { searchView } from './search-view.js';
import { parseSnapshots } from './snapshot.js';
import type { Snapshot } from './snapshot.js';
import { summarize } from './series.js';
import { Timeline } from './timeline.js';
import { userView } from './user-view.js';

const LIVE_TEXT: Readonly<Record<LiveStatus, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The signed-in page; `stop()` when signing out. */
export class Dashboard {
  private readonly timeline = new Timeline();
  private readonly overview: Overview;
  private feed: LiveFeed | null = null;
  private frame = 0;
  private readonly ticker: ReturnType<typeof setInterval>;
  private route: Route = { view: 'overview' };
  /** Bumped on every navigation: a slow answer for a view already left is dropped. */
  private generation = 0;
  private readonly onHash = (): void => this.navigate();
  private readonly scheme = matchMedia('(prefers-color-scheme: dark)');
  private readonly onScheme = (): void => this.overview.restyle();
  private stopped = false;

  constructor(
    private readonly api: AdminApi,
    private readonly session: Session,
    /** Called when the session ends under the page (the live feed's token request answered 401). */
    private readonly signedOut: () => void,
  ) {
    this.overview = new Overview(session.nodeId);
    byId('session-node').replaceChildren('via ', name(session.nodeId));
    addEventListener('hashchange', this.onHash);
    this.scheme.addEventListener('change', this.onScheme);
    // Once a second: "last report" ages, silent nodes turn stale, long-gone ones are forgotten.
    this.ticker = setInterval(() => this.schedule(), 1000);
  }

  /** How long without a snapshot before a node is shown as silent: three intervals. */
  private get staleAfterMs(): number {
    return Math.max(3 * this.session.intervalMs, 5000);
  }

  /** Backfill, connect the live feed, and show the view in the URL. */
  async start(): Promise<void> {
    this.setLive('connecting', '');
    this.navigate();
    try {
      const overview = await this.api.get<{ nodes?: unknown; history?: unknown }>('overview');
      const now = Date.now();
      // This node's history first: the other nodes' latest snapshots are newer than most of it.
      this.timeline.addAll(parseSnapshots(overview.history), now);
      this.timeline.addAll(parseSnapshots(overview.nodes), now);
    } catch (error) {
      if (this.stopped || (error instanceof ApiError && error.status === 401)) return;
      this.banner(`Could not load the overview: ${describeError(error)}`);
    }
    if (this.stopped) return;
    this.schedule();
    this.feed = new LiveFeed(this.api, this.api.root, this.session.channel, {
      snapshot: (snapshot) => this.onSnapshot(snapshot),
      status: (status, detail) => this.setLive(status, detail),
      signedOut: () => this.signedOut(),
    });
  }

  private onSnapshot(snapshot: Snapshot): void {
    if (this.timeline.add(snapshot, Date.now())) this.schedule();
  }

  /** Redraw the header and the overview on the next frame (once, however many snapshots came). */
  private schedule(): void {
    if (this.frame !== 0 || this.stopped) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const now = Date.now();
    this.timeline.prune(now, 10 * this.staleAfterMs);
    const nodes = this.timeline.latest(now, this.staleAfterMs);
    const live = nodes.filter((n) => !n.stale).map((n) => n.snapshot);
    const sum = summarize(live);
    const status = byId('cluster-status');
    const [text, tone] =
      nodes.length === 0
        ? ['No data', 'muted']
        : sum.degraded > 0 || sum.notReady > 0 || live.length < nodes.length
          ? ['Degraded', 'warn']
          : ['Healthy', 'ok'];
    status.textContent = text;
    status.className = `pill pill-${tone}`;
    byId('node-count').textContent = plural(live.length, 'node');
    if (this.route.view === 'overview')
      this.overview.update(this.timeline, nodes, this.session.intervalMs, now);
  }

  private setLive(status: LiveStatus, detail: string): void {
    const indicator = byId('live');
    indicator.dataset['status'] = status;
    indicator.title = detail === '' ? LIVE_TEXT[status] : `${LIVE_TEXT[status]} (${detail})`;
    byId('live-text').textContent = LIVE_TEXT[status];
  }

  private banner(text: string | null): void {
    const banner = byId('banner');
    banner.hidden = text === null;
    banner.textContent = text ?? '';
  }

  /** Show the view the URL fragment names. */
  private navigate(): void {
    if (this.stopped) return;
    this.route = parseRoute(location.hash);
    const generation = ++this.generation;
    const view = byId('view');
    const search = byId<HTMLInputElement>('search-input');
    document.querySelectorAll('[data-nav]').forEach((link) => {
      link.toggleAttribute('aria-current', (link as HTMLElement).dataset['nav'] === this.route.view);
    });
    // The search box shows the query of the search view, and empties on every other view.
    if (this.route.view !== 'search') search.value = '';
    if (this.route.view === 'overview') {
      document.title = 'Overview · Switchboard admin';
      replace(view, this.overview.element);
      this.render();
      return;
    }
    const route = this.route;
    if (route.view === 'search' && search.value !== route.query) search.value = route.query;
    const title =
      route.view === 'search' ? route.query : route.view === 'channel' ? route.channel : route.userId;
    document.title = `${title} · Switchboard admin`;
    view.dataset['loading'] = 'true';
    const context: ViewContext = { api: this.api, session: this.session, refresh: () => this.navigate() };
    const load =
      route.view === 'search'
        ? searchView(context, route.query)
        : route.view === 'channel'
          ? channelView(context, route.channel)
          : userView(context, route.userId);
    load.then(
      (element) => {
        if (generation !== this.generation) return;
        delete view.dataset['loading'];
        replace(view, element);
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        delete view.dataset['loading'];
        if (error instanceof ApiError && error.status === 401) return; // the sign-in form is showing
        replace(
          view,
          h(
            'div',
            { class: 'detail' },
            h('a', { class: 'link', attrs: { href: formatRoute({ view: 'overview' }) } }, '← Overview'),
            h(
              'div',
              { class: 'notice notice-bad', attrs: { role: 'alert' }, id: 'view-error' },
              describeError(error),
            ),
          ),
        );
      },
    );
  }

  /** Close the feed and stop updating (signing out). */
  stop(): void {
    this.stopped = true;
    this.feed?.stop();
    this.feed = null;
    clearInterval(this.ticker);
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    removeEventListener('hashchange', this.onHash);
    this.scheme.removeEventListener('change', this.onScheme);
    this.timeline.clear();
    this.overview.destroy();
    replace(byId('view'));
    this.banner(null);
  }
}
