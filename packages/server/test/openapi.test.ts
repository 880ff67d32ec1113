// docs/openapi.yaml, checked by a real validator (Redocly CLI, pinned in the root package.json) and against
// the server: every route the router registers (ticket route, metrics and demo page included) is documented
// with its method, and every documented operation is answered by a live server.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '@switchboard/protocol';
import { Router } from '../src/http/router.js';
import { addRoutes } from '../src/http/routes.js';
import type { ApiOperations } from '../src/http/api-routes.js';
import type { QueueApi } from '../src/http/queue-routes.js';
import type { DeliveryOperations } from '../src/http/delivery-routes.js';
import type { OpsSource } from '../src/http/ops-routes.js';
import type { AdminApi } from '../src/http/admin-routes.js';
import { AdminSessions } from '../src/http/admin-session.js';
import type { SseAcceptor } from '../src/http/sse-endpoint.js';
import type { SessionAcceptor } from '../src/http/http-session-endpoint.js';
import type { Handshake } from '../src/transports/handshake.js';
import { TokenAuthenticator } from '../src/auth/token-authenticator.js';
import { TrustedProxies } from '../src/transports/client-ip.js';
import { resolveLimits } from '../src/limits/resolved-limits.js';
import { NoopMetrics, silentLogger } from '../src/index.js';
import { systemClock } from '../src/util/clock.js';
import { Tracing } from '../src/tracing/tracing.js';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { SECRET } from './auth-fixtures.js';

const SPEC = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));
const REDOCLY = join(
  dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin',
  'cli.js',
);
/** No telemetry and no update check: CI reaches the npm registry and Debian's mirrors only. */
const REDOCLY_ENV = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Paths the WebSocket endpoint serves rather than the router (their upgrades and, without an Upgrade
 * header, their plain GETs): documented, but not in the router's list.
 */
const WEBSOCKET_PATHS = new Set(['/ws', '/ws/{room}']);

function redocly(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [REDOCLY, ...args], {
    // The repository root, where Redocly finds .redocly.lint-ignore.yaml.
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    encoding: 'utf8',
    env: REDOCLY_ENV,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Spec {
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly schemas: { readonly ErrorCode: { readonly enum: string[] } } };
}

/** The spec as Redocly's own parser reads it (bundled to JSON). */
function loadSpec(): Spec {
  const bundled = redocly(['bundle', SPEC, '--ext', 'json']);
  assert.equal(bundled.status, 0, `redocly bundle failed:\n${bundled.stderr}`);
  return JSON.parse(bundled.stdout) as Spec;
}

/** `METHOD /path/{param}` for each documented operation. */
function documentedOperations(spec: Spec): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) if (item[method] !== undefined) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

/** Every route the router holds with every optional route on: ticket route, metrics, demo page, admin. */
function registeredRoutes(): Set<string> {
  const router = new Router();
  // Only registered, never called: the sources behind the routes are not needed.
  const unused = {} as OpsSource & ApiOperations & DeliveryOperations & QueueApi;
  addRoutes(router, {
    ...resolveLimits({}),
    apiKey: 'key',
    apiInsecure: false,
    basePath: '',
    metricsEndpoint: true,
    demo: true,
    ops: unused,
    tracing: new Tracing('test'),
    api: unused,
    queues: unused,
    webhooks: { deadLetters: () => [], droppedDeadLetters: 0 },
    tokenAuthenticator: new TokenAuthenticator({ secret: SECRET }),
    sse: { handshake: {} as Handshake, acceptor: {} as SseAcceptor & SessionAcceptor },
    trustedProxies: new TrustedProxies(),
    metrics: new NoopMetrics(),
    logger: silentLogger,
    clock: systemClock,
    admin: {
      api: {} as AdminApi,
      sessions: new AdminSessions(Buffer.alloc(32), 60_000, systemClock),
      checkPassword: () => false,
      page: () => null,
    },
  });
  const routes = router.list();
  assert.ok(routes.length > 10, 'the router lists its routes');
  // `/api/channels/:channel` is `/api/channels/{channel}` in OpenAPI, and so is a rest segment `/ws/*room`.
  return new Set(routes.map((r) => `${r.method} ${r.pattern.replace(/[:*]([A-Za-z]+)/g, '{$1}') || '/'}`));
}

describe('docs/openapi.yaml', () => {
  test('redocly lint finds no error and no warning', () => {
    const linted = redocly(['lint', SPEC, '--format', 'json']);
    const report = JSON.parse(linted.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
    };
    const problems = report.problems
      .map((p) => `${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`)
      .join('\n');
    assert.equal(report.totals.errors, 0, problems);
    assert.equal(report.totals.warnings, 0, problems);
    assert.equal(linted.status, 0, linted.stderr);
  });

  const spec = loadSpec();

  test('every route the server registers is documented with its method', () => {
    const documented = documentedOperations(spec);
    const missing = [...registeredRoutes()].filter((route) => !documented.has(route));
    assert.deepEqual(missing, [], `not in docs/openapi.yaml: ${missing.join(', ')}`);
  });

  test('every documented operation is a registered route (or a WebSocket endpoint)', () => {
    const registered = registeredRoutes();
    const extra = [...documentedOperations(spec)].filter((operation) => {
      const path = operation.slice(operation.indexOf(' ') + 1);
      return !registered.has(operation) && !WEBSOCKET_PATHS.has(path);
    });
    assert.deepEqual(extra, [], `documented, but no route: ${extra.join(', ')}`);
  });

  test('every operation documents the 405 its path answers to other methods, and a channel route its 400', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of METHODS) {
        const operation = item[method] as { responses?: Record<string, unknown> } | undefined;
        if (operation === undefined || WEBSOCKET_PATHS.has(path)) continue;
        const responses = operation.responses ?? {};
        if (responses['405'] === undefined) missing.push(`${method.toUpperCase()} ${path}: 405`);
        if (path.includes('{channel}') && responses['400'] === undefined)
          missing.push(`${method.toUpperCase()} ${path}: 400`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('the error code list is the protocol’s', () => {
    assert.deepEqual([...spec.components.schemas.ErrorCode.enum].sort(), Object.values(ErrorCode).sort());
  });

  describe('a live server answers every documented operation', () => {
    let t: TestServer;
    before(async () => {
      const admin = { password: 'an admin password' };
      t = await startServer({ auth: { secret: SECRET }, metricsEndpoint: true, demo: true, admin });
    });
    after(() => t?.stop());

    // A 404 of the route itself (`not_found`: no such dead letter) is an answer; the router's is not.
    test('none is a 404 of the router or a 405', async () => {
      for (const operation of documentedOperations(spec)) {
        const [method = '', path = ''] = operation.split(' ');
        if (WEBSOCKET_PATHS.has(path)) continue;
        const url = `${t.httpUrl}${path.replace(/\{[A-Za-z]+\}/g, 'sample')}`;
        const body = method === 'POST' ? JSON.stringify({ channel: 'sample', data: {} }) : undefined;
        const response = await fetch(url, {
          method,
          ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
        });
        const text = await response.text();
        assert.ok(
          (response.status !== 404 || !text.includes('no such route')) && response.status !== 405,
          `${operation} answered ${response.status}`,
        );
      }
    });
  });
});
