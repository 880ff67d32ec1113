/**
 * The browser SDK (`/sdk/switchboard.js`, the esbuild bundle) with `format: 'msgpack'` in a real
 * Chromium, with the browser's own WebSocket: it negotiates `switchboard.v1.msgpack`, receives a binary
 * payload as a `Uint8Array`, and publishes one that a JSON client reads in its JSON form.
 * Needs Debian's Chromium (never downloads a browser); see the server's test/requirements.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../server/test/chromium.js';
import { chromiumPath, requirement } from '../../server/test/requirements.js';
import { SwitchboardClient } from '../src/index.js';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 20_000 };

/** What the page keeps between evaluations (the tests compile without the DOM library). */
interface PageGlobals {
  client: {
    connection: { format: string } | null;
    connect(): Promise<{ format: string }>;
    subscribe(channel: string): {
      ready(o: object): Promise<unknown>;
      on(e: string, f: (m: { data: unknown }) => void): void;
    };
    publish(channel: string, data: unknown): Promise<unknown>;
    close(): void;
  };
  received: unknown[];
}

/** A received payload as the page describes it: which constructor, and the bytes. */
interface Described {
  readonly isUint8Array: boolean;
  readonly bytes: number[];
  readonly label: unknown;
}

describe('the browser SDK with format: msgpack', () => {
  let browser: Browser;
  let t: TestServer;
  before(async () => {
    if (needChromium.skip !== false) return;
    browser = await launchChromium(needChromium, executablePath);
    t = await startServer({ demo: true });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('receives a binary payload as a Uint8Array, and sends one', TEST, async () => {
    const json = new SwitchboardClient(t.url, { WebSocket });
    await json.connect();
    const jsonFiles = json.subscribe('files');
    await jsonFiles.ready({ timeoutMs: 3000 });
    const fromPage = new Promise<unknown>((resolve) =>
      jsonFiles.on('message', (m) => {
        if ((m.data as { label?: unknown }).label === 'from chromium') resolve(m.data);
      }),
    );
    const page = await browser.newPage();
    try {
      await page.goto(t.url.replace(/^ws/, 'http').replace(/\/ws$/, '/health'));
      const format = await page.evaluate(async (url) => {
        const sdk = (await import(`${location.origin}/sdk/switchboard.js`)) as {
          SwitchboardClient: new (url: string, options: object) => PageGlobals['client'];
        };
        const g = globalThis as unknown as PageGlobals;
        g.client = new sdk.SwitchboardClient(url, { format: 'msgpack' });
        g.received = [];
        const info = await g.client.connect();
        const files = g.client.subscribe('files');
        files.on('message', (m) => g.received.push(m.data));
        await files.ready({ timeoutMs: 3000 });
        return info.format;
      }, t.url);
      assert.equal(format, 'msgpack');

      // Published as JSON ({"$base64": ...}, the HTTP API's and the library's way to send bytes).
      const bytes = [0, 1, 2, 127, 128, 254, 255];
      await t.server.publish('files', {
        label: 'from the server',
        file: { $base64: Buffer.from(bytes).toString('base64') },
      });
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).received.length === 1);
      const first = await page.evaluate((): Described => {
        const data = (globalThis as unknown as PageGlobals).received[0] as { label: unknown; file: unknown };
        return {
          isUint8Array: data.file instanceof Uint8Array,
          bytes: data.file instanceof Uint8Array ? [...data.file] : [],
          label: data.label,
        };
      });
      assert.deepEqual(first, { isUint8Array: true, bytes, label: 'from the server' });

      // Sent by the page as a Uint8Array: a JSON client reads its JSON form.
      await page.evaluate(async () => {
        const g = globalThis as unknown as PageGlobals;
        await g.client.publish('files', { label: 'from chromium', file: new Uint8Array([5, 6, 7]) });
      });
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).received.length === 2);
      const second = await page.evaluate((): Described => {
        const data = (globalThis as unknown as PageGlobals).received[1] as { label: unknown; file: unknown };
        return {
          isUint8Array: data.file instanceof Uint8Array,
          bytes: data.file instanceof Uint8Array ? [...data.file] : [],
          label: data.label,
        };
      });
      assert.deepEqual(second, { isUint8Array: true, bytes: [5, 6, 7], label: 'from chromium' });
      assert.deepEqual(await fromPage, { label: 'from chromium', file: { $base64: 'BQYH' } });
      await page.evaluate(() => (globalThis as unknown as PageGlobals).client.close());
    } finally {
      await page.close();
      json.close();
    }
  });
});
