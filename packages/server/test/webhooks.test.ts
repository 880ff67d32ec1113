/**
 * Signed webhooks against a real HTTP receiver on port 0: the signature verifies, a target answering 500
 * is retried and then dead-lettered, a hanging target times out and is retried, and neither delays the
 * events of another target; past the pending bound events are dead-lettered as queue_full.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ADMISSION_LIMITS_OFF,
  Webhooks,
  verifyWebhookSignature,
  PrometheusMetrics,
  systemClock,
  InvalidOptionError,
} from '../src/index.js';
import type { WebhookDeliveryOptions, WebhookEvent, WebhookTarget } from '../src/index.js';
import { connect, metricSample, queryUserAuthenticator, recordingLogger, startServer } from './helpers.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A receiver whose answer per path the test chooses: a status, or 'hang' (never answers). */
class Receiver {
  readonly received: Received[] = [];
  readonly answers = new Map<string, number | 'hang'>();
  private readonly hanging = new Set<ServerResponse>();
  private waiters: (() => void)[] = [];
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        for (const wake of this.waiters.splice(0)) wake();
        const answer = this.answers.get(path) ?? 204;
        if (answer === 'hang') this.hanging.add(res);
        else res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  of(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests reached `path`. */
  async requests(path: string, count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.of(path).length < count) {
      if (Date.now() > deadline)
        throw new Error(`${this.of(path).length} requests to ${path}, expected ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.of(path);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

const FAST: WebhookDeliveryOptions = { maxAttempts: 3, minBackoffMs: 10, maxBackoffMs: 50, timeoutMs: 300 };

describe('webhooks', () => {
  let receiver: Receiver;
  let webhooks: Webhooks | undefined;
  afterEach(async () => {
    await webhooks?.close();
    webhooks = undefined;
    await receiver.stop();
  });

  async function setUp(targets: (base: string) => WebhookTarget[], options: WebhookDeliveryOptions = FAST) {
    receiver = new Receiver();
    const base = await receiver.start();
    const metrics = new PrometheusMetrics();
    const { logger, lines } = recordingLogger();
    webhooks = new Webhooks(targets(base), options, { metrics, logger, clock: systemClock });
    return { webhooks, metrics, lines };
  }

  async function counter(metrics: PrometheusMetrics, event: string, outcome: string): Promise<number> {
    const text = (await metrics.render()).body;
    return metricSample(text, `switchboard_webhooks_total{event="${event}",outcome="${outcome}"}`) ?? 0;
  }

  it('POSTs { type, id, time, data } signed; verifyWebhookSignature accepts it and refuses tampering', async () => {
    const { webhooks } = await setUp((base) => [{ url: `${base}/ok`, secret: 's3cret' }]);
    webhooks.emit('user.offline', { userId: 'ann' });
    const [request] = await receiver.requests('/ok', 1);
    assert.ok(request !== undefined);
    const body = JSON.parse(request.body) as Record<string, unknown>;
    assert.equal(body['type'], 'user.offline');
    assert.deepEqual(body['data'], { userId: 'ann' });
    assert.equal(typeof body['id'], 'string');
    assert.ok(!Number.isNaN(Date.parse(String(body['time']))));
    assert.equal(request.headers['switchboard-webhook-id'], body['id']);
    assert.equal(request.headers['content-type'], 'application/json');
    const signature = String(request.headers['switchboard-signature']);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature('s3cret', signature, request.body, 300), true);
    assert.equal(verifyWebhookSignature('wrong', signature, request.body, 300), false);
    assert.equal(verifyWebhookSignature('s3cret', signature, request.body.replace('ann', 'bob'), 300), false);
    assert.equal(verifyWebhookSignature('s3cret', undefined, request.body), false);
    assert.equal(verifyWebhookSignature('s3cret', 'garbage', request.body), false);
    // Too old: outside the tolerance.
    assert.equal(verifyWebhookSignature('s3cret', signature, request.body, 300, Date.now() + 301_000), false);
  });

  it('a target answering 500 is retried, then dead-lettered; other targets are not delayed', async () => {
    const { webhooks, metrics, lines } = await setUp((base) => [
      { url: `${base}/fail`, secret: 'a' },
      { url: `${base}/ok`, secret: 'b', events: ['dead_letter'] },
    ]);
    receiver.answers.set('/fail', 500);
    webhooks.emit('user.offline', { userId: 'ann' });
    webhooks.emit('dead_letter', { kind: 'inbox', userId: 'ann' });
    await receiver.requests('/ok', 1); // goes out while /fail is still being retried
    const attempts = await receiver.requests('/fail', 6);
    assert.equal(
      new Set(attempts.map((r) => r.headers['switchboard-webhook-id'])).size,
      2,
      'one id per event',
    );
    assert.equal(attempts.filter((r) => JSON.parse(r.body).type === 'user.offline').length, 3);
    while (webhooks.pendingCount > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const letters = webhooks.deadLetters();
    assert.equal(letters.length, 2);
    assert.deepEqual(
      letters.map((l) => [l.reason, l.attempts, l.error]),
      [
        ['failed', 3, 'HTTP 500'],
        ['failed', 3, 'HTTP 500'],
      ],
    );
    assert.equal(await counter(metrics, 'user.offline', 'retried'), 2);
    assert.equal(await counter(metrics, 'user.offline', 'dead_lettered'), 1);
    assert.equal(await counter(metrics, 'dead_letter', 'delivered'), 1);
    assert.equal(lines.filter((l) => l.level === 'warn' && l.msg === 'webhook dead-lettered').length, 2);
    assert.equal(receiver.of('/ok').length, 1, 'the events option filters');
  });

  it('a hanging target times out and is retried, without delaying the other target', async () => {
    const { webhooks, metrics } = await setUp((base) => [
      { url: `${base}/hang`, secret: 'a' },
      { url: `${base}/ok`, secret: 'b' },
    ]);
    receiver.answers.set('/hang', 'hang');
    webhooks.emit('inbox.undelivered', { userId: 'ann' });
    await receiver.requests('/ok', 1);
    // Delivered while the hanging target's first attempt is still waiting for its timeout.
    assert.equal(receiver.of('/hang').length <= 1, true);
    await receiver.requests('/hang', 2); // a second attempt after the first timed out
    receiver.answers.set('/hang', 200);
    await receiver.requests('/hang', 3);
    while (webhooks.pendingCount > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(webhooks.deadLetters().length, 0);
    assert.equal(await counter(metrics, 'inbox.undelivered', 'retried'), 2);
    assert.equal(await counter(metrics, 'inbox.undelivered', 'delivered'), 2);
  });

  it('past maxPending, events are dead-lettered as queue_full; the log keeps the newest deadLetterLimit', async () => {
    const { webhooks, metrics } = await setUp((base) => [{ url: `${base}/hang`, secret: 'a' }], {
      ...FAST,
      timeoutMs: 60_000,
      maxPending: 2,
      deadLetterLimit: 3,
    });
    receiver.answers.set('/hang', 'hang');
    for (let n = 0; n < 6; n++) webhooks.emit('user.offline', { n });
    assert.equal(webhooks.pendingCount, 2);
    const letters = webhooks.deadLetters();
    assert.deepEqual(
      letters.map((l) => [l.reason, JSON.parse(l.body).data.n]),
      [
        ['queue_full', 3],
        ['queue_full', 4],
        ['queue_full', 5],
      ],
    );
    assert.equal(webhooks.droppedDeadLetters, 1);
    assert.equal(await counter(metrics, 'user.offline', 'queue_full'), 4);
  });

  it('a server POSTs user.offline to its webhooks and lists their dead letters (library and HTTP)', async () => {
    receiver = new Receiver();
    const base = await receiver.start();
    receiver.answers.set('/gone', 410);
    const apiKey = 'webhook-test-api-key-0123456789';
    const t = await startServer({
      ...ADMISSION_LIMITS_OFF,
      apiKey,
      presenceGraceMs: 50,
      authenticator: queryUserAuthenticator,
      logger: recordingLogger().logger,
      webhooks: [
        { url: `${base}/ok`, secret: 'k', events: ['user.offline'] },
        { url: `${base}/gone`, secret: 'k', events: ['user.offline'] },
      ],
      webhookDelivery: { ...FAST, maxAttempts: 1 },
    });
    try {
      const ann = await connect(`${t.wsUrl}/ws?user=ann`);
      await ann.nextOfType('connected');
      ann.close();
      const [request] = await receiver.requests('/ok', 1);
      assert.ok(request !== undefined);
      assert.deepEqual(JSON.parse(request.body).data, { userId: 'ann' });
      assert.ok(
        verifyWebhookSignature('k', request.headers['switchboard-signature'] as string, request.body),
      );
      await receiver.requests('/gone', 1);
      while (t.server.webhooks.pendingCount > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        t.server.webhooks.deadLetters().map((l) => [l.type, l.url, l.error]),
        [['user.offline', `${base}/gone`, 'HTTP 410']],
      );
      const url = `${t.httpUrl}/api/webhooks/dead-letters`;
      const refused = await fetch(url);
      assert.equal(refused.status, 401);
      await refused.arrayBuffer();
      const listed = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
      assert.equal(listed.status, 200);
      const answer = (await listed.json()) as { deadLetters: Record<string, unknown>[]; dropped: number };
      assert.equal(answer.dropped, 0);
      assert.deepEqual(
        answer.deadLetters.map((l) => [l['type'], l['url'], l['attempts'], l['reason'], l['error']]),
        [['user.offline', `${base}/gone`, 1, 'failed', 'HTTP 410']],
      );
      assert.deepEqual(JSON.parse(String(answer.deadLetters[0]?.['body'])).data, { userId: 'ann' });
      const wrongMethod = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}` },
      });
      assert.equal(wrongMethod.status, 405);
      await wrongMethod.arrayBuffer();
    } finally {
      await t.stop();
    }
  });

  it('refuses bad options with InvalidOptionError', () => {
    const deps = { metrics: new PrometheusMetrics(), logger: recordingLogger().logger, clock: systemClock };
    assert.throws(() => new Webhooks([{ url: 'ftp://x', secret: 'a' }], {}, deps), InvalidOptionError);
    assert.throws(() => new Webhooks([{ url: 'http://x', secret: '' }], {}, deps), InvalidOptionError);
    const events = ['nope'] as unknown as readonly WebhookEvent[];
    assert.throws(
      () => new Webhooks([{ url: 'http://x', secret: 'a', events }], {}, deps),
      InvalidOptionError,
    );
    assert.throws(() => new Webhooks([], { maxAttempts: 0 }, deps), InvalidOptionError);
    assert.throws(() => new Webhooks([], { timeoutMs: 1.5 }, deps), InvalidOptionError);
  });
});
