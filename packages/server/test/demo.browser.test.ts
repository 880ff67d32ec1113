/**
 * The demo chat page (packages/server/public/index.html) in a real Chromium, against a real server: the
 * page runs the client SDK from the server's browser bundle (`/sdk/switchboard.js`) over protocol v1. Two
 * tabs chat, a later joiner sees the room's history, a tab cut off gets what it missed (in order, once),
 * a gap too large for the history window is shown, a refused room stops, content is only ever text, and
 * nothing breaks the page's Content-Security-Policy. The bundle is also checked on its own: its headers,
 * and a plain page importing it with no bundler.
 *
 * Screenshots go to test/screenshots/demo-*.png (committed, for people to look at when the page changes),
 * written only with SWITCHBOARD_SCREENSHOTS=1 (see keepScreenshot).
 * Needs Debian's Chromium (never downloads a browser); see requirements.ts for what happens without it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startServer, until } from './helpers.js';
import type { TestServer } from './helpers.js';
import { keepScreenshot } from './chromium.js';
import { decodePng } from './png.js';
import { chromiumPath, requirement } from './requirements.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the screenshots go; the tests check layout and pixels, people look at them. */
const SCREENSHOTS =
  process.env['SWITCHBOARD_DEMO_SCREENSHOTS'] ?? new URL('screenshots/', import.meta.url).pathname;
const screenshot = (name: string): string => `${SCREENSHOTS.replace(/\/?$/, '/')}demo-${name}.png`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Per-test options: skipped (each counted) without Chromium; a deadline so a broken page cannot hang the run. */
const TEST = { skip: needChromium.skip, timeout: 30_000 };

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

/** What Chromium logs for a WebSocket that could not connect (the offline tests cause it on purpose). */
const SOCKET_FAILED = /^WebSocket connection to .* failed/;

