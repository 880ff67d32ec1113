// The frozen tab, in a real Chromium: a page whose script is stuck (a long task, as a tab the browser froze
// or a debugger would leave it) no longer answers {"type":"ping"}, but the browser's network stack still
// answers protocol pings. With the default heartbeat proof (`application`) the server closes it with 4000;
// with `any` the protocol pongs keep it connected, which is the behaviour the default removes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from './chromium.js';
import type { Browser, Page } from 'playwright-core';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import type { DisconnectInfo, ServerOptions } from '../src/index.js';
import { chromiumPath, requirement } from './requirements.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 40_000 };

/** How long the page's script is stuck: over three heartbeat timeouts. */
const FREEZE_MS = 5000;
// Not tighter: the busy page takes a core of this two-core machine, and a heartbeat visit that comes
// late by more than the timeout minus an interval would close even a connection whose pongs count.
const HEARTBEAT = { heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1500 } as const;

/** What the page records about its socket. */
interface PageState {
  pongs: number;
  closeCode: number | null;
  lastMessageAt: number;
}

interface Frozen {
  /** How the server closed the connection during or after the freeze; null when it stayed open. */
  readonly closed: DisconnectInfo | null;
  /** The close code the page sees once its script runs again; null when its socket is still open. */
  readonly pageSaw: number | null;
  /** Application pongs the page sent before the freeze (it is a conforming room client). */
  readonly pongsBefore: number;
}

describe('a frozen browser tab', () => {
  let browser: Browser;
  before(async () => {
    if (needChromium.skip !== false) return;
    browser = await launchChromium(needChromium, executablePath);
  });
  after(async () => {
    await browser?.close();
  });

  /** Open a room socket in a page that answers pings, freeze the page's script, and report what happened. */
  async function freezeTab(options: ServerOptions): Promise<Frozen> {
    let closed: DisconnectInfo | null = null;
    const t: TestServer = await startServer({
      ...HEARTBEAT,
      ...options,
      onDisconnect: (_connection, info) => {
        closed = info;
      },
    });
    const page: Page = await browser.newPage();
    try {
      await page.goto(`${t.httpUrl}/health`);
      const pongsBefore = await page.evaluate(async (url) => {
        const state: PageState = { pongs: 0, closeCode: null, lastMessageAt: 0 };
        (globalThis as unknown as { frozenTest: PageState }).frozenTest = state;
        const ws = new WebSocket(url);
        ws.onmessage = (event) => {
          state.lastMessageAt = Date.now();
          if (event.data === '{"type":"ping"}') {
            ws.send('{"type":"pong"}');
            state.pongs++;
          }
        };
        ws.onclose = (event) => (state.closeCode = event.code);
        // A conforming client: it has answered a few pings before its script gets stuck.
        await new Promise<void>((resolve, reject) => {
          const check = setInterval(() => {
            if (state.pongs >= 3 || state.closeCode !== null) clearInterval(check);
            if (state.pongs >= 3) resolve();
            else if (state.closeCode !== null) reject(new Error(`closed ${state.closeCode} before 3 pongs`));
          }, 10);
        });
        return state.pongs;
      }, `${t.wsUrl}/ws/frozen`);
      // A long task: the page's script runs nothing else (no message events) until it ends.
      await page.evaluate((ms) => {
        setTimeout(() => {
          const end = Date.now() + ms;
          while (Date.now() < end);
        }, 0);
      }, FREEZE_MS);
      // Queued behind the long task: this runs once the script is free again. Then the page either sees
      // its socket closed (the close queued during the freeze) or a message that arrived after it.
      const thawedAt = await page.evaluate(() => Date.now());
      const handle = await page.waitForFunction(
        (since) => {
          const state = (globalThis as unknown as { frozenTest: PageState }).frozenTest;
          if (state.closeCode !== null) return { closeCode: state.closeCode };
          return state.lastMessageAt > since ? { closeCode: null } : false;
        },
        thawedAt,
        { timeout: 10_000 },
      );
      const pageSaw = ((await handle.jsonValue()) as { closeCode: number | null }).closeCode;
      return { closed, pageSaw, pongsBefore };
    } finally {
      await page.close();
      await t.stop();
    }
  }

  it(
    'is closed with 4000 by the default heartbeat proof, though its browser answers protocol pings',
    TEST,
    async () => {
      const frozen = await freezeTab({});
      assert.ok(frozen.pongsBefore >= 3);
      assert.deepEqual(frozen.closed, { code: 4000, reason: 'heartbeat timeout' });
      assert.equal(frozen.pageSaw, 4000, 'the page learns why when it wakes up');
    },
  );

  it(
    'stays connected under roomHeartbeatProof any: the browser answered the protocol pings',
    TEST,
    async () => {
      const frozen = await freezeTab({ roomHeartbeatProof: 'any' });
      assert.equal(frozen.closed, null, `closed: ${JSON.stringify(frozen.closed)}`);
      assert.equal(frozen.pageSaw, null, 'still open: a ping arrives after the freeze');
    },
  );
});
