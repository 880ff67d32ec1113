// nginx and HAProxy (issue 15) with exactly the configurations docs/operations.md shows, in front of two
// nodes over one Redis, no sticky sessions, TLS terminated at the proxy: the SDK over WebSocket, SSE and
// long-polling, a raw /sse/:channel stream, X-Forwarded-For through trustedProxies, /metrics refused, the
// access log without the query string, and a drain of one node whose clients come back on the other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { SwitchboardClient } from '@switchboard/client';
import type { ClientOptions } from '@switchboard/client';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { opensslPath, requirement } from './requirements.js';
import { selfSigned } from './self-signed.js';
import type { SelfSigned } from './self-signed.js';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import type { ServerOptions } from '../src/index.js';
import { queryUserAuthenticator, startServer } from './helpers.js';
import { FAST_ENGINE, NO_LIMITS, eventually, nextEvent, testScope, uniquePrefix } from './scale-helpers.js';
import type { RedisNode } from './scale-helpers.js';
import { proxyRequirements, startProxy, trustingFetch, trustingWebSocket } from './proxy-harness.js';
import type { ProxyKind, RunningProxy } from './proxy-harness.js';

const scope = testScope();
const opensslRequirement = requirement('openssl', opensslPath() !== undefined);
/** The proxy's own address towards the nodes: the only one they trust for X-Forwarded-For. */
const PROXY_ADDRESS = '127.0.0.1';
/** The clients' address (any of 127.0.0.0/8 is loopback on Linux): what the nodes must see. */
const CLIENT_ADDRESS = '127.0.0.2';

