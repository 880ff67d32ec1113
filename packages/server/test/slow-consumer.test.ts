// A client that stops reading never holds up a fan-out; it is cut off with 4001 and every drop is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import {
  Changes,
  answerPings,
  connect,
  pushOverSoftLimit,
  stalledClient,
  startServer,
  until,
  waitMembers,
} from './helpers.js';
import { FakeClock } from './fake-clock.js';
import type { DisconnectInfo } from '../src/index.js';
import { metric as metricOf, recordingLogger, serverCloses } from './limits-helpers.js';

function metric(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.split(' ').pop());
}

test('a stalled member is closed as a slow consumer while a healthy member gets every message in order', async () => {
  let resolveClose: (info: DisconnectInfo) => void = () => {};
  const stalledClosed = new Promise<DisconnectInfo>((r) => (resolveClose = r));
  const t = await startServer({
    maxBufferedBytes: 64 * 1024,
    heartbeatIntervalMs: 1000,
    heartbeatTimeoutMs: 60_000,
    onDisconnect: (_c, info) => {
      if (info.code === 4001) resolveClose(info);
    },
  });
  try {
    const healthy = await connect(`${t.wsUrl}/ws/firehose`);
    const stalled = await stalledClient(`${t.wsUrl}/ws/firehose`);
    await waitMembers(t, 'firehose', 2);
    const payload = 'x'.repeat(32 * 1024);
    let published = 0;
    let closed: DisconnectInfo | null = null;
    void stalledClosed.then((info) => (closed = info));
    // Bounded: kernel buffers on loopback hold a few MB; 2,000 x 32 KB is far beyond them.
    while (closed === null && published < 2000) {
      await t.server.publish('firehose', { n: ++published, payload });
      // ephemeral traffic in between: dropped for the stalled member once its buffer is over the limit
      await t.server.publish('firehose', { probe: published }, { ephemeral: true });
      if (published % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(closed !== null, `stalled member still open after ${published} messages`);
    assert.equal((closed as DisconnectInfo).code, 4001);
    // The healthy member got all reliable messages, in order, with no gap.
    for (let n = 1; n <= published; n++) {
      const message = await healthy.next((m) => typeof m['n'] === 'number', 10_000);
      assert.equal(message['n'], n);
    }
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    assert.ok(
      metric(metrics, 'switchboard_messages_dropped_total{reason="backpressure"}') > 0,
      'ephemeral drops are counted',
    );
    assert.ok(
      metric(metrics, 'switchboard_messages_dropped_total{reason="slow_consumer"}') >= 1,
      'the cut-off is counted',
    );
    healthy.close();
    stalled.destroy();
  } finally {
    await t.stop();
  }
});

test('a member that stays over the soft limit is closed after slowConsumerTimeoutMs', async () => {
  let resolveClose: (info: DisconnectInfo) => void = () => {};
  const slowClosed = new Promise<DisconnectInfo>((r) => (resolveClose = r));
  const t = await startServer({
    maxBufferedBytes: 16 * 1024,
    slowConsumerTimeoutMs: 100,
    heartbeatIntervalMs: 20,
    heartbeatTimeoutMs: 60_000,
    onDisconnect: (_c, info) => resolveClose(info),
  });
  try {
    const stalled = await stalledClient(`${t.wsUrl}/ws/trickle`);
    await waitMembers(t, 'trickle', 1);
    await pushOverSoftLimit(t, 'trickle');
    // No more traffic: only the heartbeat sweep can close it now.
    assert.deepEqual(await slowClosed, { code: 4001, reason: 'slow consumer' });
    stalled.destroy();
  } finally {
    await t.stop();
  }
});

test('a member that drained is no longer slow: over the soft limit again later, it gets the whole slowConsumerTimeoutMs again', async () => {
  // Time moves only when the test says: each advance(INTERVAL) visits every connection once.
  const INTERVAL = 100;
  const clock = new FakeClock();
  const closes: DisconnectInfo[] = [];
  const t = await startServer({
    clock,
    maxBufferedBytes: 16 * 1024,
    slowConsumerTimeoutMs: 1000,
    heartbeatIntervalMs: INTERVAL,
    heartbeatTimeoutMs: 60_000,
    onDisconnect: (_c, info) => {
      closes.push(info);
    },
  });
  let member: Socket | undefined;
  try {
    member = await stalledClient(`${t.wsUrl}/ws/bursty`);
    const socket = member;
    // A conforming client: the pings it reads are answered, which proves to the server that it reads.
    answerPings(socket);
    let read = '';
    let pongs = 0;
    const changes = new Changes();
    socket.on('data', (chunk: Buffer) => {
      // Enough of the end to find a marker in: the member reads megabytes.
      read = (read + chunk.toString('latin1')).slice(-1024);
      pongs += chunk.toString('latin1').split('{"type":"pong"}').length - 1;
      changes.notify();
    });
    /**
     * A round trip through the room dialect (`{"type":"ping"}` answered by `{"type":"pong"}`): the server
     * reads a client's frames in order, so once it answers, it has also taken every pong the member sent
     * before. (A masked frame with a zero key: the payload goes as it is.)
     */
    const roundTrip = async (): Promise<void> => {
      const text = Buffer.from('{"type":"ping"}');
      const before = pongs;
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length, 0, 0, 0, 0]), text]));
      await changes.until(() => pongs > before, 'the pong of a round trip');
    };
    /**
     * Read everything queued for the member, up to a marker published now, then stall again. The server
     * asks a reader that was sent a lot to prove it read (a transport ping; its pong proves every frame
     * before it was read): two round trips make sure its last question is answered and taken before the
     * member stalls, so the stall starts with nothing owed.
     */
    const drain = async (marker: string): Promise<void> => {
      socket.resume();
      await t.server.publish('bursty', { marker });
      await changes.until(() => read.includes(marker), `${marker} to reach the member`);
      await roundTrip();
      await roundTrip();
      socket.pause();
    };
    await waitMembers(t, 'bursty', 1);

    // A burst the member cannot keep up with: it is slow from now on.
    await pushOverSoftLimit(t, 'bursty');
    clock.advance(INTERVAL);
    // It catches up, and the next heartbeat visit finds it back under the limit.
    await drain('caught up');
    clock.advance(INTERVAL);
    // Long after (past slowConsumerTimeoutMs since the first burst), a second, short burst.
    clock.advance(2000);
    await pushOverSoftLimit(t, 'bursty');
    clock.advance(INTERVAL);
    assert.deepEqual(closes, [], 'slow for 100 ms of the 1000 allowed: still a member');
    assert.equal((await t.server.channelInfo('bursty')).members, 1);
    // The rule still holds for the second burst: stuck in it for the whole timeout, it is cut off.
    clock.advance(1000);
    assert.deepEqual(closes, [{ code: 4001, reason: 'slow consumer' }]);
  } finally {
    member?.destroy();
    await t.stop();
  }
});

