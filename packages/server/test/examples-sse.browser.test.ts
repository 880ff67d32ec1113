/**
 * The SSE demos (issue 14) as users run them: `node examples/<name>/server.mjs` on a free port, a real
 * Chromium on the page, a bare EventSource and no SDK.
 * - examples/job-progress: 10, 25, 50, 100 %, done; the process is killed (SIGKILL) mid-job and started
 *   again on the same port. With the in-memory engine the page says it missed updates (`event: gap`,
 *   epoch_changed) and reloads the job's state; with Redis it resumes from its Last-Event-ID, no gap.
 *   Either way it ends at 100 % and done, and a reconnect after the end is answered 204.
 * - examples/notifications: two users signed in with a cookie; each sees only their own notifications
 *   and nudges, rendered as text; a stream cut by the server resumes with what was published meanwhile.
 * Screenshots go to test/screenshots/example-*.png (committed, for people to look at).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { OwnedChild } from './node-process.js';
import { keepScreenshot } from './chromium.js';
import { startExample } from './example-process.js';
import { chromiumPath, requirement } from './requirements.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { openSse } from './sse-client.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);
const TEST = { skip: needChromium.skip, timeout: 40_000 };
const SCREENSHOTS = new URL('screenshots/', import.meta.url).pathname;
const screenshot = (name: string): string => join(SCREENSHOTS, `example-${name}.png`);
/**
 * What Chromium logs when an EventSource's connection fails (the killed process, a stream the server
 * cut): expected in these tests, and only these; anything else on the console is a problem.
 */
const STREAM_FAILED =
  /net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING)/;

