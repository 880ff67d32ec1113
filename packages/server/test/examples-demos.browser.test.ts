/**
 * The issue 16 demos as users run them: `node examples/<name>/server.mjs` on a free port, a real Chromium
 * on the page, the browser SDK served by Switchboard.
 * - examples/ticker: 50 symbols at 300 ticks/s into one channel with a 100 ms batch delay; the page's
 *   prices change, its stats bar shows messages, WebSocket messages and bytes per second, and the
 *   WebSocket messages it gets are batches (many ticks each) in the page's wire format.
 * - examples/cursors: two tabs see each other's cursor move, the 50 simulated users (30 positions a second
 *   each) are drawn, the rates shown are near the expected 1,500 messages a second in and at most 30 out,
 *   hostile names are text, and the channel keeps no history (the positions are ephemeral).
 * Each test runs a few seconds of traffic, then stops the example (SIGTERM: its simulators stop, it exits 0).
 * Screenshots go to test/screenshots/ticker.png and cursors.png (committed, for people to look at).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { keepScreenshot, launchChromium } from './chromium.js';
import { startExample } from './example-process.js';
import type { OwnedChild } from './node-process.js';
import { chromiumPath, requirement } from './requirements.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 60_000 };
const SCREENSHOTS = new URL('screenshots/', import.meta.url).pathname;

/** The ticker page's wire format when its URL does not name one (examples/ticker/public/app.js). */
const TICKER_FORMAT = 'msgpack' as 'json' | 'msgpack';
/** Which WebSocket frames each format sends, and which it never does. */
const FRAME_KINDS = { json: ['text', 'binary'], msgpack: ['binary', 'text'] } as const;

/**
 * The little of the DOM the functions run in the page use: this file is compiled without the DOM's types,
 * and the pages' Content-Security-Policy refuses strings (eval), so they are functions cast to this.
 */
interface DomNode {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
}
type Dom = typeof globalThis & {
  readonly document: {
    getElementById(id: string): DomNode | null;
    querySelectorAll(selector: string): ArrayLike<DomNode>;
  };
};

/** The numbers of a page's stats bar at one sample. */
interface Sample {
  /** The number of the tile `id`; fails the test when it has none. */
  get(id: string): number;
  /** All of them, for an assertion's message. */
  readonly text: string;
}

/** What a page's WebSocket carried, as Chromium saw it (the DevTools protocol, not the page's script). */
interface Wire {
  text: number;
  binary: number;
  bytes: number;
}

