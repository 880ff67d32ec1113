import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { InvalidOptionError, SwitchboardClient } from '../src/index.js';
import { canTransition } from '../src/connection-state.js';

describe('SwitchboardClient options', () => {
  it('needs a ws: or wss: URL', () => {
    assert.throws(() => new SwitchboardClient('http://localhost/ws', { WebSocket }), {
      name: 'InvalidOptionError',
      code: 'invalid_option',
      option: 'url',
    });
    assert.throws(() => new SwitchboardClient('not a url', { WebSocket }), InvalidOptionError);
    assert.equal(new SwitchboardClient('wss://example.com/ws', { WebSocket }).url, 'wss://example.com/ws');
  });

  it('takes several server URLs, each checked, and not an empty list', () => {
    const urls = ['wss://a.example.com/ws', 'wss://b.example.com/ws'];
    const client = new SwitchboardClient(urls, { WebSocket });
    assert.deepEqual(client.urls, urls);
    assert.equal(client.url, urls[0], 'the first is tried first');
    assert.throws(() => new SwitchboardClient([], { WebSocket }), {
      name: 'InvalidOptionError',
      option: 'url',
    });
    assert.throws(
      () => new SwitchboardClient(['wss://a.example.com/ws', 'http://b.example.com/ws'], { WebSocket }),
      {
        name: 'InvalidOptionError',
        option: 'url',
        value: 'http://b.example.com/ws',
      },
    );
  });

  it(
    'needs a WebSocket constructor when the runtime has none',
    { skip: 'WebSocket' in globalThis && 'the runtime has a global WebSocket' },
    () => {
      assert.throws(() => new SwitchboardClient('ws://localhost/ws'), {
        name: 'InvalidOptionError',
        option: 'WebSocket',
      });
    },
  );

  it('validates requestTimeoutMs', () => {
    for (const requestTimeoutMs of [0, -1, Number.NaN, Infinity, 2 ** 31]) {
      assert.throws(() => new SwitchboardClient('ws://localhost/ws', { WebSocket, requestTimeoutMs }), {
        name: 'InvalidOptionError',
        option: 'requestTimeoutMs',
      });
    }
  });

  it('starts disconnected, rejects requests until connected, and refuses bad close codes', async () => {
    const client = new SwitchboardClient('ws://localhost/ws', { WebSocket });
    assert.equal(client.state, 'disconnected');
    assert.equal(client.connection, null);
    await assert.rejects(client.ping(), {
      name: 'NotConnectedError',
      code: 'not_connected',
      state: 'disconnected',
    });
    // Fire-and-forget commands wait in the offline queue for a connection.
    assert.equal(client.notify({ type: 'ping' }), 'queued');
    assert.throws(() => client.close(1001), { name: 'InvalidArgumentError', code: 'invalid_argument' });
    assert.throws(() => client.close(1000, 'x'.repeat(124)), { name: 'InvalidArgumentError' });
    client.close();
    assert.equal(client.state, 'closed');
    assert.equal(client.notify({ type: 'ping' }), 'dropped');
  });

  it('validates the reconnect, backoff, session and queue options', () => {
    const bad: [string, Record<string, unknown>][] = [
      ['connectTimeoutMs', { connectTimeoutMs: 0 }],
      ['reconnect', { reconnect: 'yes' }],
      ['resume', { resume: 1 }],
      ['sessionId', { sessionId: '' }],
      ['sessionId', { sessionId: 'x'.repeat(65) }],
      ['minDelayMs', { backoff: { minDelayMs: -1 } }],
      ['maxDelayMs', { backoff: { minDelayMs: 100, maxDelayMs: 10 } }],
      ['maxItems', { offlineQueue: { maxItems: -1 } }],
    ];
    for (const [option, options] of bad) {
      assert.throws(() => new SwitchboardClient('ws://localhost/ws', { WebSocket, ...options }), {
        name: 'InvalidOptionError',
        option,
      });
    }
  });
});

describe('connection state machine', () => {
  it('allows only the documented transitions', () => {
    const allowed = [
      'disconnected>connecting',
      'disconnected>closed',
      'connecting>connected',
      'connecting>disconnected',
      'connecting>closed',
      'connected>connecting',
      'connected>disconnected',
      'connected>closed',
      'closed>connecting',
    ];
    const states = ['disconnected', 'connecting', 'connected', 'closed'] as const;
    for (const from of states) {
      for (const to of states)
        assert.equal(canTransition(from, to), allowed.includes(`${from}>${to}`), `${from} -> ${to}`);
    }
  });
});
