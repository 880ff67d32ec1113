// The SSE event id (hub/sse-event-id.ts): one short id holds every channel's position, and anything else
// is refused rather than misread.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_LAST_EVENT_ID_LENGTH,
  MAX_SSE_CHANNELS,
  decodeEventId,
  encodeEventId,
  epochTag,
} from '../src/hub/sse-event-id.js';

describe('SSE event ids', () => {
  it('round-trips every channel position, offsets in base 36', () => {
    const entries = [
      { tag: 'aB3_-xYz', offset: 0 },
      { tag: 'Q1w2E3r4', offset: Number.MAX_SAFE_INTEGER },
    ];
    const id = encodeEventId(entries);
    assert.equal(id, `aB3_-xYz:0.Q1w2E3r4:${Number.MAX_SAFE_INTEGER.toString(36)}`);
    assert.deepEqual(decodeEventId(id, 2), entries);
  });

  it('refuses garbage, another channel count, an oversized id and offsets past 2^53', () => {
    assert.equal(decodeEventId('', 1), null);
    assert.equal(decodeEventId('hello world', 1), null);
    assert.equal(decodeEventId('abc:1', 2), null);
    assert.equal(decodeEventId('abc:1.abc:2', 1), null);
    assert.equal(decodeEventId('abc:zzzzzzzzzzz', 1), null);
    assert.equal(
      decodeEventId(`abc:1${'.abc:1'.repeat(MAX_LAST_EVENT_ID_LENGTH)}`, 1 + MAX_LAST_EVENT_ID_LENGTH),
      null,
    );
  });

  it('keeps a short URL-safe epoch as it is and shortens any other to 12 characters', () => {
    assert.equal(epochTag('Xy_9-AbC'), 'Xy_9-AbC');
    const long = epochTag('an epoch with spaces and far more than twelve characters');
    assert.match(long, /^[A-Za-z0-9_-]{12}$/);
    assert.notEqual(long, epochTag('another epoch with spaces and far more than twelve characters'));
  });

  it('bounds the id of the largest stream', () => {
    const entries = Array.from({ length: MAX_SSE_CHANNELS }, () => ({
      tag: 'x'.repeat(12),
      offset: Number.MAX_SAFE_INTEGER,
    }));
    const id = encodeEventId(entries);
    assert.ok(id.length <= MAX_LAST_EVENT_ID_LENGTH, `${id.length} characters`);
    assert.deepEqual(decodeEventId(id, MAX_SSE_CHANNELS), entries);
  });
});
