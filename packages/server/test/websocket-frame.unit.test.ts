// frameText builds the server's WebSocket text frame once per fan-out; it must be exactly what ws's own
// Sender writes, and ws's Receiver (what every Node client runs) must read it back intact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { frameDeflated, frameMessage, frameText } from '../src/transports/websocket-frame.js';
import { PreparedFrame } from '../src/transports/transport.js';

/** The parts of ws's Receiver and Sender used here (@types/ws does not declare them). */
interface ReceiverLike {
  write(chunk: Buffer): boolean;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
interface WsInternals {
  Receiver: new (options: { isServer: boolean; maxPayload?: number }) => ReceiverLike;
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
    ): Buffer[];
  };
}
// The ESM entry of ws exports them by name (its CommonJS entry hangs them on the WebSocket class).
const { Receiver, Sender } = (await import('ws')) as unknown as WsInternals;

const LENGTHS = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];

function payloadOf(length: number): Buffer {
  const payload = Buffer.alloc(length);
  for (let i = 0; i < length; i++) payload[i] = 0x61 + (i % 26);
  return payload;
}

/** Feed `frames` to a client-side ws Receiver; resolves with the messages it read. */
function receive(frames: readonly Buffer[], chunk = Infinity): Promise<{ text: string; binary: boolean }[]> {
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const messages: { text: string; binary: boolean }[] = [];
  return new Promise((resolve, reject) => {
    receiver.on('message', (data, isBinary) => {
      messages.push({ text: data.toString('utf8'), binary: isBinary });
      if (messages.length === frames.length) resolve(messages);
    });
    receiver.on('error', reject);
    const all = Buffer.concat(frames);
    // Split anywhere (not only at frame boundaries), as TCP does.
    for (let at = 0; at < all.length; at += Math.min(chunk, all.length - at)) {
      receiver.write(all.subarray(at, Math.min(all.length, at + chunk)));
    }
  });
}

describe('frameText', () => {
  for (const length of LENGTHS) {
    it(`is byte for byte ws's own server frame for a ${length}-byte payload`, () => {
      const payload = payloadOf(length);
      const ws = Buffer.concat(
        Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }),
      );
      assert.deepEqual(frameText(payload), ws);
    });
  }

  it('uses the 7-, 16- and 64-bit length forms at the RFC 6455 boundaries', () => {
    const header = (length: number): number[] => [...frameText(payloadOf(length)).subarray(0, 10)];
    assert.deepEqual(header(0).slice(0, 2), [0x81, 0]);
    assert.deepEqual(header(125).slice(0, 2), [0x81, 125]);
    assert.deepEqual(header(126).slice(0, 4), [0x81, 126, 0x00, 126]);
    assert.deepEqual(header(65_535).slice(0, 4), [0x81, 126, 0xff, 0xff]);
    assert.deepEqual(header(65_536), [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert.equal(frameText(payloadOf(65_536)).length, 65_536 + 10);
  });

  it("is read back intact by ws's Receiver, frames back to back and split at every offset class", async () => {
    const payloads = LENGTHS.map(payloadOf);
    payloads.push(Buffer.from('{"type":"message","data":"é ☃ 𝄞"}'));
    for (const chunk of [Infinity, 1, 7, 4096]) {
      const messages = await receive(payloads.map(frameText), chunk);
      assert.deepEqual(
        messages,
        payloads.map((p) => ({ text: p.toString('utf8'), binary: false })),
        `chunk ${chunk}`,
      );
    }
  });

  it('does not modify the payload, which other formats and the reply path may share', () => {
    const payload = Buffer.from('{"type":"ping"}');
    const copy = Buffer.from(payload);
    frameText(payload);
    assert.deepEqual(payload, copy);
  });
});

describe('frameMessage and frameDeflated', () => {
  it("are ws's own server frames: binary (opcode 2) and compressed (RSV1) in either opcode", () => {
    for (const length of LENGTHS) {
      const payload = payloadOf(length);
      for (const [opcode, rsv1] of [
        [2, false],
        [1, true],
        [2, true],
      ] as const) {
        const ws = Buffer.concat(
          Sender.frame(payload, { fin: true, opcode, mask: false, readOnly: true, rsv1 }),
        );
        const ours = rsv1 ? frameDeflated(payload, opcode === 2) : frameMessage(payload, opcode === 2);
        assert.deepEqual(ours, ws, `opcode ${opcode} rsv1 ${rsv1} length ${length}`);
      }
    }
    // The first bytes a client sees: 0xc2 is a compressed MessagePack message, 0xc1 compressed text.
    assert.equal(frameDeflated(payloadOf(1), true)[0], 0xc2);
    assert.equal(frameDeflated(payloadOf(1), false)[0], 0xc1);
  });
});

describe('PreparedFrame', () => {
  it('starts unframed: the transport frames it on first use', () => {
    const frame = new PreparedFrame(Buffer.from('{}'));
    assert.equal(frame.websocket, null);
    assert.equal(frame.payload.toString(), '{}');
  });
});