describe('demo page', () => {
  let t: TestServer;
  /** Extra servers, stopped in `after` so a failed test cannot leave one listening. */
  const servers: TestServer[] = [];
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Page errors, console errors and CSP violations from every page; the last test asserts there were none. */
  const problems: string[] = [];
  /** Connection ids in accept order, from the public onConnect hook. */
  const connectionIds: string[] = [];
  let alice: Page;
  let bob: Page;

  before(
    async () => {
      if (needChromium.skip !== false) return;
      needChromium.assert();
      mkdirSync(SCREENSHOTS, { recursive: true });
      t = await startServer({
        demo: true,
        onConnect: (connection) => {
          connectionIds.push(connection.id);
        },
      });
      // Never a downloaded browser: when chromiumPath() found none, the suite was skipped or failed above.
      browser = await chromium.launch({
        executablePath: executablePath ?? '/usr/bin/chromium',
        args: LAUNCH_ARGS,
      });
      alice = await openPage(t.httpUrl, 'alice'); // no hash: the default room
      bob = await openPage(t.httpUrl, 'bob', 'general');
    },
    { timeout: 60_000 },
  );

  after(
    async () => {
      for (const context of contexts) await context.close();
      await browser?.close();
      for (const server of [t, ...servers]) await server?.stop();
    },
    { timeout: 60_000 },
  );

  /** A fresh browser context (its own localStorage) on a page, every problem it reports recorded. */
  async function newPage(name: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 760, height: 560 }, colorScheme });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
    page.on('console', (message) => {
      const text = message.text();
      if (/content security policy/i.test(text)) problems.push(`${name}: ${text}`);
      else if (message.type() === 'error' && !SOCKET_FAILED.test(text))
        problems.push(`${name}: console: ${text}`);
    });
    return page;
  }

  /** The demo page in `room`, once it has joined it (open). */
  async function openPage(
    httpUrl: string,
    name: string,
    room?: string,
    setup?: (page: Page) => Promise<void>,
  ) {
    const page = await newPage(name);
    await setup?.(page);
    await page.goto(room === undefined ? `${httpUrl}/` : `${httpUrl}/#${encodeURIComponent(room)}`);
    await page.locator('#name').fill(name);
    await page.locator('#status[data-state="open"]').waitFor();
    return page;
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  }

  /** The rendered message whose text is exactly `text`. */
  function message(page: Page, text: string) {
    const exact = new RegExp(`^${escapeRegExp(text)}$`);
    return page
      .locator('#messages li.message')
      .filter({ has: page.locator('.text').filter({ hasText: exact }) });
  }

  /** The ids and texts of the rendered messages, in page order. */
  async function rendered(page: Page): Promise<{ id: number; text: string }[]> {
    const items = page.locator('#messages li.message');
    const out: { id: number; text: string }[] = [];
    for (let i = 0; i < (await items.count()); i++) {
      const item = items.nth(i);
      out.push({
        id: Number(await item.getAttribute('data-id')),
        text: (await item.locator('.text').textContent()) ?? '',
      });
    }
    return out;
  }

  async function publish(server: TestServer, channel: string, data: unknown): Promise<{ id: number }> {
    const response = await fetch(`${server.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, data }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { id: number };
  }

  const chat = (user: string, text: string) => ({ type: 'message', user, text });

  /** The server-side id of the (single) live connection in `room` on `server`, other than `not`. */
  async function connectionIn(server: TestServer, room: string, not?: string): Promise<string> {
    let found: string | undefined;
    await until(
      () => {
        found = connectionIds.find(
          (id) => id !== not && server.server.getConnection(id)?.channels().includes(room) === true,
        );
        return found !== undefined;
      },
      3000,
      `a connection in ${room}`,
    );
    return found as string;
  }

  /**
   * Cut `page` off: its browser context goes offline (new sockets fail), then the server closes its
   * connection with a code that asks it to come back. The page is reconnecting when this returns.
   */
  async function cutOff(server: TestServer, page: Page, room: string): Promise<string> {
    const id = await connectionIn(server, room);
    await page.context().setOffline(true);
    await server.server.disconnectConnection(id, { code: 4002, reason: 'rebalancing' });
    await page.locator('#status[data-state="reconnecting"]').waitFor();
    return id;
  }

  it('serves the page under its Content-Security-Policy', TEST, async () => {
    const response = await fetch(`${t.httpUrl}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(
      csp,
      /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/,
      'the SDK from this origin and the page’s own script only',
    );
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(await alice.title(), '#general · Switchboard demo');
    assert.equal(await alice.locator('#room').inputValue(), 'general');
  });

  it('serves the SDK bundle as a cacheable ES module with its source map', TEST, async () => {
    const response = await fetch(`${t.httpUrl}/sdk/switchboard.js`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('cache-control'), 'public, no-cache');
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    const etag = response.headers.get('etag') ?? '';
    assert.match(etag, /^"[A-Za-z0-9_-]{43}"$/);
    const body = await response.text();
    assert.equal(Number(response.headers.get('content-length')), Buffer.byteLength(body));
    assert.match(body, /export\s*\{[^}]*\bSwitchboardClient\b/, 'an ES module exporting the client');
    assert.doesNotMatch(body, /\brequire\(|from\s*"node:|import\("node:/, 'no Node-only code');
    assert.match(body, /\/\/# sourceMappingURL=switchboard\.js\.map\s*$/);

    const revalidated = await fetch(`${t.httpUrl}/sdk/switchboard.js`, {
      headers: { 'if-none-match': etag },
    });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.headers.get('etag'), etag);
    assert.equal(await revalidated.text(), '');
    // A list, with our tag marked weak by a proxy on the way, still matches (RFC 9110's weak comparison).
    const listed = await fetch(`${t.httpUrl}/sdk/switchboard.js`, {
      headers: { 'if-none-match': `"stale", W/${etag}` },
    });
    assert.equal(listed.status, 304);
    const stale = await fetch(`${t.httpUrl}/sdk/switchboard.js`, { headers: { 'if-none-match': '"stale"' } });
    assert.equal(stale.status, 200);

    const map = await fetch(`${t.httpUrl}/sdk/switchboard.js.map`);
    assert.equal(map.status, 200);
    assert.equal(map.headers.get('content-type'), 'application/json; charset=utf-8');
    const { sourcesContent } = (await map.json()) as { sourcesContent: string[] };
    assert.ok(sourcesContent.length > 10, 'the map carries the sources');
  });

  it('lets a plain page on another origin import the SDK with no bundler', TEST, async () => {
    const page = await newPage('plain');
    // An application's own page, served by its own web server: it imports the SDK from Switchboard.
    const html = `<!doctype html><title>plain</title><link rel="icon" href="data:,"><script type="module">
      import { SwitchboardClient } from '${t.httpUrl}/sdk/switchboard.js';
      const client = new SwitchboardClient('${t.wsUrl}/ws');
      client.connect();
      const sub = client.subscribe('plain-page');
      sub.on('message', ({ id, data }) => { document.title = 'got ' + id + ' ' + data.hello; });
      await sub.ready();
      await client.publish('plain-page', { hello: 'world' });
    </script>`;
    const app = createHttpServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end(html),
    );
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = app.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction('document.title === "got 1 world"');
    } finally {
      app.close();
      app.closeAllConnections();
    }
  });

  it('delivers a message to both tabs in the room, with user and id', TEST, async () => {
    await say(alice, 'hello from alice');
    for (const page of [alice, bob]) {
      const item = message(page, 'hello from alice');
      await item.waitFor();
      assert.equal(await item.locator('.user').textContent(), 'alice');
      assert.match((await item.locator('.id').textContent()) ?? '', /^#\d+$/);
    }
    await say(bob, 'hi alice');
    await message(alice, 'hi alice').waitFor();
    assert.equal(await alice.locator('#text').inputValue(), '', 'the composer is cleared after sending');
    assert.equal(await message(alice, 'hello from alice').getAttribute('class'), 'message own');
    assert.equal(await message(bob, 'hello from alice').getAttribute('class'), 'message');
  });

  it('shows the room’s history to someone who joins later', TEST, async () => {
    const carol = await openPage(t.httpUrl, 'carol', 'general');
    await carol
      .locator('#messages .notice', { hasText: /^Connected to #general: the last 2 messages above$/ })
      .waitFor();
    assert.deepEqual(await rendered(carol), await rendered(alice), 'the same messages, ids and order');
    assert.deepEqual(
      (await rendered(carol)).map((m) => m.text),
      ['hello from alice', 'hi alice'],
    );
    // And live messages follow the history.
    await say(alice, 'welcome carol');
    await message(carol, 'welcome carol').waitFor();
    assert.deepEqual(
      (await rendered(carol)).map((m) => m.id),
      [1, 2, 3],
    );
  });

  it('keeps rooms apart', TEST, async () => {
    const carol = await openPage(t.httpUrl, 'carol', 'elsewhere');
    await say(bob, 'only for general');
    await message(alice, 'only for general').waitFor();
    // Anything misrouted to carol would have reached her socket before this later publish.
    const marker = await publish(t, 'elsewhere', chat('api', 'marker'));
    await message(carol, 'marker').waitFor();
    assert.equal(marker.id, 1, 'ids are sequential per room');
    assert.equal(await carol.locator('#messages li.message').count(), 1);
    assert.equal(await message(carol, 'only for general').count(), 0);
    assert.equal(await message(alice, 'marker').count(), 0);
  });

  it('switches rooms from the room field and the URL hash', TEST, async () => {
    await publish(t, 'side-room', chat('api', 'already there'));
    const dave = await openPage(t.httpUrl, 'dave', 'general');
    await dave.locator('#room').fill('side-room');
    await dave.locator('#room').press('Enter');
    await dave.locator('#messages .notice', { hasText: 'Connected to #side-room' }).waitFor();
    await dave.locator('#status[data-state="open"]').waitFor();
    assert.equal(await dave.locator('#room-label').textContent(), '#side-room');
    assert.equal(new URL(dave.url()).hash, '#side-room');
    assert.deepEqual(
      (await rendered(dave)).map((m) => m.text),
      ['already there'],
      'the old room is cleared; the new one’s history shown',
    );
    await publish(t, 'side-room', chat('api', 'side note'));
    await message(dave, 'side note').waitFor();
  });

  it('renders hostile content as text and never runs it', TEST, async () => {
    await say(alice, XSS);
    await publish(t, 'general', chat(XSS, `api says ${XSS}`));
    for (const page of [alice, bob]) {
      await message(page, XSS).waitFor();
      await message(page, `api says ${XSS}`).waitFor();
      assert.equal(await message(page, `api says ${XSS}`).locator('.user').textContent(), XSS);
      assert.equal(await page.locator('#messages img, #messages script').count(), 0);
      assert.equal(await page.evaluate('typeof window.__xss'), 'undefined');
    }
  });

  it('shows messages published through the HTTP API', TEST, async () => {
    const { id } = await publish(t, 'general', chat('api', 'from the backend'));
    for (const page of [alice, bob]) {
      const item = message(page, 'from the backend');
      await item.waitFor();
      assert.equal(await item.getAttribute('data-id'), String(id));
      assert.equal(await item.locator('.user').textContent(), 'api');
    }
    // Objects that are not chat messages are shown as their JSON, still as text.
    await publish(t, 'general', { type: 'task-update', taskId: 7, status: 'done' });
    await message(bob, '{"type":"task-update","taskId":7,"status":"done"}').waitFor();
  });

  it('gets the messages sent while it was cut off: in order, each once', TEST, async () => {
    const erin = await openPage(t.httpUrl, 'erin', 'recover-room');
    await publish(t, 'recover-room', chat('api', 'before the cut'));
    await message(erin, 'before the cut').waitFor();
    const first = await cutOff(t, erin, 'recover-room');
    await erin.locator('#messages .notice', { hasText: 'Connection lost (4002: rebalancing)' }).waitFor();
    assert.equal(await erin.locator('#text').isDisabled(), true, 'no typing into a dead connection');

    const missed = ['missed one', 'missed two', 'missed three'];
    for (const text of missed) await publish(t, 'recover-room', chat('api', text));
    assert.equal(await erin.locator('#messages li.message').count(), 1, 'nothing arrives while offline');
    await erin.screenshot(keepScreenshot(screenshot('reconnecting')));

    await erin.context().setOffline(false); // the `online` event cuts the backoff short
    await erin
      .locator('#messages .notice', { hasText: 'Caught up: 3 messages sent while you were away' })
      .waitFor();
    await erin.locator('#status[data-state="open"]').waitFor();
    await connectionIn(t, 'recover-room', first);
    await publish(t, 'recover-room', chat('api', 'live again'));
    await message(erin, 'live again').waitFor();
    assert.deepEqual(await rendered(erin), [
      { id: 1, text: 'before the cut' },
      { id: 2, text: 'missed one' },
      { id: 3, text: 'missed two' },
      { id: 4, text: 'missed three' },
      { id: 5, text: 'live again' },
    ]);
    assert.equal(await erin.locator('#messages .notice.gap').count(), 0, 'no gap to report');
  });

  it('says so when it missed more than the room’s history keeps', TEST, async () => {
    const small = await startServer({
      demo: true,
      historySize: 3,
      onConnect: (connection) => {
        connectionIds.push(connection.id);
      },
    });
    servers.push(small);
    for (const text of ['one', 'two', 'three', 'four']) await publish(small, 'tiny', chat('api', text));
    const fay = await openPage(small.httpUrl, 'fay', 'tiny');
    await fay
      .locator('#messages .notice', { hasText: 'Connected to #tiny: the last 3 messages above' })
      .waitFor();
    assert.deepEqual(
      (await rendered(fay)).map((m) => m.id),
      [2, 3, 4],
      'on join: what the history still holds',
    );

    await cutOff(small, fay, 'tiny');
    for (let i = 5; i <= 9; i++) await publish(small, 'tiny', chat('api', `away ${i}`));
    await fay.context().setOffline(false);
    const gap = fay.locator('#messages .notice.gap');
    await gap.waitFor();
    assert.equal(
      await gap.textContent(),
      'Missed 5 messages (#5–#9) while away: more than the room’s history keeps, so they cannot be shown.',
    );
    await fay.locator('#status[data-state="open"]').waitFor();
    await publish(small, 'tiny', chat('api', 'after the gap'));
    await message(fay, 'after the gap').waitFor();
    assert.deepEqual(
      (await rendered(fay)).map((m) => m.id),
      [2, 3, 4, 10],
      'no partial replay: the note stands for #5-#9',
    );
    await fay.screenshot(keepScreenshot(screenshot('gap')));
  });

  it('stops at a room the server refuses, and retries nothing', TEST, async () => {
    const sockets: string[] = [];
    const subscribes: string[] = [];
    const page = await newPage('gus');
    page.on('websocket', (socket) => {
      sockets.push(socket.url());
      socket.on('framesent', ({ payload }) => {
        const frame = JSON.parse(String(payload)) as { type?: string; channel?: string };
        if (frame.type === 'subscribe') subscribes.push(String(frame.channel));
      });
    });
    // A fake clock, so the test can run the page's timers far past any backoff without waiting for it.
    await page.clock.install();
    const accepted = connectionIds.length;
    await page.goto(`${t.httpUrl}/#${encodeURIComponent('not a room!')}`);
    await page.locator('#alert').getByText('Cannot join "not a room!": invalid_channel').waitFor();
    await page.locator('#status[data-state="closed"]').waitFor();
    await page.locator('#name').fill('gus');
    assert.equal(await page.locator('#text').isDisabled(), true);
    assert.equal(
      await page.locator('#reconnect').isHidden(),
      true,
      'nothing to reconnect: the connection is fine',
    );
    await page.screenshot(keepScreenshot(screenshot('invalid-room')));

    // Every retry the SDK could have scheduled (full-jitter delays capped at 0.5, 1, 2, 4, 8 s) would have
    // fired by now; not much further, or the SDK's own heartbeat check (1.5 x 15 s without a frame) would
    // ping on the fake clock faster than the real server can answer.
    await page.clock.runFor(15_000);
    // The page still works: a valid room joins on the same connection.
    await page.locator('#room').fill('valid-after-all');
    await page.locator('#room').press('Enter');
    await page.locator('#status[data-state="open"]').waitFor();
    assert.deepEqual(subscribes, ['not a room!', 'valid-after-all'], 'one refused subscribe, never retried');
    assert.equal(sockets.length, 1, 'one WebSocket');
    assert.equal(connectionIds.length - accepted, 1, 'one upgrade on the server');
    assert.equal(await page.locator('#alert').isHidden(), true);
  });

  it(
    'looks right: laid out, wrapped, drawn (the screenshot is kept for people to look at)',
    TEST,
    async () => {
      const long =
        'Hi alice! Long messages wrap nicely, even when someone pastes a very long line of text into the composer without thinking about it.';
      await say(bob, long);
      const item = message(alice, long);
      await item.waitFor();
      const png = await alice.screenshot(keepScreenshot(screenshot('chat')));
      const box = async (locator: Locator, what: string) => {
        const found = await locator.boundingBox();
        assert.ok(found !== null, `${what} is not displayed`);
        return found;
      };

      // The header on top, the composer at the bottom of the window, the log between them; nothing is wider
      // than the window.
      const { height: windowHeight } = alice.viewportSize() ?? { height: 0 };
      const header = await box(alice.locator('header'), 'the header');
      const log = await box(alice.locator('#log-wrap'), 'the message log');
      const composer = await box(alice.locator('#composer'), 'the composer');
      assert.equal(header.y, 0, 'the header is at the top');
      assert.ok(log.y >= header.y + header.height, 'the log is below the header');
      assert.ok(log.y + log.height <= composer.y + 1, 'the log ends above the composer');
      assert.ok(Math.abs(composer.y + composer.height - windowHeight) <= 1, 'the composer is at the bottom');
      assert.equal(
        await alice.evaluate(
          'document.documentElement.scrollWidth <= innerWidth && document.getElementById("log-wrap").scrollWidth <= document.getElementById("log-wrap").clientWidth',
        ),
        true,
        'nothing scrolls sideways',
      );

      // The newest message is in view (the log follows the conversation), its text wrapped inside it, next to
      // a round badge with the sender's initial.
      const bubble = await box(item, 'the newest message');
      const text = await box(item.locator('.text'), 'its text');
      const avatar = await box(item.locator('.avatar'), 'its avatar');
      assert.ok(bubble.x >= log.x && bubble.x + bubble.width <= log.x + log.width, 'within the log’s width');
      assert.ok(
        bubble.y >= log.y && bubble.y + bubble.height <= log.y + log.height + 1,
        'scrolled into view',
      );
      assert.ok(text.x + text.width <= bubble.x + bubble.width, 'the text stays inside its message');
      assert.ok(text.height >= 40, `the long line wraps onto several lines (${text.height} px high)`);
      assert.equal(await item.locator('.avatar').textContent(), 'B');
      assert.deepEqual([Math.round(avatar.width), Math.round(avatar.height)], [36, 36]);
      // Runs in the page (the tests have no DOM types).
      type Styled = { getComputedStyle(element: unknown): { backgroundColor: string } };
      const background = (locator: Locator) =>
        locator.evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).backgroundColor);
      assert.equal(await background(message(alice, 'hello from alice')), 'rgb(238, 242, 255)', 'own: tinted');
      assert.equal(await background(item), 'rgba(0, 0, 0, 0)', 'others’: on the panel');

      // In the pixels: the text is drawn (a browser without fonts draws none) in dark ink, and the status
      // dot is green while connected.
      const pixels = decodePng(png);
      let ink = 0;
      let area = 0;
      for (let y = Math.ceil(text.y); y < Math.floor(text.y + text.height); y++) {
        for (let x = Math.ceil(text.x); x < Math.floor(text.x + text.width); x++) {
          const [r, g, b] = pixels.pixel(x, y);
          area++;
          if (r + g + b < 3 * 128) ink++;
        }
      }
      assert.ok(ink / area > 0.03, `the text is drawn: ${ink} of its ${area} pixels are ink`);
      const dot = await box(alice.locator('#status .dot'), 'the status dot');
      const [r, g, b] = pixels.pixel(Math.round(dot.x + dot.width / 2), Math.round(dot.y + dot.height / 2));
      assert.ok(g > r + 40 && g > b + 40, `the status dot is green: rgb(${r}, ${g}, ${b})`);
    },
  );

  it('works behind a base path, in dark mode too', TEST, async () => {
    const based = await startServer({ demo: true, basePath: '/chat' });
    servers.push(based);
    await publish(based, 'general', chat('ivy', 'Anyone up for lunch?'));
    const jo = await newPage('jo', 'dark');
    await jo.goto(`${based.httpUrl}/`);
    await jo.locator('#name').fill('jo');
    await jo.locator('#status[data-state="open"]').waitFor();
    await message(jo, 'Anyone up for lunch?').waitFor();
    await say(jo, 'Yes! 12:30 at the usual place?');
    await message(jo, 'Yes! 12:30 at the usual place?').waitFor();
    assert.deepEqual(
      (await rendered(jo)).map((m) => m.id),
      [1, 2],
    );
    await jo.screenshot(keepScreenshot(screenshot('dark')));
  });

  it('stops after a close that forbids reconnecting, until the person asks', TEST, async () => {
    const hal = await openPage(t.httpUrl, 'hal', 'kick-room');
    const first = await connectionIn(t, 'kick-room');
    await t.server.disconnectConnection(first, { code: 4502, reason: 'kicked by the test' });
    const status = hal.locator('#status[data-state="closed"]');
    await status.waitFor();
    assert.match((await status.textContent()) ?? '', /Disconnected \(4502: kicked by the test\)/);
    await hal.locator('#alert').getByText('4502: kicked by the test').waitFor();
    assert.equal(await hal.locator('#text').isDisabled(), true);

    await publish(t, 'kick-room', chat('api', 'while kicked'));
    await hal.locator('#reconnect').click();
    await hal.locator('#status[data-state="open"]').waitFor();
    await message(hal, 'while kicked').waitFor(); // recovered on the way back
    assert.equal(await hal.locator('#alert').isHidden(), true);
    await connectionIn(t, 'kick-room', first);
  });

  it('raised no page errors, console errors or CSP violations', TEST, () => {
    assert.deepEqual(problems, []);
  });
});
