/**
 * The browser SDK (`/sdk/switchboard.js`, the esbuild bundle) in a real Chromium behind a proxy that
 * refuses WebSocket upgrades (issue 14): it falls back to SSE, and to long polling when SSE is refused
 * too, and recovers across a cut on each, with the browser's own `fetch` and WebSocket.
 * Needs Debian's Chromium (never downloads a browser); see the server's test/requirements.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../../server/test/chromium.js';
import type { Browser } from 'playwright-core';
import { startServer } from './helpers.js';
import { HttpProxy } from './http-proxy.js';
import { chromiumPath, requirement } from '../../server/test/requirements.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 20_000 };

/** What the page reports. */
interface PageReport {
  transport: string;
  received: number[];
}

/** What the page keeps between evaluations (the tests compile without the DOM library). */
interface PageGlobals {
  client: {
    transport: string;
    connect(): Promise<unknown>;
    subscribe(channel: string): {
      ready(o: object): Promise<unknown>;
      on(e: string, f: (m: { id?: number }) => void): void;
    };
    once(event: string, f: (e: { resumed: boolean }) => void): void;
    close(): void;
  };
  received: number[];
  reconnected: Promise<{ resumed: boolean }>;
  disconnected: Promise<unknown>;
}

describe('the browser SDK behind a proxy that refuses WebSocket upgrades', () => {
  let browser: Browser;
  before(async () => {
    if (needChromium.skip !== false) return;
    browser = await launchChromium(needChromium, executablePath);
  });
  after(async () => {
    await browser?.close();
  });

  for (const [expected, paths] of [
    ['sse', undefined],
    ['polling', /\/v1\/sse/],
  ] as const) {
    it(`falls back to ${expected} and recovers across a cut there`, TEST, async () => {
      const t = await startServer({ demo: true });
      const proxy = await HttpProxy.start(
        t.url,
        paths === undefined ? { upgrade: true } : { upgrade: true, paths },
      );
      const page = await browser.newPage();
      try {
        const origin = proxy.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '');
        await page.goto(`${origin}/health`);
        const transport = await page.evaluate(async (url) => {
          const sdk = (await import(`${location.origin}/sdk/switchboard.js`)) as {
            SwitchboardClient: new (url: string, options: object) => PageGlobals['client'];
          };
          const g = globalThis as unknown as PageGlobals;
          g.client = new sdk.SwitchboardClient(url, { backoff: { minDelayMs: 5, maxDelayMs: 20 } });
          g.received = [];
          await g.client.connect();
          const feed = g.client.subscribe('feed');
          feed.on('message', (m) => {
            if (m.id !== undefined) g.received.push(m.id);
          });
          await feed.ready({ timeoutMs: 3000 });
          return g.client.transport;
        }, proxy.wsUrl);
        assert.equal(transport, expected);
        assert.ok(proxy.refusedUpgrades >= 2);
        for (let i = 1; i <= 2; i++) await t.server.publish('feed', i);
        await page.waitForFunction(() => (globalThis as unknown as PageGlobals).received.length === 2);
        await page.evaluate(() => {
          const g = globalThis as unknown as PageGlobals;
          g.disconnected = new Promise((resolve) => g.client.once('disconnected', resolve));
          g.reconnected = new Promise((resolve) => g.client.once('connected', resolve));
        });
        // An outage, not just a cut: a browser retries a GET whose reused connection closed, which would
        // hide a cut from a long poll (safely: the cursor makes a retried poll lose nothing).
        proxy.refuse();
        proxy.cut();
        await page.evaluate(() => (globalThis as unknown as PageGlobals).disconnected);
        for (let i = 3; i <= 5; i++) await t.server.publish('feed', i);
        proxy.admit();
        const report = await page.evaluate(async (): Promise<PageReport & { resumed: boolean }> => {
          const g = globalThis as unknown as PageGlobals;
          const info = await g.reconnected;
          return { transport: g.client.transport, received: g.received, resumed: info.resumed };
        });
        await page.waitForFunction(() => (globalThis as unknown as PageGlobals).received.length >= 5);
        const final = await page.evaluate(() => (globalThis as unknown as PageGlobals).received);
        assert.equal(report.transport, expected);
        assert.equal(report.resumed, true);
        assert.deepEqual(final, [1, 2, 3, 4, 5]);
        await page.evaluate(() => (globalThis as unknown as PageGlobals).client.close());
      } finally {
        await page.close();
        await proxy.close();
        await t.stop();
      }
    });
  }
});
