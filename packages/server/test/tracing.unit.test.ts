/**
 * Tracing's pure parts: the W3C `traceparent` format and parse (malformed values start a new trace,
 * never a refusal), the publication header tail on the Redis wire (zero extra bytes untraced; a traced
 * publication's traceparent round-trips, beside its exclusion or without one), and the Tracing class
 * with no SDK registered: nothing records, so nothing is put on the wire and no fan-out span starts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TraceFlags } from '@opentelemetry/api';
import { decodeMessage, encodeEphemeral, exclusionTail, publicationTail } from '../src/broker/redis-wire.js';
import { formatTraceparent, parseTraceparent } from '../src/tracing/traceparent.js';
import { Tracing } from '../src/tracing/tracing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const SAMPLED = `00-${TRACE}-${SPAN}-01`;

describe('traceparent', () => {
  it('parses a valid value into a remote span context, with its tracestate, and formats it back', () => {
    const parsed = parseTraceparent(SAMPLED, 'vendor=a');
    assert.ok(parsed !== null);
    assert.deepEqual(
      { traceId: parsed.traceId, spanId: parsed.spanId, flags: parsed.traceFlags, remote: parsed.isRemote },
      { traceId: TRACE, spanId: SPAN, flags: TraceFlags.SAMPLED, remote: true },
    );
    assert.equal(parsed.traceState?.get('vendor'), 'a');
    assert.equal(formatTraceparent(parsed), SAMPLED);
    assert.equal(formatTraceparent({ ...parsed, traceFlags: TraceFlags.NONE }), `00-${TRACE}-${SPAN}-00`);
    // Upper case and surrounding spaces are tolerated; other flag bits are dropped.
    assert.equal(parseTraceparent(` ${SAMPLED.toUpperCase().replace(/-01$/, '-03')} `)?.traceFlags, 1);
  });

  it('reads a future version by its first four fields (the spec forward compatibility)', () => {
    assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-more`)?.spanId, SPAN);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01-more`), null, 'version 00 has exactly 55 chars');
  });

  it('rejects malformed values (the request then starts a new trace)', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.replace('4', 'g')}-${SPAN}-01`,
      `00_${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-0x`,
      `0-${TRACE}-${SPAN}-011`,
    ])
      assert.equal(parseTraceparent(bad), null, String(bad));
  });
});

describe('publication header tail on the Redis wire', () => {
  it('is zero bytes untraced, the exclusion alone with one', () => {
    assert.equal(publicationTail(undefined, undefined), '');
    assert.equal(publicationTail({ userId: 'u' }, undefined), exclusionTail({ userId: 'u' }));
    assert.equal(encodeEphemeral(5, undefined, '{}'), 'e 5\n{}');
  });

  it('carries a traceparent that decodes beside the exclusion, or alone (no exclusion then)', () => {
    const target = { kind: 'channel', channel: 'c' } as const;
    const alone = decodeMessage(encodeEphemeral(5, undefined, '{"a":1}', SAMPLED), target);
    assert.deepEqual(alone, {
      type: 'publication',
      publication: { channel: 'c', json: '{"a":1}', ephemeral: true, time: 5, traceparent: SAMPLED },
    });
    const both = decodeMessage(`p 3 ep 7${publicationTail({ connectionId: 'n-1' }, SAMPLED)}\n1`, target);
    assert.deepEqual(both, {
      type: 'publication',
      publication: {
        channel: 'c',
        id: 3,
        epoch: 'ep',
        json: '1',
        ephemeral: false,
        time: 7,
        exclude: { connectionId: 'n-1' },
        traceparent: SAMPLED,
      },
    });
  });

  it('ignores a traceparent that is not a string: the message is still delivered', () => {
    const decoded = decodeMessage('e 5 {"traceparent":7}\n1', { kind: 'channel', channel: 'c' });
    assert.equal(decoded?.type, 'publication');
    assert.equal(decoded?.type === 'publication' ? decoded.publication.traceparent : 'x', undefined);
  });
});

describe('Tracing without an SDK', () => {
  it('records nothing: no publish span to carry, no fan-out span, the HTTP request runs as it is', async () => {
    const tracing = new Tracing('node-a');
    assert.equal(tracing.startPublish('c', false), null);
    assert.equal(tracing.startFanOut({ channel: 'c', ephemeral: false }), null);
    assert.equal(tracing.startFanOut({ channel: 'c', ephemeral: false, traceparent: SAMPLED }), null);
    let ran = 0;
    await tracing.http('POST', '/api/publish', { traceparent: SAMPLED }, () => Promise.resolve(++ran));
    assert.equal(await tracing.deliver(() => Promise.resolve('delivered')), 'delivered');
    await assert.rejects(
      tracing.enqueue('q', () => Promise.reject(new Error('full'))),
      /full/,
    );
    assert.equal(ran, 1);
  });
});