describe('the ticker and shared-cursors demos in Chromium', () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const children: OwnedChild[] = [];
  const problems: string[] = [];

  before(async () => {
    if (needChromium.skip !== false) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium(needChromium, executablePath);
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    for (const child of children) await child.kill();
  });

  async function closePages(): Promise<void> {
    for (const context of contexts.splice(0)) await context.close();
  }

  async function example(name: string, env: Record<string, string> = {}) {
    const started = await startExample(name, { PORT: '0', ...env });
    children.push(started.child);
    return started;
  }

  /** A page in a fresh context; page errors, console errors and CSP refusals are recorded as problems. */
  async function newPage(name: string, wire?: Wire): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
    page.on('console', (message) => {
      const text = message.text();
      if (/Refused to|content security policy/i.test(text)) problems.push(`${name}: ${text}`);
      else if (message.type() === 'error') problems.push(`${name}: console: ${text}`);
    });
    if (wire !== undefined) {
      page.on('websocket', (socket) => {
        socket.on('framereceived', ({ payload }) => {
          if (typeof payload === 'string') {
            wire.text++;
            wire.bytes += Buffer.byteLength(payload);
          } else {
            wire.binary++;
            wire.bytes += payload.length;
          }
        });
      });
    }
    return page;
  }

  /** The number a stats tile shows (its `data-value`), once it has one above `min`. */
  async function rate(page: Page, id: string, min = 0): Promise<number> {
    // Strings, not functions: this file is compiled without the DOM's types.
    await page.waitForFunction(
      ({ id, min }) => Number((globalThis as Dom).document.getElementById(id)?.dataset['value']) > min,
      { id, min },
    );
    return Number(await page.locator(`#${id}`).getAttribute('data-value'));
  }

  /** Wait for the next once-a-second sample of the stats bar, then read every tile's number. */
  async function nextSample(page: Page): Promise<Sample> {
    const before = (await page.locator('#totals').textContent()) ?? '';
    await page.waitForFunction(
      (before) => (globalThis as Dom).document.getElementById('totals')?.textContent !== before,
      before,
    );
    const values = new Map<string, number>();
    for (const tile of await page.locator('.stat .value').all()) {
      values.set((await tile.getAttribute('id')) ?? '', Number(await tile.getAttribute('data-value')));
    }
    const text = JSON.stringify(Object.fromEntries(values));
    return {
      text,
      get(id) {
        const value = values.get(id);
        assert.ok(value !== undefined && Number.isFinite(value), `no number in #${id}: ${text}`);
        return value;
      },
    };
  }

  it(
    'ticker: prices change, batched WebSocket messages, messages/s and bytes/s on the page',
    TEST,
    async () => {
      const { child, port } = await example('ticker', { TICKS_PER_SECOND: '300', BATCH_DELAY_MS: '100' });
      const wire: Wire = { text: 0, binary: 0, bytes: 0 };
      const page = await newPage('ticker', wire);
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.locator('body[data-state="connected"]').waitFor();
      await page.locator('.card').nth(49).waitFor();
      assert.equal(await page.locator('.card').count(), 50);
      assert.equal(await page.locator('body').getAttribute('data-format'), TICKER_FORMAT);

      // Prices move: most cards show another price a couple of seconds later.
      const prices = (): Promise<string[]> => page.locator('.card .price').allTextContents();
      const first = await prices();
      assert.ok(
        first.every((price) => /^\d[\d,]*\.\d\d$/.test(price)),
        first.join(' '),
      );
      await page.waitForFunction(
        (first) =>
          Array.from((globalThis as Dom).document.querySelectorAll('.card .price')).filter(
            (node, i) => node.textContent !== first[i],
          ).length >= 25,
        first,
      );
      assert.ok((await page.locator('.card.up').count()) + (await page.locator('.card.down').count()) > 0);

      await rate(page, 'rate-messages');
      const stats = await nextSample(page);
      // 300 ticks/s are published; the page shows what it got over the last second. Generous bounds: two
      // cores, other suites running, a late timer in either process (the ticker then catches up, so a
      // second may carry up to twice the rate).
      const messages = stats.get('rate-messages');
      assert.ok(messages >= 60 && messages <= 1200, stats.text);
      assert.ok(stats.get('rate-bytes') > 0, stats.text);
      const frames = stats.get('rate-frames');
      assert.ok(frames > 0 && frames <= 60, stats.text);
      // The batch delay at work: many ticks per WebSocket message (about 30 at 300/s and 100 ms).
      assert.ok(stats.get('messages-per-frame') >= 5, stats.text);
      const perMessage = stats.get('bytes-per-message');
      assert.ok(perMessage >= 20 && perMessage <= 300, stats.text);

      // What Chromium itself saw on the socket (the DevTools protocol): frames of the page's format only.
      const [expected, other] = FRAME_KINDS[TICKER_FORMAT];
      assert.ok(wire[expected] > 10, JSON.stringify(wire));
      assert.equal(wire[other], 0, JSON.stringify(wire));
      const totals = await page.locator('#totals').textContent();
      assert.match(totals ?? '', /Since the page opened: [\d,]+ messages in [\d,]+ WebSocket messages/);
      await page.screenshot(keepScreenshot(join(SCREENSHOTS, 'ticker.png')));

      // The same ticks in the other format, on a page that asks for it: text frames, and more bytes per
      // tick than MessagePack's (about 115 against 82).
      const jsonWire: Wire = { text: 0, binary: 0, bytes: 0 };
      const jsonPage = await newPage('ticker (json)', jsonWire);
      await jsonPage.goto(`http://127.0.0.1:${port}/?format=json`);
      await jsonPage.locator('body[data-format="json"][data-state="connected"]').waitFor();
      await rate(jsonPage, 'bytes-per-message');
      const json = await nextSample(jsonPage);
      assert.ok(jsonWire.text > 0 && jsonWire.binary === 0, JSON.stringify(jsonWire));
      if (TICKER_FORMAT === 'msgpack') {
        assert.ok(json.get('bytes-per-message') > perMessage, `${json.text} against ${stats.text}`);
      }

      assert.deepEqual(problems, []);
      await closePages(); // before the server stops: a page left open would only log its reconnects
      const { status, forced } = await child.terminate(10_000);
      assert.deepEqual({ status, forced }, { status: 0, forced: false }, child.describeOutput());
    },
  );

  it(
    'cursors: two tabs see each other, 50 simulated users drawn, ~1,500 messages/s, names as text',
    TEST,
    async () => {
      const { child, port } = await example('cursors', { SIM_USERS: '50', SIM_RATE: '30' });
      const base = `http://127.0.0.1:${port}`;
      const hostile = '<img src=x onerror="window.pwned=1">';
      const alice = await newPage('alice');
      const mallory = await newPage('mallory');
      await alice.goto(`${base}/?name=alice`);
      await mallory.goto(`${base}/?name=${encodeURIComponent(hostile)}`);
      for (const page of [alice, mallory]) {
        await page.locator('body[data-state="connected"]').waitFor();
        // Every simulated user is drawn, names included.
        await page.waitForFunction(
          () => (globalThis as Dom).document.querySelectorAll('.cursor.sim').length === 50,
        );
      }
      const simNames = await alice.locator('.cursor.sim .tag').allTextContents();
      assert.ok(simNames.includes('<img src=x onerror=alert(1)>'), simNames.join(' | '));
      assert.ok(simNames.includes('"><script>alert(1)</script>'), simNames.join(' | '));

      /** Move the pointer over `page`'s board for `ms`, along a circle, as fast as Playwright can. */
      const wander = async (page: Page, ms: number): Promise<void> => {
        const box = await page.locator('#board').boundingBox();
        assert.ok(box !== null);
        const until = Date.now() + ms;
        for (let i = 0; Date.now() < until; i++) {
          const angle = i / 10;
          await page.mouse.move(
            box.x + box.width * (0.5 + 0.3 * Math.cos(angle)),
            box.y + box.height * (0.5 + 0.3 * Math.sin(angle)),
          );
        }
      };
      /** Where `page` draws the cursor named `name`, once it has drawn it. */
      const whereIs = async (page: Page, name: string): Promise<string> => {
        const cursor = page.locator('.cursor:not(.sim)', { has: page.locator('.tag', { hasText: name }) });
        await cursor.waitFor();
        return `${await cursor.getAttribute('data-x')},${await cursor.getAttribute('data-y')}`;
      };

      // mallory moves: alice sees the cursor move, its name as the text it is.
      await wander(mallory, 300);
      const seen = await whereIs(alice, hostile);
      await wander(mallory, 300);
      await alice.waitForFunction(
        ({ name, seen }) =>
          Array.from((globalThis as Dom).document.querySelectorAll('.cursor:not(.sim)')).some(
            (node) => node.textContent === name && `${node.dataset['x']},${node.dataset['y']}` !== seen,
          ),
        { name: hostile, seen },
      );
      // And the other way round.
      await wander(alice, 300);
      await whereIs(mallory, 'alice');
      assert.equal(await alice.locator('#board img, #board script').count(), 0, 'a name is text, not markup');
      assert.equal(await alice.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined);

      // The rates alice's page shows while mallory keeps moving: the simulation's 1,500 positions a second
      // (plus mallory's), far fewer WebSocket messages (a step of the simulation is one batch), and mallory
      // sending no more than her 30 a second.
      const moving = wander(mallory, 3500);
      await rate(alice, 'rate-in');
      await nextSample(alice);
      const inbound = await nextSample(alice);
      await rate(mallory, 'rate-out');
      const outbound = await nextSample(mallory);
      await moving;
      const positions = inbound.get('rate-in');
      assert.ok(positions >= 500 && positions <= 2600, inbound.text);
      assert.ok(inbound.get('bytes-in') > positions * 20, inbound.text);
      const frames = inbound.get('frames-in');
      assert.ok(frames > 0 && frames < positions / 5, inbound.text);
      assert.equal(inbound.get('cursor-count'), 51, inbound.text);
      const sent = outbound.get('rate-out');
      assert.ok(sent >= 5 && sent <= 32, outbound.text);
      assert.ok(outbound.get('bytes-out') > 0, outbound.text);

      // Ephemeral: the server kept none of the positions.
      const history = await fetch(`${base}/api/channels/cursors/history`);
      assert.equal(history.status, 200);
      const body = (await history.json()) as { messages: unknown[]; offset: number };
      assert.deepEqual({ messages: body.messages, offset: body.offset }, { messages: [], offset: 0 });

      await alice.screenshot(keepScreenshot(join(SCREENSHOTS, 'cursors.png')));
      assert.deepEqual(problems, []);
      await closePages(); // before the server stops: a page left open would only log its reconnects
      const { status, forced } = await child.terminate(10_000);
      assert.deepEqual({ status, forced }, { status: 0, forced: false }, child.describeOutput());
    },
  );
});
