import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCommandMsgpack, encodeServerFrameMsgpack } from '@switchboard/protocol';
import { forEachMsgpackFrame, msgpackDialect } from '../src/generator/msgpack-dialect.js';
import { tickerPayload } from '../src/generator/timestamp.js';

test('a batched MessagePack message splits into its frames; each is classified and keeps its send time', () => {
  const dialect = msgpackDialect('secret');
  assert.equal(dialect.subprotocol, 'switchboard.v1.msgpack');
  const sent = [0, 1, 2].map((n) => tickerPayload(n, 300));
  const times = sent.map((p) => (JSON.parse(p) as { ts: number }).ts);
  const batch = Buffer.concat(
    sent.map((p, seq) =>
      encodeServerFrameMsgpack({
        type: 'message',
        channel: 'room-1',
        id: seq,
        data: JSON.parse(p) as unknown,
        time: 0,
      }),
    ),
  );
  const frames: Buffer[] = [];
  const count = dialect.split?.(batch, (frame) => frames.push(frame));
  assert.equal(count, 3);
  assert.deepEqual(
    frames.map((f) => dialect.classify(f)),
    ['message', 'message', 'message'],
  );
  assert.deepEqual(
    frames.map((f) => dialect.timestamp?.(f)),
    times,
  );
  assert.equal(
    forEachMsgpackFrame(Buffer.alloc(0), () => undefined),
    0,
  );
});

test('MessagePack control frames: ready, ping (a binary pong), ack and nack; commands are binary', () => {
  const dialect = msgpackDialect('secret');
  const frame = (value: Parameters<typeof encodeServerFrameMsgpack>[0]): Buffer =>
    Buffer.from(encodeServerFrameMsgpack(value));
  assert.equal(dialect.classify(frame({ type: 'ping' })), 'ping');
  const pong = dialect.answer('ping');
  assert.ok(pong instanceof Uint8Array);
  assert.deepEqual(decodeCommandMsgpack(pong), { ok: true, command: { type: 'pong' } });
  assert.equal(dialect.classify(frame({ type: 'reply', id: 1, result: {} })), 'ack');
  assert.equal(
    dialect.classify(
      frame({ type: 'reply', id: 1, error: { code: 'unavailable', message: 'later', temporary: true } }),
    ),
    'nack',
  );
  const subscribe = dialect.subscribe('room-2', 7);
  assert.ok(subscribe instanceof Uint8Array);
  assert.deepEqual(decodeCommandMsgpack(subscribe), {
    ok: true,
    command: { id: 7, type: 'subscribe', channel: 'room-2' },
  });
  const publish = dialect.publish('room-2', '{"ts":1,"n":2}');
  assert.ok(publish instanceof Uint8Array);
  const decoded = decodeCommandMsgpack(publish);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.command, { type: 'publish', channel: 'room-2', data: { ts: 1, n: 2 } });
});
