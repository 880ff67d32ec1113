/**
 * The transport contract (transports/transport.ts), run against every transport: WebSocket today
 * (websocket-transport.test.ts), SSE and long-polling later. A fixture opens real connections over real
 * sockets on port 0: the server-side {@link TransportSocket}, a {@link HandleRecorder} the transport
 * reports to, and a real peer (the client end) the test drives. Cases a transport or its peer cannot
 * support (a peer with no binary frames, a transport with no transport-level ping) are skipped with the
 * reason the caller gives.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PreparedFrame } from '../src/transports/transport.js';
import type { ConnectionHandle, TransportKind, TransportSocket } from '../src/transports/transport.js';
import { Changes, until } from './helpers.js';
import type { CloseEvent } from './helpers.js';

/** One call a transport made on a connection's handle. */
export type HandleCall =
  | { readonly method: 'receiveText'; readonly text: string }
  | { readonly method: 'receiveBinary'; readonly bytes: readonly number[] }
  | { readonly method: 'receiveUnsupported' }
  | { readonly method: 'receiveTransportPing'; readonly bytes: number }
  | { readonly method: 'receiveTransportPong'; readonly bytes: number }
  | { readonly method: 'receiveInvalid'; readonly code: number; readonly reason: string }
  | { readonly method: 'closed'; readonly code: number; readonly reason: string };

/** A ConnectionHandle that records every call, in order. */
export class HandleRecorder implements ConnectionHandle {
  readonly calls: HandleCall[] = [];
  /** What receiveTransportPing answers: whether the transport should answer the ping. */
  admitPings = true;
  private readonly changes = new Changes();

  receiveText(text: string): void {
    this.record({ method: 'receiveText', text });
  }
  receiveBinary(bytes: Uint8Array): void {
    this.record({ method: 'receiveBinary', bytes: [...bytes] });
  }
  receiveUnsupported(): void {
    this.record({ method: 'receiveUnsupported' });
  }
  receiveTransportPing(bytes: number): boolean {
    this.record({ method: 'receiveTransportPing', bytes });
    return this.admitPings;
  }
  receiveTransportPong(bytes: number): void {
    this.record({ method: 'receiveTransportPong', bytes });
  }
  receiveInvalid(code: number, reason: string): void {
    this.record({ method: 'receiveInvalid', code, reason });
  }
  closed(code: number, reason: string): void {
    this.record({ method: 'closed', code, reason });
  }

  /** The `closed` reports so far (the contract allows one). */
  closes(): CloseEvent[] {
    return this.calls.flatMap((c) => (c.method === 'closed' ? [{ code: c.code, reason: c.reason }] : []));
  }

  /** The first `closed` report, once it comes. */
  async closedReport(timeoutMs = 5000): Promise<CloseEvent> {
    await this.until(() => this.closes().length > 0, 'the closed report', timeoutMs);
    return this.closes()[0] as CloseEvent;
  }

  /** Resolve once `predicate` holds over {@link calls}. */
  until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const calls = (): string => `${what}; calls so far: ${JSON.stringify(this.calls).slice(0, 400)}`;
    return this.changes.until(predicate, calls, timeoutMs);
  }

  private record(call: HandleCall): void {
    this.calls.push(call);
    this.changes.notify();
  }
}

/** The client end of one connection, driven by the test. */
export interface TransportPeer {
  /** The text messages the peer has received, in order. */
  readonly messages: readonly string[];
  /** Resolve once the peer has received `count` messages. */
  received(count: number, timeoutMs?: number): Promise<void>;
  /** The end of the connection as the peer saw it: the close code and reason it got. */
  readonly closed: Promise<CloseEvent>;
  /**
   * Frames the server put on the wire after its close frame (or final event). A conforming client drops
   * them unseen, so the fixture counts them below the client library. Must stay 0.
   */
  framesAfterClose(): number;
  /** Resolve once `predicate` holds over what the peer received. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Stop reading from the network, so that the server's writes back up. */
  pause(): void;
  /** Read again. */
  resume(): void;
  sendText(text: string): void;
  /** Send a frame the text protocol cannot use (binary). Only called unless `unsupported.binary`. */
  sendBinary(data: Uint8Array): void;
  /** Send a transport-level ping with `data`. Only called unless `unsupported.transportPing`. */
  sendPing(data: Uint8Array): void;
  /** Send a transport-level pong nobody asked for. Only called unless `unsupported.transportPing`. */
  sendPong(data: Uint8Array): void;
  /** The payloads (UTF-8) of the transport-level pongs the peer has received, in order. */
  readonly pongs: readonly string[];
  /** Close from the peer's side with a code and reason. Only called unless `unsupported.peerCloseCode`. */
  close(code: number, reason: string): void;
  /** Drop the TCP connection abruptly (a reset, no close handshake). */
  drop(): void;
}

