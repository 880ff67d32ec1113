/**
 * The CLI's OTLP export: with OTEL_EXPORTER_OTLP_ENDPOINT set, the `switchboard` process registers the
 * OpenTelemetry SDK and its spans reach an OTLP/HTTP receiver (a tiny one on port 0 here): an HTTP API
 * publish with a W3C traceparent, then SIGTERM, which exports what is still batched before the exit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startNode } from './node-process.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
}

interface OtlpExport {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly { key: string; value: { stringValue?: string } }[] };
    readonly scopeSpans: readonly { readonly scope: { name: string }; readonly spans: readonly OtlpSpan[] }[];
  }[];
}

describe('switchboard CLI: OTLP export', () => {
  let receiver: Server | undefined;
  const exports: { path: string; body: OtlpExport }[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        exports.push({
          path: req.url ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString()) as OtlpExport,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it(
    'exports the API request and publish spans of one trace, flushed at SIGTERM',
    { timeout: 20_000 },
    async () => {
      const { port } = receiver?.address() as AddressInfo;
      const node = await startNode({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_SERVICE_NAME: 'switchboard-test',
        },
      });
      try {
        await node.waitForLog((entry) => entry['msg'] === 'tracing: exporting spans over OTLP');
        const response = await fetch(`${node.url}/api/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
          body: JSON.stringify({ channel: 'news', data: 'hi' }),
        });
        assert.equal(response.status, 200);
        await response.arrayBuffer();
      } finally {
        assert.equal(await node.stop(), 0);
      }
      const spans = exports.flatMap(({ path, body }) => {
        assert.equal(path, '/v1/traces');
        return body.resourceSpans.flatMap((resourceSpans) => {
          const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name');
          assert.equal(service?.value.stringValue, 'switchboard-test');
          return resourceSpans.scopeSpans.flatMap((scope) => {
            assert.equal(scope.scope.name, '@switchboard/server');
            return scope.spans;
          });
        });
      });
      const api = spans.find((span) => span.name === 'POST /api/publish');
      const publish = spans.find((span) => span.name === 'publish');
      assert.ok(api !== undefined && publish !== undefined, JSON.stringify(spans.map((s) => s.name)));
      assert.deepEqual([api.traceId, api.parentSpanId], [TRACE_ID, CALLER_SPAN]);
      assert.deepEqual([publish.traceId, publish.parentSpanId], [TRACE_ID, api.spanId]);
    },
  );
});
