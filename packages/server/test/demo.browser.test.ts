/**
 * The demo chat page (packages/server/public/index.html) in a real Chromium, against a real server:
 * two tabs chat, rooms are isolated, message content is only ever text, HTTP API publishes show up,
 * close codes drive reconnection, and the page speaks the room protocol's ping/pong and error frames.
 *
 * Needs Debian's Chromium (never downloads a browser); see requirements.ts for what happens without it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page, WebSocketRoute } from 'playwright-core';
import { startServer, until } from './helpers.js';
import type { TestServer } from './helpers.js';
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

/**
 * Where the screenshot of a populated chat goes: the test checks its layout and pixels; look at it too
 * when changing the page's design.
 */
const SCREENSHOT = process.env['SWITCHBOARD_DEMO_SCREENSHOT'] ?? join(tmpdir(), 'switchboard-demo.png');

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Per-test options: skipped (each counted) without Chromium; a deadline so a broken page cannot hang the run. */
const TEST = { skip: needChromium.skip, timeout: 20_000 };

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

describe('demo page', () => {
  let t: TestServer;
  /** Extra servers, stopped in `after` so a failed test cannot leave one listening. */
  const servers: TestServer[] = [];
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Page errors and CSP violations from every page; the last test asserts there were none. */
  const problems: string[] = [];
  /** Connection ids in accept order, from the public onConnect hook. */
  const connectionIds: string[] = [];
  let alice: Page;
  let bob: Page;

  before(
    async () => {
      if (needChromium.skip !== false) return;
      needChromium.assert();
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

  /** A fresh browser context (its own localStorage) on the demo page, connected to `room`. */
  async function openPage(
    httpUrl: string,
    name: string,
    room?: string,
    setup?: (context: BrowserContext) => Promise<void>,
  ): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 760, height: 560 } });
    contexts.push(context);
    await setup?.(context);
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) problems.push(`${name}: ${message.text()}`);
    });
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

  async function publish(channel: string, data: unknown): Promise<{ id: number }> {
    const response = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, data }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { id: number };
  }

  /** The server-side id of the (single) live connection in `room`. */
  async function connectionIn(room: string, not?: string): Promise<string> {
    let found: string | undefined;
    await until(
      () => {
        found = connectionIds.find(
          (id) => id !== not && t.server.getConnection(id)?.channels().includes(room) === true,
        );
        return found !== undefined;
      },
      3000,
      `a connection in ${room}`,
    );
    return found as string;
  }

  it('serves the page under its Content-Security-Policy', TEST, async () => {
    const response = await fetch(`${t.httpUrl}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/, 'only the page’s own script may run');
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(await alice.title(), '#general · Switchboard demo');
    assert.equal(await alice.locator('#room').inputValue(), 'general');
  });

  it('delivers a message to both tabs in the room, with user and id', TEST, async () => {
    await say(alice, 'hello from alice');
    for (const page of [alice, bob]) {
      const item = message(page, 'hello from alice');
      await item.waitFor();
      assert.equal(await item.locator('.user').textContent(), 'alice');
      assert.match((await item.locator('.id').textContent()) ?? '', /^#\d+$/);
    }
    assert.equal(await alice.locator('#text').inputValue(), '', 'the composer is cleared after sending');
    assert.equal(await message(alice, 'hello from alice').getAttribute('class'), 'message own');
    assert.equal(await message(bob, 'hello from alice').getAttribute('class'), 'message');
  });

  it('keeps rooms apart', TEST, async () => {
    const carol = await openPage(t.httpUrl, 'carol', 'elsewhere');
    await say(bob, 'only for general');
    await message(alice, 'only for general').waitFor();
    // Anything misrouted to carol would have reached her socket before this later publish.
    const marker = await publish('elsewhere', { type: 'message', user: 'api', text: 'marker' });
    await message(carol, 'marker').waitFor();
    assert.equal(marker.id, 1, 'ids are sequential per room');
    assert.equal(await carol.locator('#messages li.message').count(), 1);
    assert.equal(await message(carol, 'only for general').count(), 0);
    assert.equal(await message(alice, 'marker').count(), 0);
  });

  it('switches rooms from the room field and the URL hash', TEST, async () => {
    const dave = await openPage(t.httpUrl, 'dave', 'general');
    await dave.locator('#room').fill('side-room');
    await dave.locator('#room').press('Enter');
    await dave.locator('#messages .notice', { hasText: 'Connected to #side-room' }).waitFor();
    await dave.locator('#status[data-state="open"]').waitFor();
    assert.equal(await dave.locator('#room-label').textContent(), '#side-room');
    assert.equal(new URL(dave.url()).hash, '#side-room');
    assert.equal(await dave.locator('#messages li.message').count(), 0, 'the old room is cleared');
    await publish('side-room', { type: 'message', user: 'api', text: 'side note' });
    await message(dave, 'side note').waitFor();

    await dave.locator('#room').fill('not a room!');
    await dave.locator('#room').press('Enter');
    await dave.locator('#alert').getByText('is not a valid room name').waitFor();
    assert.equal(await dave.locator('#status').getAttribute('data-state'), 'closed');
    assert.equal(await dave.locator('#text').isDisabled(), true);
  });

  it('renders hostile content as text and never runs it', TEST, async () => {
    await say(alice, XSS);
    await publish('general', { type: 'message', user: XSS, text: `api says ${XSS}` });
    for (const page of [alice, bob]) {
      await message(page, XSS).waitFor();
      await message(page, `api says ${XSS}`).waitFor();
      assert.equal(await message(page, `api says ${XSS}`).locator('.user').textContent(), XSS);
      assert.equal(await page.locator('#messages img, #messages script').count(), 0);
      assert.equal(await page.evaluate('typeof window.__xss'), 'undefined');
    }
  });

  it('shows messages published through the HTTP API', TEST, async () => {
    const { id } = await publish('general', { type: 'message', user: 'api', text: 'from the backend' });
    assert.equal(typeof id, 'number');
    for (const page of [alice, bob]) {
      const item = message(page, 'from the backend');
      await item.waitFor();
      assert.equal(await item.getAttribute('data-id'), String(id));
      assert.equal(await item.locator('.user').textContent(), 'api');
    }
    // Objects that are not chat messages are shown as their JSON, still as text.
    await publish('general', { type: 'task-update', taskId: 7, status: 'done' });
    await message(bob, '{"type":"task-update","taskId":7,"status":"done"}').waitFor();
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
      const png = await alice.screenshot({ path: SCREENSHOT });
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

  it('reconnects after a retryable close and stops after a terminal one', TEST, async () => {
    const erin = await openPage(t.httpUrl, 'erin', 'reconnect-room');
    const first = await connectionIn('reconnect-room');

    await t.server.disconnectConnection(first, { code: 4002, reason: 'rebalancing' });
    await erin.locator('#messages .notice', { hasText: 'Connection lost (4002: rebalancing)' }).waitFor();
    await erin.locator('#status[data-state="open"]').waitFor();
    const second = await connectionIn('reconnect-room', first);

    await t.server.disconnectConnection(second, { code: 4502, reason: 'kicked by the test' });
    const status = erin.locator('#status[data-state="closed"]');
    await status.waitFor();
    assert.match((await status.textContent()) ?? '', /Disconnected \(4502: kicked by the test\)/);
    await erin.locator('#alert').getByText('4502: kicked by the test').waitFor();
    assert.equal(await erin.locator('#text').isDisabled(), true);

    // Only the person decides to come back after a terminal close.
    await erin.locator('#reconnect').click();
    await erin.locator('#status[data-state="open"]').waitFor();
    assert.equal(await erin.locator('#alert').isHidden(), true);
  });

  it('answers server pings and shows error frames (behind a base path)', TEST, async () => {
    const quick = await startServer({
      demo: true,
      basePath: '/chat',
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 5000,
    });
    servers.push(quick);
    const fromPage: string[] = [];
    let pong!: () => void;
    const ponged = new Promise<void>((resolve) => (pong = resolve));
    let toServer: WebSocketRoute | undefined;
    // A pass-through proxy: the test sees what the page sends and can speak to the server as the page.
    const frank = await openPage(quick.httpUrl, 'frank', 'pings', (context) =>
      context.routeWebSocket(/\/chat\/ws\/pings$/, (page) => {
        const server = page.connectToServer();
        toServer = server;
        page.onMessage((frame) => {
          const text = frame.toString();
          fromPage.push(text);
          if (text === '{"type":"pong"}') pong();
          server.send(frame);
        });
      }),
    );
    await within(ponged, 5000, 'a pong from the page');

    assert.ok(toServer !== undefined);
    toServer.send('{not json');
    await frank.locator('#alert').getByText('Error invalid_json: frame is not valid JSON').waitFor();
    await frank.locator('#messages .notice.error', { hasText: 'invalid_json' }).waitFor();
    assert.equal(
      await frank.locator('#status').getAttribute('data-state'),
      'open',
      'an error frame does not close',
    );
    assert.ok(
      fromPage.every((text) => text === '{"type":"pong"}'),
      `unexpected frames: ${fromPage.join(', ')}`,
    );
  });

  it('raised no page errors or CSP violations', TEST, () => {
    assert.deepEqual(problems, []);
  });
});
