// Twenty tabs, one connection (issue 14): with `http2: true`, twenty Chromium pages of one origin each hold
// a bare EventSource, all twenty get a message, and the server accepted a single TLS connection. The
// control: over HTTP/1.1 the same browser holds six streams of an origin at most (Chromium's per-origin
// socket pool), which is the limit the seed warns about.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ServerOptions } from '../src/index.js';
import { startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';
import { chromiumPath, opensslPath, requirement } from './requirements.js';
import { selfSigned } from './self-signed.js';
import type { SelfSigned } from './self-signed.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const needOpenssl = requirement('openssl', opensslPath() !== undefined);
const skip = needChromium.skip !== false ? needChromium.skip : needOpenssl.skip;
const TEST = { skip, timeout: 60_000 };
const TABS = 20;

/** The DOM the page script uses. */
interface MiniDocument {
  readonly body: { textContent: string };
}

type Tagged = { got?: Promise<string> };

async function startTls(
  cert: SelfSigned,
  options: ServerOptions,
): Promise<{ t: TestServer; origin: string; tls: () => number }> {
  const t = await startServer({ tls: { certFile: cert.certFile, keyFile: cert.keyFile }, ...options });
  let count = 0;
  (t.server.httpServer as unknown as EventEmitter).on('secureConnection', () => count++);
  return { t, origin: `https://127.0.0.1:${t.server.port}`, tls: () => count };
}

/** Open a bare EventSource on `path` in `page`; its first message lands in `globalThis.got` and the page. */
function listen(page: Page, path: string): Promise<void> {
  return page.evaluate((url) => {
    const doc = (globalThis as unknown as { document: MiniDocument }).document;
    (globalThis as Tagged).got = new Promise<string>((resolve) => {
      const source = new EventSource(url);
      source.onmessage = (event) => {
        doc.body.textContent = `tab received ${event.data as string}`;
        resolve(event.data as string);
      };
    });
  }, path);
}

/** The protocol the page was loaded over, as the browser reports it ('h2', 'http/1.1'). */
function nextHopProtocol(): string {
  const performance = (
    globalThis as unknown as {
      performance: { getEntriesByType(type: string): { nextHopProtocol?: string }[] };
    }
  ).performance;
  return performance.getEntriesByType('navigation')[0]?.nextHopProtocol ?? '';
}

describe('twenty tabs of one origin over HTTP/2', () => {
  let browser: Browser;
  let cert: SelfSigned;
  before(async () => {
    if (skip !== false) return;
    needChromium.assert();
    needOpenssl.assert();
    cert = selfSigned();
    browser = await chromium.launch({
      executablePath: executablePath ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
  });
  after(async () => {
    await browser?.close();
    cert?.remove();
  });

  it('holds twenty EventSource streams on one TLS connection, and each gets the message', TEST, async () => {
    const { t, origin, tls } = await startTls(cert, { http2: true });
    const context: BrowserContext = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const pages = await Promise.all(
        Array.from({ length: TABS }, async () => {
          const page = await context.newPage();
          await page.goto(`${origin}/health`);
          await listen(page, '/sse/tabs');
          return page;
        }),
      );
      await waitMembers(t, 'tabs', TABS);
      await t.server.publish('tabs', { n: 1 });
      const got = await Promise.all(pages.map((page) => page.evaluate(() => (globalThis as Tagged).got)));
      assert.deepEqual(
        got,
        Array.from({ length: TABS }, () => '{"n":1}'),
      );
      assert.equal(tls(), 1, 'every tab on one TLS connection');
      const protocols = await Promise.all(pages.map((page) => page.evaluate(nextHopProtocol)));
      assert.deepEqual(new Set(protocols), new Set(['h2']));
      assert.equal(t.server.stats().connections, TABS);
      await pages[TABS - 1]?.screenshot({ path: join(tmpdir(), 'http2-twenty-tabs.png') });
    } finally {
      await context.close();
      await t.stop();
    }
  });

  it('the control: over HTTP/1.1 the browser holds six streams of the origin, not twenty', TEST, async () => {
    const { t, origin } = await startTls(cert, {});
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/health`);
      await page.evaluate((count) => {
        for (let i = 0; i < count; i++) new EventSource('/sse/tabs');
      }, TABS);
      await waitMembers(t, 'tabs', 6);
      // The other fourteen wait in the browser for a socket: give them time to show up if they could.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(t.server.stats().connections, 6);
    } finally {
      await context.close();
      await t.stop();
    }
  });
});
