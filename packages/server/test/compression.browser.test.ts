// permessage-deflate with Chromium's own WebSocket: the browser negotiates it (its default offer), reads
// the shared compressed frames of a fan-out, large and small, many in a row, beside a client that did not
// negotiate it; and what the browser sends compressed is inflated by the server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { TestClient, startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';
import { chromiumPath, requirement } from './requirements.js';
import WebSocket from 'ws';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 60_000 };

/** A ticker-like payload: JSON with repeated keys, well over the threshold for `count` of 20 and more. */
function ticks(count: number, seq: number): { rows: { symbol: string; price: number; volume: number }[] } {
  const rows = [];
  for (let i = 0; i < count; i++)
    rows.push({ symbol: `SYM${i % 20}`, price: 100 + i + seq, volume: 1000 * i });
  return { rows };
}

describe('permessage-deflate in Chromium', () => {
  let browser: Browser;
  let t: TestServer;
  before(async () => {
    if (needChromium.skip !== false) return;
    browser = await launchChromium(needChromium, executablePath);
    t = await startServer({ compression: { enabled: true } });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** A page whose WebSocket is open on /ws, keeping every frame it reads; resolves with the handshake's extensions. */
  async function openPage(): Promise<{ page: Page; extensions: Promise<string> }> {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const extensions = new Promise<string>((resolve) => {
      cdp.on('Network.webSocketHandshakeResponseReceived', (event) => {
        const headers = event.response.headers as Record<string, string>;
        const key = Object.keys(headers).find((k) => k.toLowerCase() === 'sec-websocket-extensions');
        resolve(key === undefined ? '' : (headers[key] ?? ''));
      });
    });
    await page.evaluate(async (url) => {
      const w = globalThis as unknown as { received: unknown[]; socket: WebSocket };
      w.received = [];
      const socket = (w.socket = new WebSocket(url));
      socket.onmessage = (event) => w.received.push(JSON.parse(String(event.data)));
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
    }, `${t.wsUrl}/ws`);
    return { page, extensions };
  }

  /** The page's frames of `type` once there are `count` of them. */
  async function pageFrames(page: Page, type: string, count: number): Promise<Record<string, unknown>[]> {
    await page.waitForFunction(
      ([type, count]) =>
        (globalThis as unknown as { received: { type: string }[] }).received.filter((f) => f.type === type)
          .length >= (count as number),
      [type, count] as const,
      { timeout: 20_000 },
    );
    return page.evaluate(
      (type) =>
        (globalThis as unknown as { received: Record<string, unknown>[] }).received.filter(
          (f) => f['type'] === type,
        ),
      type,
    );
  }

  it(
    'reads the shared compressed frames, large and small, many in a row, beside a plain client',
    TEST,
    async () => {
      const { page, extensions } = await openPage();
      assert.match(await extensions, /permessage-deflate/);
      assert.match(await extensions, /server_no_context_takeover/);
      await page.evaluate(() => {
        const w = globalThis as unknown as { socket: WebSocket };
        w.socket.send(JSON.stringify({ id: 1, type: 'subscribe', channel: 'ticker:chromium' }));
      });
      const plain = new TestClient(new WebSocket(`${t.wsUrl}/ws`, { perMessageDeflate: false }));
      await plain.nextOfType('connected');
      await plain.request({ id: 1, type: 'subscribe', channel: 'ticker:chromium' });
      await waitMembers(t, 'ticker:chromium', 2, 10_000);
      const sent: unknown[] = [];
      for (let i = 0; i < 60; i++) {
        const data = i % 4 === 0 ? { small: i } : ticks(20 + (i % 7) * 10, i);
        sent.push(data);
        await t.server.publish('ticker:chromium', data);
      }
      const frames = await pageFrames(page, 'message', sent.length);
      assert.deepEqual(
        frames.map((f) => f['data']),
        sent,
      );
      for (const data of sent) assert.deepEqual((await plain.nextOfType('message', 10_000))['data'], data);
      plain.close();
      await page.close();
    },
  );

  it('inflates what the browser sends compressed', TEST, async () => {
    const { page } = await openPage();
    const reader = new TestClient(new WebSocket(`${t.wsUrl}/ws`, { perMessageDeflate: false }));
    await reader.nextOfType('connected');
    await reader.request({ id: 1, type: 'subscribe', channel: 'ticker:up' });
    const sent = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? ticks(40, i) : { n: i }));
    await page.evaluate((sent) => {
      const w = globalThis as unknown as { socket: WebSocket };
      for (const data of sent) w.socket.send(JSON.stringify({ type: 'publish', channel: 'ticker:up', data }));
    }, sent);
    for (const data of sent) assert.deepEqual((await reader.nextOfType('message', 10_000))['data'], data);
    reader.close();
    await page.close();
  });
});
