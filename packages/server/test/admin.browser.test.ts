/**
 * The admin dashboard (`/admin`, docs/admin.md) in a real Chromium against real servers: refused without a
 * session (the API answers 401 and the page shows the sign-in form), sign-in with a wrong then the right
 * password, a throttled sign-in showing its Retry-After, every view, every action behind its confirmation
 * (and Cancel doing nothing), live updates over the SDK, hostile channel and user names shown as text with
 * no script run, and no CSP violation anywhere. Two nodes over Redis: both in the node table, and a user on
 * the other node found and disconnected from this one.
 *
 * Screenshots (test/screenshots/admin-*.png, committed for people to look at) are written only when
 * SWITCHBOARD_SCREENSHOTS=1, so a test run does not rewrite them; the tests check the pixels either way.
 * Needs Debian's Chromium (never downloads a browser); see requirements.ts for what happens without it.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import type { ServerOptions } from '../src/index.js';
import { connectV1, queryUserAuthenticator, startServer } from './helpers.js';
import type { CloseEvent, TestClient, TestServer } from './helpers.js';
import { decodePng } from './png.js';
import { redisPerSuite, redisRequirement } from './redis-harness.js';
import { chromiumPath, requirement } from './requirements.js';
import { FAST_ENGINE, NO_LIMITS, uniquePrefix } from './scale-helpers.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);

const PASSWORD = 'correct horse battery staple';
/** Snapshots every 200 ms: the page has a chart's worth of points in a couple of seconds. */
const ADMIN = { password: PASSWORD, intervalMs: 200 } as const;

/** Written only on request (SWITCHBOARD_SCREENSHOTS=1): committed images stay put on an ordinary run. */
const WRITE_SCREENSHOTS = process.env['SWITCHBOARD_SCREENSHOTS'] === '1';
const SCREENSHOTS = new URL('screenshots/', import.meta.url).pathname;

/** Per-test options: skipped (each counted) without Chromium; generous deadlines for a loaded machine. */
const TEST = { skip: needChromium.skip, timeout: 60_000 };

/** Names someone else chose, which must reach the page as text. Channel names are ASCII by protocol. */
const XSS = '<img src=x onerror="window.__xss=1;alert(1)">';
const HOSTILE_USERS = [
  XSS,
  `"double" 'single' \`back\` <b>bold</b> &amp;`,
  'مرحبا بالعالم 👋 שלום',
  `long-${'é'.repeat(40)}-${'x'.repeat(200)}`,
];
const HOSTILE_CHANNELS = ['room:a/b#c=d$e!f~g,h@i+j', `room:${'z'.repeat(123)}`];

/**
 * What Chromium logs for the refusals and outages the tests cause: the session API asked while signed out
 * (401), a throttled sign-in (429), an oversized publish (413), a bad channel name (400), and the attempts
 * of a page taken offline.
 */
const EXPECTED_CONSOLE = [
  /^Failed to load resource: the server responded with a status of (400|401|413|429) /,
  /^Failed to load resource: net::ERR_INTERNET_DISCONNECTED/,
  /^WebSocket connection to .* failed/,
];