for (const kind of ['nginx', 'haproxy'] as const satisfies readonly ProxyKind[]) {
  const needs = proxyRequirements[kind];
  const skip = needs.skip || redisRequirement.skip || opensslRequirement.skip;
  describe(`behind ${kind} (docs/operations.md's configuration)`, { skip, timeout: 60_000 }, () => {
    let redis: RedisProcess | undefined;
    let tls: SelfSigned | undefined;
    let proxy: RunningProxy | undefined;
    let a: RedisNode | undefined;
    let b: RedisNode | undefined;
    // Nodes and proxy live for the suite (started once, seconds saved per test); the drain test runs last.
    const stops: (() => Promise<void>)[] = [];

    before(async () => {
      needs.assert();
      redisRequirement.assert();
      opensslRequirement.assert();
      redis = await startRedis();
      tls = selfSigned();
      const prefix = uniquePrefix();
      const server: ServerOptions = { trustedProxies: [PROXY_ADDRESS], drainMs: 300 };
      a = await startNode(redis.url, prefix, server);
      b = await startNode(redis.url, prefix, server);
      proxy = await startProxy(kind, {
        nodes: [`127.0.0.1:${a.server.port}`, `127.0.0.1:${b.server.port}`],
        tls,
      });
    });

    after(async () => {
      await proxy?.stop();
      for (const stop of stops.reverse()) await stop();
      await redis?.stop();
      tls?.remove();
    });

    /** A node for the whole suite (scope.node() would stop it after the first test). */
    async function startNode(url: string, prefix: string, server: ServerOptions): Promise<RedisNode> {
      const engine = createRedisEngine({ ...FAST_ENGINE, url, prefix });
      const t = await startServer({ ...NO_LIMITS, authenticator: queryUserAuthenticator, ...server, engine });
      stops.push(() => t.stop());
      return { ...t, engine };
    }

    function nodes(): { a: RedisNode; b: RedisNode; proxy: RunningProxy; tls: SelfSigned } {
      assert.ok(a && b && proxy && tls, 'suite not started');
      return { a, b, proxy, tls };
    }

    /** An SDK client of `user` through the proxy, from CLIENT_ADDRESS; closed after the test. */
    function client(user: string, options: ClientOptions = {}): SwitchboardClient<unknown> {
      const { proxy, tls } = nodes();
      const sdk = new SwitchboardClient<unknown>(`${proxy.wssUrl}/ws?user=${user}`, {
        WebSocket: trustingWebSocket(tls.pem, CLIENT_ADDRESS),
        fetch: trustingFetch(tls.pem, CLIENT_ADDRESS),
        backoff: { minDelayMs: 5, maxDelayMs: 50 },
        ...options,
      });
      scope.defer(() => sdk.close());
      return sdk;
    }

    /** The node holding `user`'s connection, and the other one. */
    function placement(user: string): { on: RedisNode; other: RedisNode } {
      const { a, b } = nodes();
      const onA = a.server.getUserConnections(user).length;
      const onB = b.server.getUserConnections(user).length;
      assert.equal(onA + onB, 1, `${user} has one connection (A ${onA}, B ${onB})`);
      return onA === 1 ? { on: a, other: b } : { on: b, other: a };
    }

    /** Connect `user` over `transports`, subscribe to `channel`, and receive a publication from the other node. */
    async function roundTrip(user: string, transports: ClientOptions['transports']): Promise<void> {
      const sdk = client(user, transports === undefined ? {} : { transports });
      await sdk.connect();
      if (transports?.length === 1) assert.equal(sdk.transport, transports[0]);
      const sub = sdk.subscribe(`room-${user}`);
      await sub.ready({ timeoutMs: 5000 });
      const { on, other } = placement(user);
      const info = on.server.getUserConnections(user)[0];
      assert.equal(info?.remoteAddress, CLIENT_ADDRESS, 'X-Forwarded-For read from the trusted proxy');
      const got = new Promise<unknown>((resolve) => sub.on('message', (m) => resolve(m.data)));
      await other.server.publish(`room-${user}`, { via: kind, user });
      assert.deepEqual(await got, { via: kind, user });
    }

    test('WebSocket over TLS: subscribe, and receive a publication made on the other node', async () => {
      await roundTrip('ws-user', ['websocket']);
      // Several connections spread over both nodes (round robin, no stickiness).
      const users = ['spread-1', 'spread-2', 'spread-3', 'spread-4'];
      await Promise.all(users.map((user) => client(user, { transports: ['websocket'] }).connect()));
      const onA = users.filter((user) => placement(user).on === nodes().a).length;
      assert.ok(onA > 0 && onA < users.length, `spread over both nodes (A has ${onA} of ${users.length})`);
    });

    test('the SDK over SSE and over long-polling', async () => {
      await roundTrip('sse-user', ['sse']);
      await roundTrip('poll-user', ['polling']);
    });

    test('a raw /sse/:channel stream receives', async () => {
      const { b, proxy, tls } = nodes();
      let publisher: NodeJS.Timeout | undefined;
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = httpsRequest(
            `${proxy.httpsUrl}/sse/ticker?user=sse-raw`,
            { ca: tls.pem, headers: { accept: 'text/event-stream' }, localAddress: CLIENT_ADDRESS },
            (res) => {
              if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
              assert.match(String(res.headers['content-type']), /^text\/event-stream/);
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                text += chunk;
                if (!text.includes('"tick"')) return;
                req.destroy();
                resolve(text);
              });
              // The stream subscribes as it opens, on either node: publish until an event comes through.
              publisher = setInterval(() => void b.server.publish('ticker', { tick: 1 }), 50);
            },
          );
          req.setTimeout(5000, () => req.destroy(new Error('no event within 5 s')));
          req.once('error', reject);
          req.end();
        });
        assert.match(body, /data: .*"tick":1/);
      } finally {
        clearInterval(publisher);
      }
    });

    test('/metrics refused at the proxy; the access log has no query string', async () => {
      const { proxy, tls } = nodes();
      const response = await trustingFetch(tls.pem)(`${proxy.httpsUrl}/metrics`);
      await response.text();
      assert.equal(response.status, 403);
      await eventually(() => /\/ws/.test(proxy.log()), 'a /ws line in the access log');
      assert.doesNotMatch(proxy.log(), /user=/, 'no query string in the log');
    });

    test('a drain of one node moves its clients through the proxy to the other', async () => {
      const { a, b } = nodes();
      const users = ['drain-1', 'drain-2', 'drain-3', 'drain-4'];
      const clients = users.map((user) => client(user, { transports: ['websocket'] }));
      await Promise.all(clients.map((sdk) => sdk.connect()));
      const subs = clients.map((sdk) => sdk.subscribe('after-drain'));
      await Promise.all(subs.map((sub) => sub.ready({ timeoutMs: 5000 })));
      const onA = clients.filter((_, i) => a.server.getUserConnections(users[i] ?? '').length === 1);
      assert.ok(onA.length > 0, 'some clients on A');
      const codes = onA.map((sdk) => {
        const seen: number[] = [];
        sdk.on('disconnected', (event) => seen.push(event.code));
        return seen;
      });
      const backs = onA.map((sdk) => nextEvent(sdk, 'connected'));
      await a.server.drain();
      await Promise.all(backs);
      // One close each, the drain's: the proxy sent the reconnect to B (nginx passing A's 503 on, HAProxy's
      // check or its retry-on 503), so no attempt was refused on the way.
      assert.deepEqual(
        codes,
        onA.map(() => [1012]),
      );
      for (const user of users) assert.equal(b.server.getUserConnections(user).length, 1, `${user} on B`);
      await Promise.all(subs.map((sub) => sub.ready({ timeoutMs: 5000 })));
      const got = subs.map(
        (sub) => new Promise<unknown>((resolve) => sub.on('message', (m) => resolve(m.data))),
      );
      await b.server.publish('after-drain', 'still here');
      assert.deepEqual(
        await Promise.all(got),
        users.map(() => 'still here'),
      );
      if (kind === 'haproxy') {
        const { proxy } = nodes();
        await eventually(() => /node1 is DOWN/.test(proxy.output()), 'the /ready check taking node1 out');
      }
    });
  });
}
