// What proves a connection alive (`v1HeartbeatProof`, `roomHeartbeatProof`): application frames only (the
// default on both endpoints), or WebSocket protocol pings and pongs too. Every client here is `ws` with its
// default `autoPong`, so it answers protocol pings by itself, as browsers, Python's `websockets` and
// `websocket-client` do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import { connect, connectV1, withServer } from './helpers.js';
import type { TestClient } from './helpers.js';

/**
 * Have the client send WebSocket pings and unsolicited pongs every `everyMs` (Python's `websockets`
 * sends its own keepalive pings): under `application` they must not count either. Returns the stopper.
 */
function chatterBelowTheApplication(client: TestClient, everyMs: number): () => void {
  const timer = setInterval(() => {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.ws.ping();
    client.ws.pong();
  }, everyMs);
  return () => clearInterval(timer);
}

/** Protocol pings the client received (and `ws` answered by itself). */
function countProtocolPings(client: TestClient): () => number {
  let pings = 0;
  client.ws.on('ping', () => pings++);
  return () => pings;
}

// The seed lecture's test_heartbeat_timeout_closes_connection, with its configuration (ping_interval=1s,
// timeout=3s) and the server's defaults otherwise: the first frame is {"type":"ping"}, the client never
// answers it, and the server closes the connection within the timeout (plus the one heartbeat interval
// the sweep may take to visit it).
test('seed: a /ws/:room client that never answers {"type":"ping"} is closed with 4000 within the timeout', async () => {
  await withServer({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 }, async (t) => {
    const started = Date.now();
    const ws = await connect(`${t.wsUrl}/ws/general`);
    const protocolPings = countProtocolPings(ws);
    assert.deepEqual(await ws.next(() => true, 2000), { type: 'ping' }, 'the first frame');
    const closed = await ws.closed;
    const elapsed = Date.now() - started;
    assert.deepEqual(closed, { code: 4000, reason: 'heartbeat timeout' });
    assert.ok(elapsed >= 2900 && elapsed <= 3000 + 1000 + 500, `closed after ${elapsed} ms`);
    assert.equal(protocolPings(), 0, 'no protocol-ping safety net: its pong would prove nothing');
  });
});

test('application (room default): protocol pings and pongs from the client do not keep it alive', async () => {
  await withServer({ heartbeatIntervalMs: 40, heartbeatTimeoutMs: 120, messagesPerSecond: 0 }, async (t) => {
    const ws = await connect(`${t.wsUrl}/ws/general`);
    const stop = chatterBelowTheApplication(ws, 10);
    try {
      assert.deepEqual(await ws.closed, { code: 4000, reason: 'heartbeat timeout' });
    } finally {
      stop();
    }
  });
});

test('application (room default): any frame the client sends proves it alive, not only a pong', async () => {
  await withServer({ heartbeatIntervalMs: 40, heartbeatTimeoutMs: 120 }, async (t) => {
    const ws = await connect(`${t.wsUrl}/ws/general`);
    // The seeds' rule: a chat message is as good as a pong. Eight pings span several timeouts.
    ws.ws.on('message', (data) => {
      if (data.toString() === '{"type":"ping"}') ws.send({ type: 'typing' });
    });
    for (let i = 0; i < 8; i++) await ws.nextOfType('ping', 1000);
    ws.send({ type: 'message', text: 'still alive' });
    assert.equal((await ws.nextOfType('message'))['text'], 'still alive');
    ws.close();
  });
});

test('roomHeartbeatProof any: a client that answers only protocol pings (wscat) stays connected', async () => {
  const options = { heartbeatIntervalMs: 40, heartbeatTimeoutMs: 120, roomHeartbeatProof: 'any' } as const;
  await withServer(options, async (t) => {
    const ws = await connect(`${t.wsUrl}/ws/general`);
    const protocolPings = countProtocolPings(ws);
    for (let i = 0; i < 8; i++) await ws.nextOfType('ping', 1000);
    assert.ok(protocolPings() > 0, 'the safety net: a protocol ping after an unanswered one');
    ws.send({ type: 'message', text: 'still here' });
    assert.equal((await ws.nextOfType('message'))['text'], 'still here');
    ws.close();
  });
});

test('application (v1 default): a /ws client that answers only protocol pings is closed with 4000', async () => {
  await withServer({ heartbeatIntervalMs: 40, heartbeatTimeoutMs: 120, messagesPerSecond: 0 }, async (t) => {
    const { client } = await connectV1(t);
    const stop = chatterBelowTheApplication(client, 10);
    try {
      await client.nextOfType('ping', 1000);
      assert.deepEqual(await client.closed, { code: 4000, reason: 'heartbeat timeout' });
    } finally {
      stop();
    }
  });
});

test('v1HeartbeatProof any: a /ws client that answers only protocol pings stays connected', async () => {
  const options = { heartbeatIntervalMs: 40, heartbeatTimeoutMs: 120, v1HeartbeatProof: 'any' } as const;
  await withServer(options, async (t) => {
    const { client } = await connectV1(t);
    const protocolPings = countProtocolPings(client);
    for (let i = 0; i < 8; i++) await client.nextOfType('ping', 1000);
    assert.ok(protocolPings() > 0);
    assert.deepEqual((await client.request({ id: 1, type: 'ping' }))['result'], {});
    client.close();
  });
});

test('each endpoint follows its own setting', async () => {
  // Generous for a loaded machine: a stalled event loop past the timeout would close the v1 socket too.
  const options = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500, v1HeartbeatProof: 'any' } as const;
  await withServer(options, async (t) => {
    const { client: v1 } = await connectV1(t);
    const room = await connect(`${t.wsUrl}/ws/general`);
    assert.equal((await room.closed).code, 4000, 'the room endpoint keeps its default');
    for (let i = 0; i < 4; i++) await v1.nextOfType('ping', 3000);
    assert.deepEqual((await v1.request({ id: 1, type: 'ping' }))['result'], {}, 'v1 stays');
    v1.close();
  });
});

// The evidence for v1's default: the SDK answers every ping push with a pong, so it stays connected under
// `application` through many timeouts, on a socket that answers protocol pings too (which no longer count).
test('the SDK stays connected under the v1 default, over many heartbeat timeouts', async () => {
  await withServer({ heartbeatIntervalMs: 40, heartbeatTimeoutMs: 120 }, async (t) => {
    let pingsSeen = 0;
    let enough!: () => void;
    const twelvePings = new Promise<void>((resolve) => (enough = resolve));
    /** ws as the SDK uses it, counting the server's ping pushes (the SDK answers each one). */
    class CountingWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        this.on('message', (data) => {
          if (data.toString() === '{"type":"ping"}' && ++pingsSeen === 12) enough();
        });
      }
    }
    const client = new SwitchboardClient<unknown>(`${t.wsUrl}/ws`, { WebSocket: CountingWebSocket });
    try {
      await client.connect();
      const id = client.connection?.connectionId;
      assert.ok(id !== undefined);
      // Twelve pings span about twelve intervals: four heartbeat timeouts.
      const lost = new Promise<never>((_resolve, reject) =>
        client.on('disconnected', (event) => reject(new Error(`disconnected with ${event.code}`))),
      );
      await Promise.race([twelvePings, lost]);
      assert.equal(client.state, 'connected');
      assert.equal(client.connection?.connectionId, id, 'the same connection, never replaced');
      assert.ok(t.server.getConnection(id) !== undefined);
    } finally {
      client.close();
    }
  });
});
