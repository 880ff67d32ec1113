// A bare EventSource in a real Chromium (issue 14): the server cuts the stream mid-way, messages are
// published while the page is away, and the browser's own reconnect (Last-Event-ID) brings every message
// exactly once, in order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from './chromium.js';
import type { Browser } from 'playwright-core';
import { startServer, until, waitMembers } from './helpers.js';
import { chromiumPath, requirement } from './requirements.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 20_000 };

/** What the page records. */
interface PageState {
  received: number[];
  lastEventIds: string[];
  opens: number;
  gaps: number;
}

/** The DOM the page script uses. */
interface MiniDocument {
  readonly body: { innerHTML: string };
  getElementById(id: string): { append(node: object): void } | null;
  createElement(tag: string): { textContent: string };
}

describe('a bare EventSource on /sse/:channel', () => {
  let browser: Browser;
  before(async () => {
    if (needChromium.skip !== false) return;
    browser = await launchChromium(needChromium, executablePath);
  });
  after(async () => {
    await browser?.close();
  });

  it('sees every message once, in order, across a cut the server makes', TEST, async () => {
    const streams: string[] = [];
    const t = await startServer({
      sseRetryMs: 100,
      onConnect: (connection) => {
        if (connection.transport === 'sse') streams.push(connection.id);
      },
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${t.httpUrl}/health`);
      await page.evaluate(() => {
        const state: PageState = { received: [], lastEventIds: [], opens: 0, gaps: 0 };
        (globalThis as unknown as { sse: PageState }).sse = state;
        // The tests compile without the DOM library: the few calls the page makes, typed here.
        const doc = (globalThis as unknown as { document: MiniDocument }).document;
        doc.body.innerHTML = '<h1>job</h1><ol id="log"></ol>';
        const log = doc.getElementById('log');
        const source = new EventSource('/sse/job');
        source.onopen = () => state.opens++;
        source.addEventListener('gap', () => state.gaps++);
        source.onmessage = (event) => {
          const n = (JSON.parse(event.data as string) as { n: number }).n;
          state.received.push(n);
          state.lastEventIds.push(event.lastEventId);
          const item = doc.createElement('li');
          item.textContent = `message ${n} (id ${event.lastEventId})`;
          log?.append(item);
        };
      });
      const state = (): Promise<PageState> =>
        page.evaluate(() => (globalThis as unknown as { sse: PageState }).sse);
      const received = async (count: number): Promise<void> => {
        const deadline = Date.now() + 5000;
        while ((await state()).received.length < count) {
          if (Date.now() > deadline) throw new Error(`the page never received ${count} messages`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitMembers(t, 'job', 1);
      for (const n of [1, 2, 3]) await t.server.publish('job', { n });
      await received(3);
      // The server cuts the stream; what is published before the browser is back waits in history.
      await t.server.disconnectConnection(streams[0] ?? '');
      await until(() => t.server.stats().connections === 0, 3000, 'the cut');
      for (const n of [4, 5, 6]) await t.server.publish('job', { n });
      await received(6);
      await waitMembers(t, 'job', 1);
      await t.server.publish('job', { n: 7 });
      await received(7);
      const final = await state();
      assert.deepEqual(final.received, [1, 2, 3, 4, 5, 6, 7]);
      assert.equal(final.opens, 2, 'one reconnect');
      assert.equal(final.gaps, 0);
      assert.equal(new Set(final.lastEventIds).size, 7, 'every message has its own id');
      assert.equal(streams.length, 2);
      await page.screenshot({ path: join(tmpdir(), 'sse-browser-cut.png') });
    } finally {
      await page.close();
      await t.stop();
    }
  });

  it('resumes every channel of a multi-channel stream from one Last-Event-ID', TEST, async () => {
    const streams: string[] = [];
    const t = await startServer({
      sseRetryMs: 100,
      onConnect: (connection) => {
        if (connection.transport === 'sse') streams.push(connection.id);
      },
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${t.httpUrl}/health`);
      await page.evaluate(() => {
        const seen: string[] = [];
        (globalThis as unknown as { seen: string[] }).seen = seen;
        const source = new EventSource('/sse?channel=prices&channel=alerts');
        source.addEventListener('gap', () => seen.push('gap'));
        source.onmessage = (event) => seen.push((JSON.parse(event.data as string) as { m: string }).m);
      });
      const seen = async (count: number): Promise<string[]> => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const list = await page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen);
          if (list.length >= count) return list;
          if (Date.now() > deadline) throw new Error(`the page saw only ${list.join(',')}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitMembers(t, 'alerts', 1);
      await t.server.publish('prices', { m: 'p1' });
      await t.server.publish('alerts', { m: 'a1' });
      await seen(2);
      await t.server.disconnectConnection(streams[0] ?? '');
      await until(() => t.server.stats().connections === 0, 3000, 'the cut');
      await t.server.publish('alerts', { m: 'a2' });
      await t.server.publish('prices', { m: 'p2' });
      await t.server.publish('prices', { m: 'p3' });
      await seen(5);
      await waitMembers(t, 'prices', 1);
      await t.server.publish('alerts', { m: 'a3' });
      // Before the cut in publication order; the replay channel by channel (alerts, then prices); live.
      assert.deepEqual(await seen(6), ['p1', 'a1', 'a2', 'p2', 'p3', 'a3']);
    } finally {
      await page.close();
      await t.stop();
    }
  });
});