/** One open connection: the server's socket, what the transport reported, and the peer. */
export interface TransportConnection {
  readonly socket: TransportSocket;
  readonly handle: HandleRecorder;
  readonly peer: TransportPeer;
}

/** How to open a connection. */
export interface OpenOptions {
  /**
   * Text the peer sends as early as its protocol allows, before it has read anything from the server
   * (WebSocket: in the same TCP write as the upgrade request, so it reaches the server with the
   * handshake). Default: none.
   */
  readonly earlyText?: readonly string[];
}

/** A server running one transport on port 0. */
export interface TransportFixture {
  /** The kind every socket of this transport reports. */
  readonly kind: TransportKind;
  /** The code both sides report when a connection ends without a close handshake (1006 on WebSocket). */
  readonly abruptCloseCode: number;
  /** The transport's largest inbound message (UTF-8 bytes), as the fixture configured it. */
  readonly maxMessageBytes: number;
  /** The close code a message over {@link maxMessageBytes} gets (1009 on WebSocket). */
  readonly messageTooBigCode: number;
  /** Open a connection; resolves once the transport accepted it and the peer is open. */
  open(options?: OpenOptions): Promise<TransportConnection>;
  /** Drop every connection still open and stop the server. */
  close(): Promise<void>;
}

/** Starts a fresh fixture. */
export type TransportFactory = () => Promise<TransportFixture>;

/** Options of the contract suite. */
export interface TransportContractOptions {
  /** node:test's `skip` for the whole suite: why the transport cannot run here, or false. */
  readonly skip?: string | false;
  /** Cases that do not apply, each with the reason (the case is skipped with it). */
  readonly unsupported?: {
    /** The peer cannot send a frame the protocol cannot use (binary). */
    readonly binary?: string;
    /** The transport has no transport-level ping. */
    readonly transportPing?: string;
    /** The peer cannot close with a code and reason of its own. */
    readonly peerCloseCode?: string;
  };
}

/** Every transport kind the seam knows. */
const KINDS: readonly TransportKind[] = ['websocket', 'sse', 'polling'];

/** The longest close reason: a control frame's 125 bytes less the 2-byte code (RFC 6455, 5.5). */
const MAX_REASON_BYTES = 123;

/**
 * A bounded wait for something that must not happen (a second `closed`, a frame after the close): no
 * event marks an absence, so give any such event time to arrive. On a loaded machine this can only let a
 * fault slip through, never fail a correct transport.
 */
