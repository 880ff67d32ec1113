/**
 * The operations routes: `/health` (the process is up; `degraded` with reasons), `/ready` (it should get traffic), `/stats` (this
 * node and the cluster, behind the API key when one is set), `/metrics` (Prometheus), the demo page and the
 * browser SDK it imports (`/sdk/switchboard.js`).
 * Documented in docs/http-api.md and docs/operations.md.
 */
import { ErrorCode } from '@switchboard/protocol';
import { refuseRequest } from './api-key.js';
import type { ApiKeyGuard } from './api-key.js';
import type { DemoPage } from './demo-page.js';
import type { HealthReport } from '../metrics/process-health.js';
import { sendError, sendJson } from './http-utils.js';
import type { Router } from './router.js';
import { sendStaticAsset } from './static-asset.js';

/** Whether the server should get traffic; `/ready` answers 503 with the reason while it should not. */
export interface Readiness {
  readonly ready: boolean;
  /** `ready`, `not_ready`, or the server's state while it is not running (`starting`, `stopping`, ...). */
  readonly status: string;
  readonly reason?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What the operations routes read: the server, through this interface only. */
export interface OpsSource {
  readiness(): Readiness;
  /** The /health document: `ok` or `degraded` with reasons (always answered 200). */
  health(): HealthReport;
  /** This node's /stats document. */
  stats(): object;
  /** Counts across every node (rejects while the shared backend is away). */
  clusterCounts(): Promise<object>;
  /** The Prometheus exposition, or null when this server's metrics export none. */
  renderMetrics(): Promise<{ contentType: string; body: string } | null>;
  /** The demo page, once loaded; null until then. */
  demoPage(): DemoPage | null;
}

/** Which optional routes to serve. */
export interface OpsRouteOptions {
  /** Guards `/stats` when an API key is configured. */
  readonly guard: ApiKeyGuard;
  /** Serve `/metrics`. */
  readonly metrics: boolean;
  /** Serve the demo page at `/`, and the browser SDK it uses at `/sdk/switchboard.js` (+ `.map`). */
  readonly demo: boolean;
}

/** Register the operations routes on `router`. */
export function addOpsRoutes(router: Router, source: OpsSource, options: OpsRouteOptions): void {
  // Degraded is still 200: a liveness probe must not restart a busy process (see process-health.ts).
  router.add('GET', '/health', ({ res }) => sendJson(res, 200, source.health()));
  router.add('GET', '/ready', ({ res }) => {
    const { ready, ...body } = source.readiness();
    sendJson(res, ready ? 200 : 503, body);
  });
  router.add('GET', '/stats', async ({ req, res }) => {
    const refusal = options.guard.check(req);
    if (refusal !== null) {
      refuseRequest(req, res, refusal);
      return;
    }
    const local = source.stats();
    // The cluster figures need the shared backend; when it is away /stats still answers for this node.
    const cluster = await source.clusterCounts().then(
      (counts) => ({ cluster: counts }),
      (error: unknown) => ({
        cluster: null,
        clusterError: error instanceof Error ? error.message : String(error),
      }),
    );
    sendJson(res, 200, { ...local, ...cluster });
  });
  if (options.metrics) {
    router.add('GET', '/metrics', async ({ res }) => {
      const rendered = await source.renderMetrics();
      if (rendered === null) {
        sendError(res, ErrorCode.NotAvailable, 'metrics are not exported by this server', 404);
        return;
      }
      res.writeHead(200, { 'content-type': rendered.contentType, 'cache-control': 'no-store' });
      res.end(rendered.body);
    });
  }
  if (options.demo) {
    router.add('GET', '/', ({ res }) => {
      const page = source.demoPage();
      if (page === null) {
        sendError(res, ErrorCode.NotAvailable, 'the demo page is not loaded', 503);
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.body.length,
        'content-security-policy': page.csp,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(page.body);
    });
    const sdkRoute = (path: string, pick: (page: DemoPage) => DemoPage['sdk']): void => {
      router.add('GET', path, ({ req, res }) => {
        const page = source.demoPage();
        const asset = page === null ? null : pick(page);
        if (asset === null) {
          const why =
            page === null ? 'the demo page is not loaded' : 'the browser SDK was not built (npm run build)';
          sendError(res, ErrorCode.NotAvailable, why, page === null ? 503 : 404);
          return;
        }
        sendStaticAsset(req, res, asset);
      });
    };
    sdkRoute('/sdk/switchboard.js', (page) => page.sdk);
    sdkRoute('/sdk/switchboard.js.map', (page) => page.sdkSourceMap);
  }
}