describe('the SSE examples in Chromium', () => {
  let browser: Browser;
  let redis: RedisProcess | undefined;
  const contexts: BrowserContext[] = [];
  const children: OwnedChild[] = [];
  const problems: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'switchboard-examples-'));

  before(async () => {
    if (needChromium.skip !== false) return;
    needChromium.assert();
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: executablePath ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    if (redisRequirement.skip === false) redis = await startRedis();
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    for (const child of children) await child.kill();
    await redis?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function example(name: string, env: Record<string, string>) {
    const started = await startExample(name, env);
    children.push(started.child);
    return started;
  }

  /** A page in a fresh context (its own cookies), every page error, console error and CSP report recorded. */
  async function newPage(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 720, height: 620 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
    page.on('console', (message) => {
      const text = message.text();
      if (/content security policy/i.test(text)) problems.push(`${name}: ${text}`);
      else if (message.type() === 'error' && !STREAM_FAILED.test(text))
        problems.push(`${name}: console: ${text}`);
    });
    return page;
  }

  const items = (page: Page, selector = '#log li'): Promise<string[]> =>
    page.locator(selector).allTextContents();

  /** Start a job, kill the process once the page shows 25 %, start it again; returns the page once done. */
  async function jobAcrossRestart(tag: string, env: Record<string, string>) {
    const jobs = {
      JOBS_FILE: join(scratch, `${tag}-jobs.json`),
      STEP_MS: '700',
      SSE_RETRY_MS: '200',
      ...env,
    };
    const first = await example('job-progress', { ...jobs, PORT: '0' });
    const page = await newPage(`job-progress (${tag})`);
    await page.goto(`http://127.0.0.1:${first.port}/`);
    await page.locator('#start').click();
    await page.locator('#log li', { hasText: '25 %: exporting' }).waitFor();
    await first.child.kill('SIGKILL');
    await page.locator('body[data-state="reconnecting"]').waitFor();
    await example('job-progress', { ...jobs, PORT: String(first.port) });
    await page.locator('body[data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#percent').textContent(), '100');
    assert.equal(await page.locator('#bar').getAttribute('aria-valuenow'), '100');
    const log = await items(page);
    assert.equal(log.at(-1), 'done', log.join('\n'));
    const steps = log.flatMap((line) => /^(\d+) %: /.exec(line)?.[1] ?? []).map(Number);
    assert.deepEqual(steps.slice(0, 2), [10, 25], log.join('\n'));
    assert.deepEqual(
      [...steps].sort((a, b) => a - b),
      steps,
      `progress went back\n${log.join('\n')}`,
    );
    // The last step is a live 100 %, or (a slow reconnect after the job finished) the reloaded state's.
    assert.ok(steps.at(-1) === 100 || log.some((line) => line.endsWith('state, 100 %')), log.join('\n'));
    // The channel is completed: a new stream gets `done` at once, and a reconnect with its id gets 204.
    const id = (await page.locator('#job-id').textContent()) ?? '';
    const url = `http://127.0.0.1:${first.port}/sse/${encodeURIComponent(`job:${id}`)}`;
    const stream = await openSse(url);
    const done = await stream.expect('done');
    stream.close();
    assert.equal((await openSse(url, { 'last-event-id': done.id })).status, 204);
    return { page, log, steps };
  }

  it(
    'job-progress, in-memory engine: killed mid-job, the page says what it missed, then 100 % and done',
    TEST,
    async () => {
      const { page, log, steps } = await jobAcrossRestart('memory', {});
      // History died with the process: the reconnect is answered with the documented gap, and the page
      // reloads the job's state instead of silently skipping steps.
      const gaps = log.filter((line) => line.startsWith('Missed updates (epoch_changed): reloaded'));
      assert.equal(gaps.length, 1, log.join('\n'));
      assert.ok(log.indexOf(gaps[0] ?? '') > log.indexOf('25 %: exporting'), log.join('\n'));
      for (const step of [50, 100]) {
        // Each later step is either a live message or covered by the reloaded state before it.
        assert.ok(
          steps.includes(step) || log.some((line) => line.endsWith(`state, ${step} %`)),
          log.join('\n'),
        );
      }
      await page.screenshot(keepScreenshot(screenshot('job-progress-restart-memory')));
    },
  );

  it(
    'job-progress, Redis engine: killed mid-job, the browser’s Last-Event-ID resumes it, no gap',
    { ...TEST, skip: TEST.skip || redisRequirement.skip },
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const { page, log, steps } = await jobAcrossRestart('redis', { REDIS_URL: redis.url });
      assert.ok(!log.some((line) => line.startsWith('Missed updates')), log.join('\n'));
      // Every step, in order (a step published just before the kill may come twice: at least once).
      assert.deepEqual([...new Set(steps)], [10, 25, 50, 100], log.join('\n'));
      await page.screenshot(keepScreenshot(screenshot('job-progress-restart-redis')));
    },
  );

  it(
    'notifications: each user sees only their own, as text; a cut stream resumes with what it missed',
    TEST,
    async () => {
      const { child, port } = await example('notifications', { PORT: '0', SSE_RETRY_MS: '2500' });
      const base = `http://127.0.0.1:${port}`;
      // Not signed in: 401; signed in as someone else: 403 (the channel rule user:* is its owner's).
      assert.equal((await fetch(`${base}/sse/user:bob`)).status, 401);

      const signIn = async (user: string): Promise<{ page: Page; cookie: string }> => {
        const page = await newPage(user);
        await page.goto(`${base}/`);
        await page.locator('#user').selectOption(user);
        await page.locator('#login button').click();
        await page.locator('body[data-state="live"]').waitFor();
        assert.equal(await page.locator('#login').isVisible(), false, 'the sign-in form is gone');
        assert.equal(await page.locator('#me').textContent(), user);
        const [cookie] = await page.context().cookies();
        assert.equal(cookie?.name, 'sb_token');
        assert.equal(cookie?.httpOnly, true);
        return { page, cookie: `${cookie.name}=${cookie.value}` };
      };
      const alice = await signIn('alice');
      const bob = await signIn('bob');
      assert.equal((await fetch(`${base}/sse/user:bob`, { headers: { cookie: alice.cookie } })).status, 403);

      const send = async (page: Page, to: string, text: string, button: '#notify' | '#nudge') => {
        await page.locator('#to').selectOption(to);
        await page.locator('#text').fill(text);
        await page.locator(button).click();
      };
      await send(alice.page, 'bob', 'Your export is ready', '#notify');
      await bob.page.locator('#items li.notification', { hasText: 'Your export is ready' }).waitFor();
      await send(bob.page, 'alice', '<b>thanks</b> & <img src=x>', '#notify');
      await alice.page.locator('#items li.notification', { hasText: '<b>thanks</b>' }).waitFor();
      assert.equal(
        await alice.page.locator('#items b, #items img').count(),
        0,
        'a message is text, not markup',
      );
      await send(alice.page, 'bob', 'psst', '#nudge');
      await bob.page.locator('#items li.nudge', { hasText: 'psst' }).waitFor();
      assert.match((await items(bob.page, '#items li.nudge'))[0] ?? '', /nudgepsst from alice/);

      // The server cuts bob's stream; alice notifies and nudges him while he is away. His EventSource
      // reconnects by itself (the cookie goes along), replays the notification from its Last-Event-ID,
      // once; the nudge is live only, documented as not replayed.
      const cut = await fetch(`${base}/api/users/bob/disconnect`, { method: 'POST' });
      assert.equal(cut.status, 200);
      await bob.page.locator('body[data-state="reconnecting"]').waitFor();
      const notify = (text: string, kind: string) =>
        fetch(`${base}/notify`, {
          method: 'POST',
          headers: { cookie: alice.cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ to: 'bob', text, kind }),
        });
      assert.equal((await notify('While you were away', 'nudge')).status, 200);
      assert.equal((await notify('Sent while you were away', 'notification')).status, 200);
      await bob.page.locator('body[data-state="live"]').waitFor();
      await bob.page.locator('#items li.notification', { hasText: 'Sent while you were away' }).waitFor();
      await send(alice.page, 'bob', 'And one live', '#notify');
      await bob.page.locator('#items li.notification', { hasText: 'And one live' }).waitFor();
      const bobs = await items(bob.page, '#items li');
      assert.deepEqual(
        bobs.map((line) => line.replace(/\d{1,2}:\d{2}:\d{2}.*$/, '')),
        [
          'notificationAnd one live from alice',
          'notificationSent while you were away from alice',
          'nudgepsst from alice',
          'notificationYour export is ready from alice',
        ],
      );
      // Alice never saw bob's notifications.
      const alices = await items(alice.page, '#items li');
      assert.ok(!alices.some((line) => /ready|away|live|psst/.test(line)), alices.join('\n'));
      assert.equal(alices.length, 1);
      await bob.page.screenshot(keepScreenshot(screenshot('notifications-bob')));
      await alice.page.screenshot(keepScreenshot(screenshot('notifications-alice')));
      // SIGTERM with two open streams: the process ends them and exits 0, in bounded time.
      const { status, forced } = await child.terminate(10_000);
      assert.deepEqual({ status, forced }, { status: 0, forced: false }, child.describeOutput());
    },
  );

  it('job-progress: SIGTERM mid-job exits 0 at once, and the next start finishes the job', TEST, async () => {
    const env = { JOBS_FILE: join(scratch, 'sigterm-jobs.json'), STEP_MS: '400' };
    const first = await example('job-progress', { ...env, PORT: '0' });
    const base = `http://127.0.0.1:${first.port}`;
    const { id } = (await (await fetch(`${base}/jobs`, { method: 'POST' })).json()) as { id: string };
    const url = `${base}/sse/${encodeURIComponent(`job:${id}`)}`;
    const stream = await openSse(url);
    const ten = await stream.expect('message'); // 10 % (25 % on a slow machine)
    stream.close();
    const { status, forced } = await first.child.terminate(10_000);
    assert.deepEqual({ status, forced }, { status: 0, forced: false }, first.child.describeOutput());
    assert.doesNotMatch(first.child.describeOutput(), /failed/);
    const job = JSON.parse(readFileSync(env.JOBS_FILE, 'utf8')) as { progress: number; finishedAt: null }[];
    assert.equal(job[0]?.finishedAt, null, 'the job is left for the next start');
    await example('job-progress', { ...env, PORT: String(first.port) });
    const resumed = await openSse(url, { 'last-event-id': ten.id });
    const rest: unknown[] = [];
    for (;;) {
      const item = await resumed.next(10_000);
      if (item.kind !== 'event') continue;
      if (item.event === 'done') break;
      rest.push(item.event === 'gap' ? 'gap' : (JSON.parse(item.data) as { progress: number }).progress);
    }
    resumed.close();
    // The in-memory engine: the position from before the restart is another epoch's, said first.
    assert.equal(rest[0], 'gap');
    assert.equal(rest.at(-1), 100);
  });

  it('raised no page errors, console errors or CSP violations', TEST, () => {
    assert.deepEqual(problems, []);
  });
});
