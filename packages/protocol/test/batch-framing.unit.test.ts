import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_QUERY_PARAM,
  FRAME_SEPARATOR,
  decodeServerFrame,
  encodeServerFrame,
  splitFrames,
} from '../src/index.js';

describe('batched frames', () => {
  it('are announced with ?batch=1 and separated by a newline', () => {
    assert.equal(BATCH_QUERY_PARAM, 'batch');
    assert.equal(FRAME_SEPARATOR, '\n');
  });

  it('splitFrames: one frame splits into itself, a batch into its frames, empty lines are skipped', () => {
    assert.deepEqual(splitFrames('{"type":"ping"}'), ['{"type":"ping"}']);
    assert.deepEqual(splitFrames('{"type":"ping"}\n{"type":"ping"}'), ['{"type":"ping"}', '{"type":"ping"}']);
    assert.deepEqual(splitFrames('{"a":1}\n\n{"b":2}\n'), ['{"a":1}', '{"b":2}']);
  });

  it('an encoded frame never holds a raw newline, whatever its strings hold', () => {
    const frame = encodeServerFrame({
      type: 'message',
      channel: 'c',
      id: 1,
      data: { text: 'line 1\nline 2\r\n', nested: ['\n', { '\n': '\u2028' }] },
      time: 1,
    });
    assert.ok(!frame.includes('\n'));
    const batch = [frame, encodeServerFrame({ type: 'ping' })].join(FRAME_SEPARATOR);
    const frames = splitFrames(batch).map(decodeServerFrame);
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], JSON.parse(frame));
    assert.deepEqual(frames[1], { type: 'ping' });
  });
});
