/**
 * OpenTelemetry tracing across two nodes over one real Redis, with the SDK's in-memory exporter: an HTTP
 * API publish on node A, whose request carries a W3C `traceparent`, and a subscriber on node B make one
 * trace: the API request's span (child of the incoming traceparent) -> the publish span -> node B's
 * fan-out span (its parent carried through Redis). An unsampled incoming trace puts nothing on the wire.
 * The global tracer provider is shared by both nodes (one process); the spans carry their node's id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { connectV1 } from './helpers.js';
import type { TestClient } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { adminClient, eventually, keysOf, messages, testScope, uniquePrefix } from './scale-helpers.js';
import type { RedisNode } from './scale-helpers.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 15_000 };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const scope = testScope();

describe('tracing across two nodes', SUITE, () => {
  let redis: RedisProcess | undefined;
  let admin: Redis | undefined;
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
    admin = adminClient(redis.url);
    // What an application (or the CLI) does: the global provider, W3C propagation, async context.
    provider.register();
  });

  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    admin?.disconnect();
    await redis?.stop();
  });

  /** Nodes A and B on the shared Redis, a v1 subscriber of `channel` on B, and a raw pub/sub listener. */
  async function setup(
    channel: string,
  ): Promise<{ a: RedisNode; b: RedisNode; subscriber: TestClient; wire: string[] }> {
    if (redis === undefined || admin === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(redis.url, prefix);
    const b = await scope.node(redis.url, prefix);
    const { client } = await connectV1(b);
    await client.request({ id: 1, type: 'subscribe', channel });
    scope.defer(() => client.close());
    // What travels on the channel's topic, as any Redis client sees it.
    const listener = admin.duplicate();
    scope.defer(() => listener.disconnect());
    const wire: string[] = [];
    const topic = keysOf(prefix).channelTopic(channel);
    listener.on('message', (from: string, message: string) => {
      if (from === topic) wire.push(message);
    });
    await listener.subscribe(topic);
    exporter.reset();
    return { a, b, subscriber: client, wire };
  }

  async function publish(node: RedisNode, channel: string, traceparent: string): Promise<number> {
    const response = await fetch(`${node.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ channel, data: { hello: 'traced' } }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
    const found = spans.filter((span) => span.name === name);
    assert.equal(found.length, 1, `one ${name} span in ${spans.map((s) => s.name).join(', ')}`);
    return found[0] as ReadableSpan;
  }

  it('API publish -> broker publish -> fan-out on the delivering node form one trace', T, async () => {
    const { a, b, subscriber, wire } = await setup('traced');
    assert.equal(await publish(a, 'traced', `00-${TRACE_ID}-${CALLER_SPAN}-01`), 200);
    assert.deepEqual(await messages(subscriber, 1), [{ id: 1, data: { hello: 'traced' } }]);
    const spans = await eventually(() => {
      const finished = exporter.getFinishedSpans();
      return finished.length >= 3 && finished;
    }, 'three finished spans');

    const api = only(spans, 'POST /api/publish');
    const publishSpan = only(spans, 'publish');
    const fanOut = only(spans, 'fan-out');
    for (const span of [api, publishSpan, fanOut]) assert.equal(span.spanContext().traceId, TRACE_ID);
    assert.equal(api.kind, SpanKind.SERVER);
    assert.equal(api.parentSpanContext?.spanId, CALLER_SPAN);
    assert.equal(api.parentSpanContext?.isRemote, true);
    assert.equal(api.attributes['http.response.status_code'], 200);
    assert.equal(api.attributes['http.route'], '/api/publish');
    assert.equal(api.attributes['switchboard.node.id'], a.server.nodeId);

    assert.equal(publishSpan.kind, SpanKind.PRODUCER);
    assert.equal(publishSpan.parentSpanContext?.spanId, api.spanContext().spanId);
    assert.equal(publishSpan.attributes['messaging.destination.name'], 'traced');
    assert.equal(publishSpan.attributes['messaging.message.id'], '1');
    assert.equal(publishSpan.attributes['switchboard.node.id'], a.server.nodeId);

    // Node B's fan-out: its parent came through Redis.
    assert.equal(fanOut.kind, SpanKind.CONSUMER);
    assert.equal(fanOut.parentSpanContext?.spanId, publishSpan.spanContext().spanId);
    assert.equal(fanOut.parentSpanContext?.isRemote, true);
    assert.deepEqual(
      {
        channel: fanOut.attributes['messaging.destination.name'],
        recipients: fanOut.attributes['switchboard.recipients'],
        node: fanOut.attributes['switchboard.node.id'],
      },
      { channel: 'traced', recipients: 1, node: b.server.nodeId },
    );

    // On the wire: the publish span's traceparent, in the header's JSON tail.
    await eventually(() => wire.length === 1, 'the publication on the raw listener');
    const header = (wire[0] as string).split('\n')[0] as string;
    assert.match(header, /^p 1 \S+ \d+ \{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\}$/);
    assert.ok(header.includes(`00-${TRACE_ID}-${publishSpan.spanContext().spanId}-01`));
  });

  it('an unsampled incoming trace records no span and writes no traceparent', T, async () => {
    const { a, subscriber, wire } = await setup('unsampled');
    assert.equal(await publish(a, 'unsampled', `00-${TRACE_ID}-${CALLER_SPAN}-00`), 200);
    assert.deepEqual(await messages(subscriber, 1), [{ id: 1, data: { hello: 'traced' } }]);
    await eventually(() => wire.length === 1, 'the publication on the raw listener');
    assert.doesNotMatch(wire[0] as string, /traceparent/);
    assert.match((wire[0] as string).split('\n')[0] as string, /^p 1 \S+ \d+$/);
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });

  it('the library publish (no HTTP request) is a root publish span with its fan-out', T, async () => {
    const { a, b, subscriber } = await setup('library');
    await a.server.publish('library', 'plain');
    assert.deepEqual(await messages(subscriber, 1), [{ id: 1, data: 'plain' }]);
    const spans = await eventually(() => {
      const finished = exporter.getFinishedSpans();
      return finished.length >= 2 && finished;
    }, 'two finished spans');
    const publishSpan = only(spans, 'publish');
    const fanOut = only(spans, 'fan-out');
    assert.equal(publishSpan.parentSpanContext, undefined);
    assert.equal(fanOut.parentSpanContext?.spanId, publishSpan.spanContext().spanId);
    assert.equal(fanOut.attributes['switchboard.node.id'], b.server.nodeId);
  });
});
