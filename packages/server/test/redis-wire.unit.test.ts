/**
 * The Redis broker's pub/sub wire format (pure): every envelope kind and ephemeral publications round-trip,
 * payloads are carried raw (newlines and all), durable publications decode from the header the publish
 * script writes, and malformed or misplaced messages decode to null. Plus the cluster hash slot.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../src/broker/broker.js';
import {
  decodeMessage,
  encodeEnvelope,
  encodeEphemeral,
  encodeProbe,
  exclusionTail,
} from '../src/broker/redis-wire.js';
import type { WireTarget } from '../src/broker/redis-wire.js';
import { hashSlot } from '../src/redis/redis-keys.js';

const PAYLOAD = '{"text":"two\\nlines","raw":"a\nb c"}';

/** The topic an envelope travels on, as the broker picks it. */
function targetOf(envelope: Envelope): WireTarget {
  switch (envelope.kind) {
    case 'user':
    case 'inbox':
    case 'disconnect-user':
      return { kind: 'user', userId: envelope.userId };
    case 'connection':
    case 'disconnect-connection':
    case 'http-frames':
      return { kind: 'node' };
    case 'broadcast':
    case 'queue':
      return { kind: 'broadcast' };
    case 'membership':
      return { kind: 'channel', channel: envelope.channel };
  }
}

describe('redis wire format', () => {
  it('round-trips every envelope kind on its topic', () => {
    const envelopes: Envelope[] = [
      { kind: 'user', userId: 'u 1', json: PAYLOAD, time: 1 },
      { kind: 'user', userId: 'u', json: '1', time: 2, exclude: { connectionId: 'n-1', userId: 'x y' } },
      { kind: 'connection', connectionId: 'node-a-3', json: PAYLOAD, time: 3 },
      { kind: 'broadcast', json: '""', time: 4, exclude: { userId: 'me' } },
      { kind: 'membership', event: 'join', channel: 'c', userId: 'u', info: { a: [1, 'b'] }, time: 5 },
      { kind: 'membership', event: 'leave', channel: 'c', userId: null, connectionId: 'n-2', time: 6 },
      { kind: 'disconnect-user', userId: 'u', code: 4000, reason: 'multi\nline reason' },
      // Guaranteed delivery's wake-ups (issue 18): a user's inbox, a work queue.
      { kind: 'inbox', userId: 'u 1' },
      { kind: 'queue', queue: 'emails to send\nnow' },
      { kind: 'disconnect-connection', connectionId: 'n-"odd"-1', code: 1000, reason: '' },
      {
        kind: 'http-frames',
        connection: 'node a.x-y_z',
        secret: 's3cr3t',
        lines: ['{"type":"pong"}', PAYLOAD],
      },
      // A poll forwarded to the owner, and its answer to the receiving node (issue 14).
      {
        kind: 'http-frames',
        connection: 'a.c',
        secret: 's',
        lines: [],
        call: 'poll',
        cursor: 7,
        reply: 'b.r',
      },
      { kind: 'http-frames', connection: 'a.c', secret: 's', lines: [], call: 'delete', reply: 'b.r' },
      {
        kind: 'http-frames',
        connection: 'b.r',
        secret: '',
        lines: [],
        call: 'answer',
        status: 200,
        body: PAYLOAD,
      },
    ];
    for (const envelope of envelopes) {
      const decoded = decodeMessage(encodeEnvelope(envelope), targetOf(envelope));
      assert.deepEqual(decoded, { type: 'envelope', envelope });
    }
  });

  it('refuses a forwarded call with a field of the wrong type', () => {
    for (const extra of ['"call":"get"', '"cursor":"1"', '"reply":1', '"status":"200"', '"body":{}']) {
      const message = `F\n{"connection":"a.c","secret":"s","lines":[],${extra}}`;
      assert.equal(decodeMessage(message, { kind: 'node' }), null, extra);
    }
  });

  it('carries the payload raw after one header line', () => {
    const message = encodeEnvelope({ kind: 'broadcast', json: PAYLOAD, time: 7 });
    assert.equal(message, `b 7\n${PAYLOAD}`);
  });

  it('decodes durable publications as the publish script writes them, and ephemeral ones', () => {
    const exclude = { connectionId: 'n-1' };
    const target: WireTarget = { kind: 'channel', channel: 'news' };
    assert.deepEqual(
      decodeMessage(`p 42 AbC-_1 1700000000000${exclusionTail(exclude)}\n${PAYLOAD}`, target),
      {
        type: 'publication',
        publication: {
          channel: 'news',
          id: 42,
          epoch: 'AbC-_1',
          json: PAYLOAD,
          ephemeral: false,
          time: 1700000000000,
          exclude,
        },
      },
    );
    assert.deepEqual(decodeMessage(encodeEphemeral(5, undefined, PAYLOAD), target), {
      type: 'publication',
      publication: { channel: 'news', json: PAYLOAD, ephemeral: true, time: 5 },
    });
    assert.deepEqual(decodeMessage(encodeProbe('z9'), { kind: 'node' }), { type: 'probe', nonce: 'z9' });
  });

  it('rejects malformed and misplaced messages', () => {
    const channel: WireTarget = { kind: 'channel', channel: 'c' };
    for (const message of [
      '',
      'p',
      'p 1 e 5',
      'p x e 5\n{}',
      'p 1  5\n{}',
      'p 1 e 5 {not json\n{}',
      'e 5 [1]\n{}',
      'm\n{"event":"wave","userId":null,"time":1}',
      'b 1\n{}',
      'px 1 e 5\n{}',
    ]) {
      assert.equal(decodeMessage(message, channel), null, JSON.stringify(message));
    }
    assert.equal(decodeMessage('u 1\n{}', { kind: 'node' }), null, 'a user message on a node topic');
    assert.equal(decodeMessage('c 1 "n-1"\n{}', { kind: 'user', userId: 'u' }), null);
    assert.equal(decodeMessage('c 1 n-1\n{}', { kind: 'node' }), null, 'the connection id is JSON');
    assert.equal(decodeMessage('d x\nreason', { kind: 'user', userId: 'u' }), null);
  });
});

describe('hashSlot', () => {
  it('matches Redis Cluster (CRC16/XMODEM of the hash tag, mod 16384)', () => {
    // Values from CLUSTER KEYSLOT on Redis 7.
    assert.equal(hashSlot('123456789'), 12739);
    assert.equal(hashSlot('{a}x'), 15495);
    assert.equal(hashSlot('{user1000}.following'), hashSlot('{user1000}.followers'));
    assert.equal(hashSlot('foo{}{bar}'), 8363, 'an empty tag hashes the whole key');
    assert.equal(hashSlot('foo{{bar}}zap'), 4015, 'the tag is `{bar`');
    assert.equal(hashSlot('sb:{c:room}:s'), hashSlot('sb:{c:room}:p'));
  });
});