test('ghost members do not slow a broadcast to hundreds of members', async () => {
  const t = await startServer({
    maxBufferedBytes: 64 * 1024,
    heartbeatIntervalMs: 1000,
    heartbeatTimeoutMs: 60_000,
    // 205 connections from one address at once: past the default new-connections-per-address burst.
    connectionRatePerIp: 0,
  });
  try {
    const ghosts = await Promise.all(Array.from({ length: 5 }, () => stalledClient(`${t.wsUrl}/ws/big`)));
    const members = await Promise.all(Array.from({ length: 200 }, () => connect(`${t.wsUrl}/ws/big`)));
    await waitMembers(t, 'big', 205);
    for (let n = 1; n <= 20; n++) await t.server.publish('big', { n, pad: 'z'.repeat(8 * 1024) });
    for (const member of members) {
      for (let n = 1; n <= 20; n++)
        assert.equal((await member.next((m) => typeof m['n'] === 'number'))['n'], n);
    }
    for (const member of members) member.close();
    for (const ghost of ghosts) ghost.destroy();
  } finally {
    await t.stop();
  }
});

test('a paused subscriber cut off under a 50 KB x 300 burst is counted and logged under 4001, not as 1006', async () => {
  const logger = recordingLogger();
  const closes: DisconnectInfo[] = [];
  // The default outbound limits (1 MiB soft, 4 MiB hard); no heartbeat in the way.
  const t = await startServer({
    logger,
    heartbeatIntervalMs: 60_000,
    heartbeatTimeoutMs: 180_000,
    onDisconnect: (_c, info) => {
      closes.push(info);
    },
  });
  try {
    const healthy = await connect(`${t.wsUrl}/ws/burst`);
    const paused = await stalledClient(`${t.wsUrl}/ws/burst`);
    await waitMembers(t, 'burst', 2);
    const payload = 'b'.repeat(50 * 1024);
    for (let n = 1; n <= 300; n++) {
      await t.server.publish('burst', { n, payload });
      if (n % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    for (let n = 1; n <= 300; n++)
      assert.equal((await healthy.next((m) => typeof m['n'] === 'number', 10_000))['n'], n);
    assert.deepEqual(closes, [{ code: 4001, reason: 'outbound buffer full' }]);
    // The paused peer never answers the close frame: the server drops it after its linger, and the
    // transport can only report 1006. It is counted under the code the server sent.
    const closed = (code: string): Promise<number> =>
      metricOf(t, 'switchboard_connections_closed_total', { transport: 'websocket', code, by: 'server' });
    const deadline = Date.now() + 5000;
    while ((await closed('4001')) === 0) {
      assert.ok(Date.now() < deadline, 'the cut-off was never counted under 4001');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await closed('1006'), 0);
    assert.deepEqual(serverCloses(logger), ['4001 outbound buffer full']);
    healthy.close();
    paused.destroy();
  } finally {
    await t.stop();
  }
});

test('a paused subscriber is closed as a slow consumer while the kernel still takes all it is sent, and a reading one is not', async () => {
  const closes: DisconnectInfo[] = [];
  const t = await startServer({
    maxBufferedBytes: 16 * 1024,
    slowConsumerTimeoutMs: 300,
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 60_000,
    onDisconnect: (_c, info) => {
      closes.push(info);
    },
  });
  try {
    const reading = await connect(`${t.wsUrl}/ws/kernel`);
    const paused = await stalledClient(`${t.wsUrl}/ws/kernel`);
    await waitMembers(t, 'kernel', 2);
    // 80 KB: five times the limit, and a small part of what loopback's kernel buffers take, so nothing
    // ever waits in the process (bufferedAmount stays 0) and no ephemeral message is dropped.
    const started = Date.now();
    for (let n = 1; n <= 10; n++) await t.server.publish('kernel', { n, pad: 'k'.repeat(8 * 1024) });
    await until(() => closes.length > 0, 3000, 'the paused member to be closed');
    const after = Date.now() - started;
    assert.deepEqual(closes, [{ code: 4001, reason: 'slow consumer' }]);
    assert.ok(after >= 300, `closed after ${after} ms, not before slowConsumerTimeoutMs`);
    for (let n = 1; n <= 10; n++)
      assert.equal((await reading.next((m) => typeof m['n'] === 'number'))['n'], n);
    assert.equal(await metricOf(t, 'switchboard_messages_dropped_total', { reason: 'backpressure' }), 0);
    // The reading member answers every read check and stays, well past the timeout.
    for (let n = 11; n <= 30; n++) {
      await t.server.publish('kernel', { n, pad: 'k'.repeat(8 * 1024) });
      assert.equal((await reading.next((m) => typeof m['n'] === 'number'))['n'], n);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(closes.length, 1);
    reading.close();
    paused.destroy();
  } finally {
    await t.stop();
  }
});