describe('admin dashboard', () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Page errors, console errors, CSP refusals and any dialog from every page: the last test wants none. */
  const problems: string[] = [];

  before(async () => {
    if (needChromium.skip !== false) return;
    needChromium.assert();
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: executablePath ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  after(async () => {
    await closePages();
    await browser?.close();
  });

  /** Close every page so far: before a suite stops its servers, so no page retries against a closed port. */
  async function closePages(): Promise<void> {
    for (const context of contexts.splice(0)) await context.close();
  }

  /** A fresh browser context (its own cookies) at 1440x900; every problem it reports is recorded. */
  async function newPage(name: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`${name}: a ${dialog.type()} opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      const text = message.text();
      if (/content security policy|refused to/i.test(text)) problems.push(`${name}: ${text}`);
      else if (message.type() === 'error' && !EXPECTED_CONSOLE.some((expected) => expected.test(text)))
        problems.push(`${name}: console: ${text}`);
    });
    return page;
  }

  /** A page signed in (through the API, sharing the context's cookies) showing `hash`, live. */
  async function signedIn(t: TestServer, name: string, hash = '#/'): Promise<Page> {
    const page = await newPage(name);
    const login = await page.context().request.post(`${t.httpUrl}/admin/login`, {
      headers: { origin: t.httpUrl },
      data: { password: PASSWORD },
    });
    assert.equal(login.status(), 204);
    await page.goto(`${t.httpUrl}/admin${hash}`);
    await page.locator('#live[data-status="live"]').waitFor();
    return page;
  }

  /** Save `page` as test/screenshots/admin-<name>.png when asked to; returns the PNG either way. */
  async function screenshot(page: Page, name: string): Promise<Buffer> {
    return page.screenshot(WRITE_SCREENSHOTS ? { path: `${SCREENSHOTS}admin-${name}.png` } : {});
  }

  /** The number in the element `selector` matches (its text, or its `attribute`). */
  async function numberIn(page: Page, selector: string, attribute?: string): Promise<number> {
    const element = page.locator(selector);
    return Number(
      attribute === undefined ? await element.textContent() : await element.getAttribute(attribute),
    );
  }

  /**
   * Wait until that number is at least `min`. Polled from here: the page's CSP refuses the string
   * evaluation a waitForFunction predicate would need (no 'unsafe-eval'), rightly.
   */
  async function numberAtLeast(page: Page, selector: string, min: number, attribute?: string): Promise<void> {
    await pollNumber(page, selector, (n) => n >= min, `${selector} >= ${min}`, attribute);
  }

  async function numberAtMost(page: Page, selector: string, max: number): Promise<void> {
    await pollNumber(page, selector, (n) => n <= max, `${selector} <= ${max}`);
  }

  async function pollNumber(
    page: Page,
    selector: string,
    ok: (n: number) => boolean,
    what: string,
    attribute?: string,
  ): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await numberIn(page, selector, attribute);
      if (ok(value)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last ${value})`);
      // Each read is a round trip to the browser; a short pause keeps this from spinning.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Wait until the view `selector` shows the entity `name` (a hash change keeps the previous view until
   * the next one loaded), and check its heading's text is exactly the name.
   */
  async function shown(page: Page, selector: string, name: string): Promise<void> {
    const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    await page.locator(`${selector} .entity-name`).filter({ hasText: exact }).waitFor();
    assert.equal(await text(page, `${selector} .entity-name`), name);
  }

  /** The text of the single element `selector` matches. */
  async function text(page: Page, selector: string): Promise<string> {
    return (await page.locator(selector).textContent()) ?? '';
  }

  describe('one node', () => {
    let t: TestServer;
    const clients: TestClient[] = [];
    /** The dashboards' own connections, in accept order (the admin authenticator marks them). */
    const dashboards: string[] = [];

    before(async () => {
      if (needChromium.skip !== false) return;
      t = await startServer({
        ...NO_LIMITS,
        admin: ADMIN,
        authenticator: queryUserAuthenticator,
        channels: [{ pattern: 'room:*', presence: true }],
        inbox: { sweepMs: 20 },
        onConnect: (connection) => {
          if ((connection.info as { admin?: unknown } | null)?.admin === true) dashboards.push(connection.id);
        },
      });
    });

    // Each test's pages close with it: a dozen live dashboards redrawing every 200 ms would load the machine.
    afterEach(closePages);
    after(async () => {
      await closePages();
      for (const client of clients) client.ws.terminate();
      await t?.stop();
    });

    /** A v1 connection of `user` to `server` sending `headers`, subscribed to `channels`. */
    async function memberOf(
      server: TestServer,
      user: string,
      headers: Record<string, string>,
      ...channels: string[]
    ): Promise<TestClient> {
      const { client } = await connectV1(server, { headers }, `?user=${encodeURIComponent(user)}`);
      clients.push(client);
      let id = 1;
      for (const channel of channels) {
        client.send({ type: 'subscribe', id: ++id, channel });
        const reply = await client.nextOfType<{ error?: unknown }>('reply');
        assert.equal(reply.error, undefined, `${user} subscribes to ${channel}`);
      }
      return client;
    }

    /** A v1 connection of `user` to this suite's server, subscribed to `channels`. */
    const member = (user: string, ...channels: string[]): Promise<TestClient> =>
      memberOf(t, user, {}, ...channels);

    /** Resolves once `id` is among `user`'s dead letters (a 30 ms TTL expires within the 20 ms sweep). */
    async function deadLetter(user: string, id: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!(await t.server.deadLetters(user)).some((letter) => letter.id === id)) {
        if (Date.now() > deadline) throw new Error(`no dead letter ${id} for ${user}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it('refuses the API without a session, and the page shows the sign-in form', TEST, async () => {
      for (const path of ['api/session', 'api/overview', 'api/search?q=a', 'api/users/u']) {
        const response = await fetch(`${t.httpUrl}/admin/${path}`);
        assert.equal(response.status, 401, path);
        const body = (await response.json()) as { error: { code: string } };
        assert.equal(body.error.code, 'unauthorized', path);
      }
      const page = await fetch(`${t.httpUrl}/admin`);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, 'one inline script: the loader');
      assert.match(csp, /style-src 'self'(;|$)/, 'no inline style');
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

      const browserPage = await newPage('signed out');
      await browserPage.goto(`${t.httpUrl}/admin`);
      await browserPage.locator('#signin').waitFor();
      assert.equal(await browserPage.locator('#app').isHidden(), true);
      assert.equal(await browserPage.title(), 'Sign in · Switchboard admin');
      assert.equal(await browserPage.evaluate('document.activeElement?.id'), 'password');
      await screenshot(browserPage, 'signin');
    });

    it('signs in: a wrong password is refused, the right one opens the dashboard', TEST, async () => {
      const page = await newPage('sign-in');
      await page.goto(`${t.httpUrl}/admin/`); // the trailing slash serves the same page
      await page.locator('#password').fill('not the password');
      await page.locator('#signin-button').click();
      await page.locator('#signin-error').getByText('Wrong password.').waitFor();
      assert.equal(await page.locator('#app').isHidden(), true);
      assert.deepEqual(await page.context().cookies(), []);

      await page.locator('#password').fill(PASSWORD);
      await page.locator('#password').press('Enter');
      await page.locator('#live[data-status="live"]').waitFor();
      assert.equal(await page.locator('#signin').isHidden(), true);
      assert.equal(await text(page, '#node-count'), '1 node');
      assert.equal(await page.locator(`.nodes-table tr[data-node-id="${t.server.nodeId}"]`).count(), 1);
      const [cookie] = await page.context().cookies();
      assert.equal(cookie?.name, 'switchboard_admin');
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Strict');
    });

    it('updates itself live: the connection count follows clients, the charts fill', TEST, async () => {
      const page = await signedIn(t, 'live');
      // Read once the page shows its own connection (the backfilled snapshot may predate it).
      await numberAtLeast(page, '#stat-connections', 1);
      const before = await numberIn(page, '#stat-connections');
      const newcomers = await Promise.all([member('ann'), member('ben'), member('cat')]);
      await numberAtLeast(page, '#stat-connections', before + 3);
      const peak = await numberIn(page, '#stat-connections');
      for (const client of newcomers) client.ws.close();
      await numberAtMost(page, '#stat-connections', peak - 3);
      for (const chart of ['connections', 'messages', 'drops', 'latency', 'evictions', 'event-loop']) {
        await page.locator(`[data-chart="${chart}"] .chart-waiting`).waitFor({ state: 'hidden' });
        assert.equal(await page.locator(`[data-chart="${chart}"] canvas`).count(), 1, chart);
      }
    });

    it('shows when its live connection is down, and comes back with a fresh token', TEST, async () => {
      const page = await signedIn(t, 'reconnect');
      const first = dashboards.at(-1);
      assert.ok(first !== undefined, 'the dashboard connected');
      // Offline, the page's attempts fail (its token requests too) until the network is back.
      await page.context().setOffline(true);
      await t.server.disconnectConnection(first, { code: 4002, reason: 'rebalancing' });
      await page.locator('#live[data-status="reconnecting"]').waitFor();
      assert.equal(await text(page, '#live-text'), 'Reconnecting…');
      await page.context().setOffline(false);
      await page.locator('#live[data-status="live"]').waitFor();
      assert.notEqual(dashboards.at(-1), first, 'a new connection, with a new single-use token');
      // And it is fed again: a newcomer shows up in the count.
      await numberAtLeast(page, '#stat-connections', 1);
      const before = await numberIn(page, '#stat-connections');
      await member('reconnect-check');
      await numberAtLeast(page, '#stat-connections', before + 1);
    });

    it('shows the overview with live charts (screenshot at 1440x900)', TEST, async () => {
      // A server of its own, busy from its start, so the backfilled history is all traffic.
      const scene = await startServer({
        ...NO_LIMITS,
        admin: ADMIN,
        authenticator: queryUserAuthenticator,
        channels: [{ pattern: 'room:*', presence: true }],
      });
      const rooms = ['room:lobby', 'room:support', 'room:ops', 'room:alerts'];
      const users = ['ann', 'ben', 'cat', 'dan', 'eve', 'fin', 'gil', 'hana', 'ivo', 'jun', 'kai', 'lea'];
      const chatter = await Promise.all(
        users.map((user, i) => memberOf(scene, user, {}, ...rooms.slice(0, 1 + (i % rooms.length)))),
      );
      // Traffic for the charts: a rate that rises and falls, busiest in the lobby; some of it from clients
      // (messages in), and now and then a publish to a bad channel name (an error reply).
      let tick = 0;
      const traffic = setInterval(() => {
        tick++;
        const burst = 2 + Math.round(3 * Math.sin(tick / 8) + 3);
        for (let i = 0; i < burst; i++) {
          const room = rooms[i % 3 === 0 ? (tick + i) % rooms.length : 0] as string;
          void scene.server.publish(room, { type: 'message', tick, i });
        }
        const speaker = chatter[tick % chatter.length] as TestClient;
        speaker.send({ type: 'publish', id: 1000 + tick, channel: 'room:lobby', data: { tick } });
        if (tick % 7 === 0)
          speaker.send({ type: 'publish', id: 1000 + tick, channel: 'no spaces!', data: 1 });
      }, 100);
      try {
        const page = await signedIn(scene, 'overview');
        await page.locator('.top-channels-table').getByText('room:lobby', { exact: true }).waitFor();
        // Ten seconds of points on the charts (50 snapshots at 200 ms), history and live together.
        await numberAtLeast(page, '[data-chart="messages"]', 50, 'data-points');
        await page.locator('#stat-out', { hasText: /^(?!0\/s$)[\d<]/ }).waitFor();
        await checkOverview(page);
      } finally {
        clearInterval(traffic);
        await closePages();
        for (const client of chatter) client.ws.close();
        await scene.stop();
      }
    });

    /** Screenshot the overview and check it is drawn and fits the window. */
    async function checkOverview(page: Page): Promise<void> {
      const png = decodePng(await screenshot(page, 'overview'));
      // The charts are drawn: the messages chart's canvas has line pixels, not only the card's background.
      const box = await page.locator('[data-chart="messages"] canvas').boundingBox();
      assert.ok(box !== null);
      const colours = new Set<string>();
      for (let y = Math.ceil(box.y); y < box.y + box.height; y += 2)
        for (let x = Math.ceil(box.x); x < box.x + box.width; x += 2) colours.add(png.pixel(x, y).join());
      assert.ok(colours.size > 20, `the chart is drawn (${colours.size} colours)`);
      assert.equal(
        await page.evaluate('document.documentElement.scrollWidth <= innerWidth'),
        true,
        'nothing scrolls sideways at 1440 px',
      );
    }

    it('searches, and shows a channel and a user in detail', TEST, async () => {
      const BROWSER =
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
      await memberOf(t, 'fay', { 'user-agent': BROWSER }, 'room:detail', 'room:support', 'room:ops');
      await memberOf(t, 'fay', { 'user-agent': 'switchboard-client/0.1 (iOS 17)' }, 'room:detail');
      await member('gil', 'room:detail');
      await member('hana', 'room:detail');
      const lines = [
        'Morning all',
        'Deploy at 10:30, ok?',
        'Fine by me',
        'Rolling back node b',
        'All green again',
      ];
      for (const [i, line] of lines.entries())
        await t.server.publish('room:detail', {
          type: 'message',
          user: ['fay', 'gil', 'hana'][i % 3],
          text: line,
        });
      const expired = await t.server.deliver('fay', { type: 'invoice_paid', invoice: 81 }, { ttlMs: 30 });
      const lapsed = await t.server.deliver('fay', { type: 'reminder', at: '10:30' }, { ttlMs: 30 });
      const page = await signedIn(t, 'views');
      await page.locator('#search-input').fill('room:det');
      await page.locator('#search-input').press('Enter');
      await page.locator('.search-channels').getByText('room:detail', { exact: true }).click();

      await shown(page, '.channel-detail', 'room:detail');
      assert.equal(await page.title(), 'room:detail · Switchboard admin');
      assert.equal(
        await page.locator('#search-input').inputValue(),
        '',
        'the search box empties off its view',
      );
      await page.locator('#channel-messages').getByText('"All green again"', { exact: false }).waitFor();
      assert.equal(await page.locator('#channel-messages li').count(), lines.length);
      for (const user of ['fay', 'gil', 'hana'])
        await page.locator('.presence-table').getByText(user, { exact: true }).waitFor();
      await screenshot(page, 'channel');

      await deadLetter('fay', expired.id);
      await deadLetter('fay', lapsed.id);
      await page.locator('.presence-table').getByText('fay', { exact: true }).click();
      await shown(page, '.user-detail', 'fay');
      const rows = page.locator('.connections-table tbody tr');
      assert.equal(await rows.count(), 2);
      const first = rows.nth(0);
      const cell = async (name: string): Promise<string> =>
        (await first.locator(`.cell-${name}`).textContent()) ?? '';
      assert.equal(await cell('node'), t.server.nodeId);
      assert.equal(await cell('transport'), 'websocket');
      assert.equal(await cell('address'), '127.0.0.1');
      assert.match(await cell('channels'), /room:detail.*room:support.*room:ops/);
      // The user agent as the API reports it; no column when no node reports one.
      const detail = await page.context().request.get(`${t.httpUrl}/admin/api/users/fay`);
      const { connections } = (await detail.json()) as { connections: { userAgent?: string }[] };
      const agent = connections[0]?.userAgent;
      if (agent === undefined) assert.equal(await first.locator('.cell-agent').count(), 0);
      else assert.equal(await cell('agent'), agent);
      for (const { id } of [expired, lapsed])
        await page.locator(`.dead-letters-table tr[data-dead-letter-id="${id}"]`).waitFor();
      await screenshot(page, 'user');

      // Back to the overview through the header.
      await page.locator('.topbar .nav-link').click();
      await page.locator('#overview').waitFor();
    });

    it('publishes a test message only after its confirmation; invalid JSON never leaves', TEST, async () => {
      const listener = await member('gus', 'room:publish');
      const page = await signedIn(t, 'publish', '#/channels/room%3Apublish');
      const editor = page.locator('#publish-data');
      await editor.fill('{"text": }');
      await page.locator('#publish-check').getByText('line 1, column 10', { exact: false }).waitFor();
      assert.equal(await page.locator('#publish-button').isDisabled(), true);

      await editor.fill('{"text": "cancelled"}');
      await page.locator('#publish-button').click();
      const dialog = page.locator('#confirm[open]');
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /Publish this message to room:publish\?/);
      await dialog.locator('[data-action="cancel"]').click();
      await dialog.waitFor({ state: 'detached' });
      // Escape cancels too.
      await page.locator('#publish-button').click();
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });

      await editor.fill('{"text": "confirmed", "n": 1}');
      await page.locator('#publish-button').click();
      await dialog.waitFor();
      await screenshot(page, 'confirm');
      await dialog.locator('[data-action="confirm"]').click();
      await page
        .locator('.toast')
        .getByText(/^Published to room:publish at offset \d+\.$/)
        .waitFor();
      // The first message the subscriber gets is the confirmed one: the cancelled ones were never sent.
      const message = await listener.nextOfType<{ channel: string; data: unknown }>('message');
      assert.equal(message.channel, 'room:publish');
      assert.deepEqual(message.data, { text: 'confirmed', n: 1 });
      await page.locator('#channel-messages').getByText('"confirmed"', { exact: false }).waitFor();
    });

    it('disconnects a connection, then a user, each only once confirmed', TEST, async () => {
      const first = await member('hal', 'room:x');
      const second = await member('hal');
      const page = await signedIn(t, 'disconnect', '#/users/hal');
      const rows = page.locator('.connections-table tbody tr');
      assert.equal(await rows.count(), 2);
      const dialog = page.locator('#confirm[open]');

      await rows.nth(0).locator('[data-action="disconnect-connection"]').click();
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /code 4502 \(kicked\)/);
      await dialog.locator('[data-action="cancel"]').click();
      await dialog.waitFor({ state: 'detached' });

      await rows.nth(0).locator('[data-action="disconnect-connection"]').click();
      await dialog.locator('#disconnect-reason').fill('maintenance');
      await dialog.locator('[data-action="confirm"]').click();
      await page
        .locator('.toast')
        .getByText(/^Disconnected connection /)
        .waitFor();
      const closed: CloseEvent = await first.closed;
      assert.deepEqual(closed, { code: 4502, reason: 'maintenance' });
      await page.locator('.connections-table tbody tr').nth(1).waitFor({ state: 'detached' });
      assert.equal(second.ws.readyState, second.ws.OPEN, 'the other connection stays');

      await page.locator('#disconnect-user').click();
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /the one connection of user hal, on every node/);
      await dialog.locator('[data-action="confirm"]').click();
      assert.deepEqual(await second.closed, { code: 4502, reason: 'disconnected by an administrator' });
      await page.locator('.connections-table tr.empty').waitFor();
    });

    it('redelivers a dead letter once confirmed', TEST, async () => {
      const { id } = await t.server.deliver('ivy', { invoice: 82 }, { ttlMs: 30 });
      await deadLetter('ivy', id);
      const page = await signedIn(t, 'redeliver', '#/users/ivy');
      const row = page.locator(`.dead-letters-table tr[data-dead-letter-id="${id}"]`);
      const dialog = page.locator('#confirm[open]');
      await row.locator('[data-action="redeliver"]').click();
      await dialog.waitFor();
      assert.match((await dialog.textContent()) ?? '', /goes back at the end of the user’s inbox/);
      await dialog.locator('[data-action="cancel"]').click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal((await t.server.deadLetters('ivy')).length, 1, 'cancel did nothing');

      await row.locator('[data-action="redeliver"]').click();
      await dialog.locator('[data-action="confirm"]').click();
      await page.locator('.toast').getByText(`Dead letter ${id} redelivered to ivy.`).waitFor();
      assert.deepEqual(await t.server.deadLetters('ivy'), []);
      await row.waitFor({ state: 'detached' });
    });

    it('shows an action’s error in its dialog, and a refused view as a message', TEST, async () => {
      const page = await signedIn(t, 'errors', '#/channels/room%3Afails');
      const longText = JSON.stringify({ text: 'x'.repeat(70_000) }); // over maxMessageBytes (64 KiB)
      await page.locator('#publish-data').fill(longText);
      await page.locator('#publish-button').click();
      const dialog = page.locator('#confirm[open]');
      await dialog.locator('[data-action="confirm"]').click();
      await dialog.locator('.dialog-error').waitFor();
      assert.match(await text(page, '.dialog-error'), /\(413 /);
      await dialog.locator('[data-action="cancel"]').click();

      await page.goto(`${t.httpUrl}/admin#/channels/${encodeURIComponent('not a channel!')}`);
      await page.locator('#view-error').getByText('(400 invalid_channel)', { exact: false }).waitFor();
    });

    it('shows hostile names as text, and runs none of them', TEST, async () => {
      for (const user of HOSTILE_USERS) await member(user, ...HOSTILE_CHANNELS);
      await t.server.publish(HOSTILE_CHANNELS[0] as string, { html: XSS });
      const page = await signedIn(t, 'hostile');
      for (const user of HOSTILE_USERS) {
        await page.goto(`${t.httpUrl}/admin#/users/${encodeURIComponent(user)}`);
        await shown(page, '.user-detail', user);
        assert.equal(await page.locator('.connections-table tbody tr').count(), 1, user);
      }
      for (const channel of HOSTILE_CHANNELS) {
        await page.goto(`${t.httpUrl}/admin#/channels/${encodeURIComponent(channel)}`);
        await shown(page, '.channel-detail', channel);
        const present = await page.locator('.presence-table tbody .link').allTextContents();
        assert.deepEqual([...present].sort(), [...HOSTILE_USERS].sort());
      }
      await page.goto(`${t.httpUrl}/admin#/channels/${encodeURIComponent(HOSTILE_CHANNELS[0] as string)}`);
      // Shown as the JSON it is (its quotes escaped), as text.
      await page.locator('#channel-messages').getByText(JSON.stringify(XSS), { exact: false }).waitFor();
      await page.locator('#search-input').fill(XSS);
      await page.locator('#search-input').press('Enter');
      await page.locator('.search-results').waitFor();
      assert.equal(await text(page, '.entity-name'), XSS);
      assert.equal(await page.locator('.search-users .link').count(), 1);
      assert.equal(await text(page, '.search-users .link'), XSS);
      await page.goto(`${t.httpUrl}/admin#/`);
      await page
        .locator('.top-channels-table')
        .getByText(HOSTILE_CHANNELS[0] as string, { exact: true })
        .waitFor();

      assert.equal(await page.evaluate('window.__xss'), undefined, 'no injected script ran');
      assert.equal(await page.locator('img').count(), 0, 'no element was made from a name');
    });

    it('signs out: the page shows the form and the cookie opens nothing', TEST, async () => {
      const page = await signedIn(t, 'sign-out');
      await page.locator('#signout').click();
      await page.locator('#signin-error').getByText('Signed out.').waitFor();
      assert.equal(await page.locator('#app').isHidden(), true);
      const session = await page.context().request.get(`${t.httpUrl}/admin/api/session`);
      assert.equal(session.status(), 401);
    });

    it('shows a throttled sign-in with its Retry-After', TEST, async () => {
      // A server of its own: its throttle is per address, and this test uses it up.
      const throttled = await startServer({ ...NO_LIMITS, admin: ADMIN });
      try {
        const page = await newPage('throttled');
        await page.goto(`${throttled.httpUrl}/admin`);
        let retryAfter = 0;
        for (let i = 0; i < 10 && retryAfter === 0; i++) {
          const response = await page.context().request.post(`${throttled.httpUrl}/admin/login`, {
            headers: { origin: throttled.httpUrl },
            data: { password: 'wrong password, again' },
          });
          if (response.status() === 429) retryAfter = Number(response.headers()['retry-after']);
        }
        assert.ok(retryAfter > 0, 'throttled within ten failures');
        await page.locator('#password').fill(PASSWORD);
        await page.locator('#signin-button').click();
        const error = page.locator('#signin-error');
        await error.getByText(/^Too many failed attempts\. Try again in \d+ s\.$/).waitFor();
        const seconds = Number(/in (\d+) s/.exec((await error.textContent()) ?? '')?.[1]);
        assert.ok(seconds >= 1 && seconds <= retryAfter, `${seconds} s, Retry-After ${retryAfter}`);
        assert.equal(await page.locator('#signin-button').isDisabled(), true);
      } finally {
        await throttled.stop();
      }
    });
  });

  describe('two nodes over Redis', { skip: redisRequirement.skip }, () => {
    const nodes: TestServer[] = [];
    const clients: TestClient[] = [];
    // Registered before the Redis harness's own `after`, so the nodes stop while Redis still answers.
    after(async () => {
      await closePages();
      for (const client of clients) client.ws.terminate();
      for (const node of nodes) await node.stop();
    });
    const redis = redisPerSuite();

    before(async () => {
      if (needChromium.skip !== false || redisRequirement.skip !== false) return;
      const prefix = uniquePrefix();
      const options = (): ServerOptions => ({
        ...NO_LIMITS,
        admin: ADMIN,
        authenticator: queryUserAuthenticator,
        engine: createRedisEngine({ ...FAST_ENGINE, url: redis().url, prefix }),
      });
      nodes.push(await startServer(options()), await startServer(options()));
    });

    it('lists both nodes, finds a user on the other one and disconnects it from here', TEST, async () => {
      const [a, b] = nodes as [TestServer, TestServer];
      const { client } = await connectV1(b, {}, '?user=zoe');
      clients.push(client);
      const page = await signedIn(a, 'cluster');
      await page.locator('#node-count').getByText('2 nodes').waitFor();
      for (const node of nodes)
        await page.locator(`.nodes-table tr[data-node-id="${node.server.nodeId}"]`).waitFor();
      await page.locator(`.nodes-table tr[data-node-id="${a.server.nodeId}"] .pill-info`).waitFor();
      await page.locator('[data-chart="event-loop"] .legend-item').nth(1).waitFor();
      // Three seconds of both nodes on the charts.
      await numberAtLeast(page, '[data-chart="connections"]', 15, 'data-points');
      await screenshot(page, 'cluster');

      await page.goto(`${a.httpUrl}/admin#/users/zoe`);
      const row = page.locator('.connections-table tbody tr');
      await row.waitFor();
      assert.equal(await row.locator('.cell-node').textContent(), b.server.nodeId);
      await row.locator('[data-action="disconnect-connection"]').click();
      await page.locator('#confirm[open] [data-action="confirm"]').click();
      assert.deepEqual(await client.closed, { code: 4502, reason: 'disconnected by an administrator' });
    });
  });

  it('raised no page errors, console errors, CSP violations or dialogs', TEST, () => {
    assert.deepEqual(problems, []);
  });
});
