// permessage-deflate on MessagePack connections (issue 16): a compressed binary message keeps the
// binary opcode (first byte 0xc2, RSV1 + opcode 2; 0xc1 would tell the client it is UTF-8 text), in the
// shared fan-out frame, in a batch and in a reply of its own, beside a JSON client that negotiated
// compression and a plain one in the same channel. The wire bytes are read off each client's TCP socket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { encode } from '@msgpack/msgpack';
import { SwitchboardClient } from '@switchboard/client';
import type { ChannelMessage } from '@switchboard/client';
import { TestClient, startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';

const MSGPACK = 'switchboard.v1.msgpack';

/** A compressible payload of a few KB (repeated keys, like a ticker's). */
function ticks(count: number, seq = 0): { rows: { symbol: string; price: number; volume: number }[] } {
  const rows = [];
  for (let i = 0; i < count; i++)
    rows.push({ symbol: `SYM${i % 20}`, price: 100 + i + seq, volume: 1000 * i });
  return { rows };
}

/** A test client that also records the first byte of every frame the server writes to it from `tap()`. */
interface Tapped {
  readonly c: TestClient;
  readonly extensions: string;
  /** Start recording: call between messages, when no frame is half read. */
  tap(): void;
  /** The first byte (FIN, RSV1, opcode) of each frame read since `tap()`. */
  heads(): number[];
}

async function client(
  t: TestServer,
  query: string,
  protocols: string[],
  options: ClientOptions,
): Promise<Tapped> {
  const ws = new WebSocket(`${t.wsUrl}/ws${query}`, protocols, options);
  const c = new TestClient(ws);
  let extensions = '';
  const socket = await new Promise<Socket>((resolve, reject) => {
    let upgraded: Socket | undefined;
    ws.once('upgrade', (response) => {
      upgraded = response.socket as Socket;
      extensions = response.headers['sec-websocket-extensions'] ?? '';
    });
    ws.once('open', () => (upgraded === undefined ? reject(new Error('no upgrade')) : resolve(upgraded)));
    ws.once('error', reject);
  });
  await c.nextOfType('connected');
  let chunks: Buffer[] | null = null;
  socket.on('data', (chunk: Buffer) => chunks?.push(chunk));
  return {
    c,
    extensions,
    tap: () => {
      chunks = [];
    },
    heads: () => frameHeads(Buffer.concat(chunks ?? [])),
  };
}

/** The first byte of each (unmasked, server-sent) frame in `bytes`, which starts on a frame boundary. */
function frameHeads(bytes: Buffer): number[] {
  const heads: number[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const short = (bytes[at + 1] ?? 0) & 0x7f;
    let header = 2;
    let length = short;
    if (short === 126) {
      header = 4;
      length = bytes.readUInt16BE(at + 2);
    } else if (short === 127) {
      header = 10;
      length = bytes.readUInt32BE(at + 6);
    }
    heads.push(bytes[at] ?? 0);
    at += header + length;
  }
  return heads;
}

/** Subscribe over either encoding (a MessagePack client's command is MessagePack). */
async function subscribe(x: Tapped, channel: string, binary: boolean): Promise<void> {
  const command = { id: 1, type: 'subscribe', channel };
  const reply = x.c.reply(1);
  x.c.send(binary ? encode(command) : command);
  assert.equal((await reply)['error'], undefined);
}

const hex = (bytes: number[]): string[] => bytes.map((b) => `0x${b.toString(16)}`);

describe('permessage-deflate with MessagePack connections', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({
      compression: { enabled: true },
      channels: [
        { pattern: 'plain:*', compress: false },
        { pattern: 'batched:*', batchDelayMs: 200 },
      ],
    });
  });
  after(() => t.stop());

  it('shares compressed binary frames (0xc2) beside a JSON deflate client (0xc1) and a plain one', async () => {
    const mp = await client(t, '', [MSGPACK], { perMessageDeflate: true });
    const json = await client(t, '', ['switchboard.v1'], { perMessageDeflate: true });
    const plain = await client(t, '', [MSGPACK], { perMessageDeflate: false });
    assert.match(mp.extensions, /^permessage-deflate/);
    assert.match(json.extensions, /^permessage-deflate/);
    assert.equal(plain.extensions, '');
    await subscribe(mp, 'ticker:mp', true);
    await subscribe(json, 'ticker:mp', false);
    await subscribe(plain, 'ticker:mp', true);
    await waitMembers(t, 'ticker:mp', 3);
    for (const x of [mp, json, plain]) x.tap();
    // Large, small, large: each compressed message stands alone.
    const sent = [ticks(60, 1), { small: 1 }, ticks(60, 2)];
    for (const data of sent) await t.server.publish('ticker:mp', data);
    for (const x of [mp, json, plain])
      for (const data of sent) assert.deepEqual((await x.c.nextOfType('message', 10_000))['data'], data);
    assert.deepEqual(hex(mp.heads()), ['0xc2', '0x82', '0xc2']);
    assert.deepEqual(hex(json.heads()), ['0xc1', '0x81', '0xc1']);
    assert.deepEqual(hex(plain.heads()), ['0x82', '0x82', '0x82']);
    for (const x of [mp, json, plain]) x.c.close();
  });

  it('compresses a batch of MessagePack values as one binary message, and not in a compress: false channel', async () => {
    const mp = await client(t, '?batch=1', [MSGPACK], { perMessageDeflate: true });
    await subscribe(mp, 'batched:a', true);
    const second = { id: 2, type: 'subscribe', channel: 'plain:b' };
    const reply = mp.c.reply(2);
    mp.c.send(encode(second));
    assert.equal((await reply)['error'], undefined);
    await waitMembers(t, 'batched:a', 1);
    mp.tap();
    // Published within the 200 ms batch delay of batched:a: one message of three values.
    for (let i = 0; i < 3; i++) await t.server.publish('batched:a', ticks(30, i));
    for (let i = 0; i < 3; i++)
      assert.deepEqual((await mp.c.nextOfType('message', 10_000))['data'], ticks(30, i));
    assert.deepEqual(hex(mp.heads()), ['0xc2']);
    mp.tap();
    await t.server.publish('plain:b', ticks(60));
    assert.deepEqual((await mp.c.nextOfType('message', 10_000))['data'], ticks(60));
    assert.deepEqual(hex(mp.heads()), ['0x82']);
    mp.c.close();
  });

  it('compresses a large reply of its own (history) as a binary message', async () => {
    for (let i = 0; i < 10; i++) await t.server.publish('ticker:history', ticks(20, i));
    const mp = await client(t, '', [MSGPACK], { perMessageDeflate: true });
    mp.tap();
    const reply = mp.c.reply(3);
    mp.c.send(encode({ id: 3, type: 'history', channel: 'ticker:history', limit: 10 }));
    const result = (await reply)['result'] as { messages: { data: unknown }[] };
    assert.deepEqual(
      result.messages.map((m) => m.data),
      Array.from({ length: 10 }, (_, i) => ticks(20, i)),
    );
    assert.deepEqual(hex(mp.heads()), ['0xc2']);
    mp.c.close();
  });

  it("the SDK with format 'msgpack' on ws (which offers the extension) reads compressed binary frames", async () => {
    const sockets: WebSocket[] = [];
    // The SDK's WebSocket option: ws itself, keeping each socket to read what it negotiated.
    class KeptWebSocket extends WebSocket {
      constructor(url: string, protocols?: string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const sdk = new SwitchboardClient(`${t.wsUrl}/ws`, { WebSocket: KeptWebSocket, format: 'msgpack' });
    const plain = await client(t, '', ['switchboard.v1'], { perMessageDeflate: false });
    try {
      assert.equal((await sdk.connect()).format, 'msgpack');
      const ws = sockets.at(-1);
      assert.equal(ws?.protocol, MSGPACK);
      assert.match(ws?.extensions ?? '', /^permessage-deflate/);
      const sub = sdk.subscribe('ticker:sdk');
      await sub.ready({ timeoutMs: 5000 });
      await subscribe(plain, 'ticker:sdk', false);
      await waitMembers(t, 'ticker:sdk', 2);
      const received = new Promise<ChannelMessage>((resolve) => sub.once('message', resolve));
      await t.server.publish('ticker:sdk', ticks(80));
      assert.deepEqual((await received).data, ticks(80));
      assert.deepEqual((await plain.c.nextOfType('message', 10_000))['data'], ticks(80));
    } finally {
      sdk.close();
      plain.c.close();
    }
  });
});