function quiet(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `text` as a Buffer, the way the hub hands frames to a transport. */
function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The longest prefix of `reason`, whole characters only, that fits a close frame. */
function fittingPrefix(reason: string): string {
  let out = '';
  for (const char of reason) {
    if (Buffer.byteLength(out + char) > MAX_REASON_BYTES) break;
    out += char;
  }
  return out;
}

/** Register the transport contract's tests for one transport. */
export function transportContract(
  name: string,
  make: TransportFactory,
  options: TransportContractOptions = {},
): void {
  const skip = options.skip ?? false;
  const TEST = { skip, timeout: 10_000 };
  /** TEST, or skipped with `reason` when the transport lacks what the case needs. */
  const needs = (reason: string | undefined): { skip: string | false; timeout: number } => ({
    skip: skip === false ? (reason ?? false) : skip,
    timeout: 10_000,
  });

  async function withFixture(body: (fixture: TransportFixture) => Promise<void>): Promise<void> {
    const fixture = await make();
    try {
      await body(fixture);
    } finally {
      await fixture.close();
    }
  }

  /** After the end of a connection: exactly one `closed`, and nothing reported after it. */
  async function assertClosedOnce(handle: HandleRecorder): Promise<CloseEvent> {
    const report = await handle.closedReport();
    await quiet();
    assert.equal(handle.closes().length, 1, 'closed is reported exactly once');
    assert.equal(handle.calls.at(-1)?.method, 'closed', 'nothing is reported after closed');
    return report;
  }

  describe(`Transport contract: ${name}`, () => {
    test('every socket reports the transport’s kind', TEST, () =>
      withFixture(async (fixture) => {
        assert.ok(KINDS.includes(fixture.kind), `${fixture.kind} is a TransportKind`);
        const { socket } = await fixture.open();
        assert.equal(socket.kind, fixture.kind);
        socket.close(1000, 'done');
        assert.equal(socket.kind, fixture.kind, 'and keeps it while closing');
      }),
    );

    test(
      'send() delivers frames in order and byte-exact, small and large, multi-byte UTF-8 included',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const { socket, peer } = await fixture.open();
          const texts = [
            '',
            '{"type":"connected"}',
            'a'.repeat(125), // the largest 7-bit WebSocket length
            'b'.repeat(126), // the smallest 16-bit one
            'é€😀 mixed: ünïcödé',
            'c'.repeat(4096), // the largest frame the WebSocket transport frames itself
            'd'.repeat(4097), // the smallest one it hands to ws
            'x'.repeat(4094) + '😀', // 4,098 bytes: a 4-byte character across the 4,096-byte line
            'y'.repeat(4092) + '😀', // 4,096 bytes exactly, ending in a 4-byte character
            '€'.repeat(1366), // 4,098 bytes of 3-byte characters
            'e'.repeat(65_535), // the largest 16-bit length
            'f'.repeat(65_536), // the smallest 64-bit one
            '😀'.repeat(50_000), // 200,000 bytes
            'last',
          ];
          for (const text of texts) socket.send(utf8(text));
          await peer.received(texts.length);
          assert.equal(peer.messages.length, texts.length);
          texts.forEach((text, i) => {
            const got = peer.messages[i] ?? '';
            assert.ok(
              utf8(got).equals(utf8(text)),
              `message ${i} (${utf8(text).length} bytes) arrived intact (got ${utf8(got).length} bytes)`,
            );
          });
        }),
    );

    test(
      'sendPrepared() delivers one PreparedFrame to every socket, in order with send(), and again on reuse',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const a = await fixture.open();
          const b = await fixture.open();
          const small = '{"channel":"news","data":"héllo €😀"}';
          const large = `{"data":"${'z'.repeat(70_000)}"}`; // over 64 KiB: a 64-bit WebSocket length
          const smallFrame = new PreparedFrame(utf8(small));
          const largeFrame = new PreparedFrame(utf8(large));
          a.socket.send(utf8('before'));
          for (const frame of [smallFrame, largeFrame, smallFrame]) {
            a.socket.sendPrepared(frame);
            b.socket.sendPrepared(frame);
          }
          a.socket.send(utf8('after'));
          b.socket.send(utf8('after'));
          await Promise.all([a.peer.received(5), b.peer.received(4)]);
          assert.deepEqual(a.peer.messages, ['before', small, large, small, 'after']);
          assert.deepEqual(b.peer.messages, [small, large, small, 'after']);
          // Reused once the first fan-out is over, by a connection that did not exist then.
          const c = await fixture.open();
          c.socket.sendPrepared(largeFrame);
          c.socket.sendPrepared(smallFrame);
          await c.peer.received(2);
          assert.deepEqual(c.peer.messages, [large, small]);
          assert.equal(smallFrame.payload.toString('utf8'), small, 'the payload is left as it was');
          assert.equal(largeFrame.payload.toString('utf8'), large);
        }),
    );

    test(
      'writes never block: a burst to a peer that is not reading returns at once and waits in bufferedAmount until it drains',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const { socket, peer } = await fixture.open();
          peer.pause();
          const expected: string[] = [];
          const shared = new PreparedFrame(utf8('{"shared":true}'));
          /** Queue 2 MiB of large frames, with a small frame and a prepared one: every write path. */
          const burst = (): { before: number; after: number; payloadBytes: number } => {
            const before = socket.bufferedAmount;
            let payloadBytes = 0;
            for (let i = 0; i < 32; i++) {
              const text = `${expected.length}:`.padEnd(64 * 1024, 'p');
              socket.send(utf8(text));
              expected.push(text);
              payloadBytes += text.length;
            }
            const small = `small ${expected.length}`;
            socket.send(utf8(small));
            expected.push(small);
            socket.sendPrepared(shared);
            expected.push('{"shared":true}');
            payloadBytes += small.length + shared.payload.length;
            return { before, after: socket.bufferedAmount, payloadBytes };
          };
          // Fill the kernel's buffers (a few MB on loopback) until bytes stay queued in the process.
          let last = burst();
          for (let i = 0; i < 24 && socket.bufferedAmount < 4 * 1024 * 1024; i++) {
            await new Promise((resolve) => setImmediate(resolve)); // let the kernel take what it will
            last = burst();
          }
          assert.ok(last.before > 0, `bytes stayed queued (bufferedAmount ${last.before})`);
          // Once bytes wait, every later write waits behind them: the burst adds at least its payload.
          assert.ok(
            last.after >= last.before + last.payloadBytes,
            `bufferedAmount grew from ${last.before} by at least ${last.payloadBytes} to ${last.after}`,
          );
          assert.ok(
            peer.messages.length < expected.length,
            `every send returned while the peer had ${peer.messages.length} of ${expected.length} messages`,
          );
          peer.resume();
          await peer.received(expected.length, 8000);
          assert.equal(peer.messages.length, expected.length);
          assert.ok(
            peer.messages.every((m, i) => m === expected[i]),
            'every queued frame arrived, in order',
          );
          // The seam has no drain event: poll bufferedAmount (the last write may complete a turn after
          // its bytes are readable).
          await until(() => socket.bufferedAmount === 0, 3000, 'bufferedAmount to fall back to 0');
        }),
    );

    test(
      'close(code, reason): the peer gets every frame queued before it, then that code and reason; closed is reported once, with that code',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const { socket, handle, peer } = await fixture.open();
          socket.send(utf8('one'));
          socket.sendPrepared(new PreparedFrame(utf8('two')));
          socket.send(utf8('three'.repeat(1000)));
          socket.close(4001, 'outbound buffer full');
          assert.deepEqual(await peer.closed, { code: 4001, reason: 'outbound buffer full' });
          assert.deepEqual(peer.messages, ['one', 'two', 'three'.repeat(1000)]);
          assert.equal((await assertClosedOnce(handle)).code, 4001);
        }),
    );

    test('close() twice: the first code and reason win; closed is reported once', TEST, () =>
      withFixture(async (fixture) => {
        const { socket, handle, peer } = await fixture.open();
        socket.close(4002, 'first');
        socket.close(4003, 'second');
        assert.deepEqual(await peer.closed, { code: 4002, reason: 'first' });
        assert.equal((await assertClosedOnce(handle)).code, 4002);
      }),
    );

    test('close() then terminate(): closed is reported once', TEST, () =>
      withFixture(async (fixture) => {
        const { socket, handle, peer } = await fixture.open();
        socket.close(4004, 'closing');
        socket.terminate();
        await peer.closed; // the close frame may or may not have left before the drop: any code
        await assertClosedOnce(handle);
      }),
    );

    test('terminate(): both sides see an abrupt end; closed is reported once', TEST, () =>
      withFixture(async (fixture) => {
        const { socket, handle, peer } = await fixture.open();
        socket.terminate();
        assert.equal((await peer.closed).code, fixture.abruptCloseCode);
        assert.equal((await assertClosedOnce(handle)).code, fixture.abruptCloseCode);
      }),
    );

    test(
      'a peer close is reported once, with the peer’s code and reason',
      needs(options.unsupported?.peerCloseCode),
      () =>
        withFixture(async (fixture) => {
          const { handle, peer } = await fixture.open();
          peer.close(4100, 'peer leaving €');
          assert.deepEqual(await assertClosedOnce(handle), { code: 4100, reason: 'peer leaving €' });
          assert.equal((await peer.closed).code, 4100);
        }),
    );

    test('a peer that drops the TCP connection is reported closed once, as an abrupt end', TEST, () =>
      withFixture(async (fixture) => {
        const { handle, peer } = await fixture.open();
        peer.drop();
        assert.equal((await assertClosedOnce(handle)).code, fixture.abruptCloseCode);
      }),
    );

    test(
      'a close reason over 123 bytes reaches the peer cut to the longest whole-character prefix that fits',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const reasons = [
            'r'.repeat(200),
            'é'.repeat(100), // 2-byte characters: 61 fit (122 bytes)
            '€'.repeat(50), // 3-byte characters: 41 fit (123 bytes)
            'a'.repeat(120) + '😀'.repeat(3), // a 4-byte character would end at byte 124
            'a'.repeat(121) + '😀' + 'b', // ... at byte 125
            'a'.repeat(119) + '😀', // exactly 123 bytes: kept whole
            'a'.repeat(119) + '😀' + 'c', // 124 bytes: the last character goes
          ];
          const seen = await Promise.all(
            reasons.map(async (reason) => {
              const { socket, peer } = await fixture.open();
              socket.close(4005, reason);
              return (await peer.closed).reason;
            }),
          );
          reasons.forEach((reason, i) => {
            const got = seen[i] ?? '';
            assert.ok(
              Buffer.byteLength(got) <= MAX_REASON_BYTES,
              `reason ${i}: ${Buffer.byteLength(got)} bytes`,
            );
            assert.equal(got, fittingPrefix(reason), `reason ${i} is cut at a character boundary`);
          });
        }),
    );

    test(
      'after close(), and after the closed report, send, sendPrepared and ping do not throw and write nothing',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const { socket, handle, peer } = await fixture.open();
          const prepared = new PreparedFrame(utf8('prepared'));
          const writeEverything = (): void => {
            socket.send(utf8('small'));
            socket.send(utf8('large'.repeat(2000))); // over 4 KiB: the WebSocket transport's other path
            socket.sendPrepared(prepared);
            socket.ping();
          };
          socket.send(utf8('last'));
          socket.close(4006, 'bye');
          assert.doesNotThrow(writeEverything, 'while closing');
          await peer.closed;
          await handle.closedReport();
          assert.doesNotThrow(writeEverything, 'once closed');
          assert.doesNotThrow(() => socket.close(4007, 'again'));
          assert.doesNotThrow(() => socket.terminate());
          assert.equal(typeof socket.bufferedAmount, 'number');
          await quiet();
          assert.deepEqual(peer.messages, ['last']);
          assert.equal(peer.framesAfterClose(), 0, 'no frame follows the close on the wire');
          assert.equal(handle.closes().length, 1);
          assert.equal(handle.calls.at(-1)?.method, 'closed');
        }),
    );

    test('text from the peer arrives through receiveText, in order', TEST, () =>
      withFixture(async (fixture) => {
        const { handle, peer } = await fixture.open();
        const texts = Array.from({ length: 50 }, (_, i) =>
          i % 10 === 9 ? `${i}:${'€'.repeat(10_000)}` : `{"id":${i},"text":"héllo 😀"}`,
        );
        texts.push('');
        for (const text of texts) peer.sendText(text);
        await handle.until(() => handle.calls.length >= texts.length, `${texts.length} texts`);
        assert.deepEqual(
          handle.calls,
          texts.map((text) => ({ method: 'receiveText', text })),
        );
      }),
    );

    test(
      'a binary frame from the peer arrives as receiveUnsupported, in order with text',
      needs(options.unsupported?.binary),
      () =>
        withFixture(async (fixture) => {
          const { handle, peer } = await fixture.open();
          peer.sendText('before');
          peer.sendBinary(new Uint8Array([0x7b, 0x7d, 0xff]));
          peer.sendText('after');
          await handle.until(() => handle.calls.length >= 3, 'three calls');
          assert.deepEqual(handle.calls, [
            { method: 'receiveText', text: 'before' },
            { method: 'receiveUnsupported' },
            { method: 'receiveText', text: 'after' },
          ]);
        }),
    );

    test('ping() leads to receiveTransportPong', needs(options.unsupported?.transportPing), () =>
      withFixture(async (fixture) => {
        const { socket, handle } = await fixture.open();
        assert.deepEqual(handle.calls, [], 'no pong before a ping');
        socket.ping();
        await handle.until(() => handle.calls.length > 0, 'a pong');
        assert.deepEqual(handle.calls, [{ method: 'receiveTransportPong', bytes: 0 }]);
      }),
    );

    test(
      'pingsProveReads: a pong to ping() is reported only once the peer has read every frame sent before the ping',
      needs(options.unsupported?.transportPing),
      () =>
        withFixture(async (fixture) => {
          const { socket, handle, peer } = await fixture.open();
          assert.equal(socket.pingsProveReads, true, 'a transport with pings says whether they prove reads');
          peer.pause();
          const texts = Array.from({ length: 64 }, (_, i) => `${i}:`.padEnd(64 * 1024, 'r'));
          for (const text of texts) socket.send(utf8(text));
          socket.ping();
          await quiet(200);
          assert.equal(
            handle.calls.filter((c) => c.method === 'receiveTransportPong').length,
            0,
            'no pong while the peer is not reading',
          );
          peer.resume();
          await handle.until(() => handle.calls.some((c) => c.method === 'receiveTransportPong'), 'the pong');
          assert.equal(peer.messages.length, texts.length, 'every frame before the ping was read first');
        }),
    );

    test(
      'a ping from the peer is reported with its size, and answered (its payload echoed) only when receiveTransportPing admits it',
      needs(options.unsupported?.transportPing),
      () =>
        withFixture(async (fixture) => {
          const { handle, peer } = await fixture.open();
          peer.sendPing(utf8('first'));
          await peer.until(() => peer.pongs.length === 1, 'the first pong');
          handle.admitPings = false;
          peer.sendPing(utf8('refused'));
          peer.sendText('still open');
          await handle.until(() => handle.calls.length >= 3, 'the refused ping and the text');
          handle.admitPings = true;
          peer.sendPing(utf8('third'));
          await peer.until(() => peer.pongs.length === 2, 'the third pong');
          assert.deepEqual(peer.pongs, ['first', 'third'], 'the refused ping got no pong');
          assert.deepEqual(handle.calls, [
            { method: 'receiveTransportPing', bytes: 5 },
            { method: 'receiveTransportPing', bytes: 7 },
            { method: 'receiveText', text: 'still open' },
            { method: 'receiveTransportPing', bytes: 5 },
          ]);
        }),
    );

    test(
      'a pong the peer sends unasked is reported through receiveTransportPong with its size',
      needs(options.unsupported?.transportPing),
      () =>
        withFixture(async (fixture) => {
          const { handle, peer } = await fixture.open();
          peer.sendPong(utf8('unasked'));
          await handle.until(() => handle.calls.length > 0, 'the pong');
          assert.deepEqual(handle.calls, [{ method: 'receiveTransportPong', bytes: 7 }]);
        }),
    );

    test(
      'a message over the size limit is reported through receiveInvalid with the code the peer gets, then closed once',
      TEST,
      () =>
        withFixture(async (fixture) => {
          const { handle, peer } = await fixture.open();
          peer.sendText('fits');
          peer.sendText('x'.repeat(fixture.maxMessageBytes + 1));
          const closed = await peer.closed;
          assert.equal(closed.code, fixture.messageTooBigCode);
          await assertClosedOnce(handle);
          const invalid = handle.calls.filter((c) => c.method === 'receiveInvalid');
          assert.equal(invalid.length, 1, JSON.stringify(handle.calls).slice(0, 300));
          assert.equal(invalid[0]?.method === 'receiveInvalid' && invalid[0].code, fixture.messageTooBigCode);
          assert.deepEqual(handle.calls[0], { method: 'receiveText', text: 'fits' });
          assert.equal(handle.calls[1]?.method, 'receiveInvalid', 'nothing of the message is reported');
        }),
    );

    test('frames the peer sends as the connection opens are not lost', TEST, () =>
      withFixture(async (fixture) => {
        const earlyText = ['first', 'second €', '😀'.repeat(30)];
        const { handle, peer } = await fixture.open({ earlyText });
        peer.sendText('after open');
        const texts = [...earlyText, 'after open'];
        await handle.until(() => handle.calls.length >= texts.length, `${texts.length} texts`);
        assert.deepEqual(
          handle.calls,
          texts.map((text) => ({ method: 'receiveText', text })),
        );
      }),
    );
  });
}
