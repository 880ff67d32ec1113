// closeCodeOf names the close code ws sends when its receiver refuses a frame; checked against the code ws
// itself attaches to each error, on the ws version installed, so an upgrade that changes one shows here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeCodeOf } from '../src/transports/websocket-transport.js';

/** The part of ws's Receiver used here (@types/ws does not declare it). */
interface ReceiverLike {
  write(chunk: Buffer): boolean;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
}
const { Receiver } = (await import('ws')) as unknown as {
  Receiver: new (options: { isServer: boolean; maxPayload: number; maxFragments: number }) => ReceiverLike;
};

/** A masked client frame with a 7- or 16-bit length. */
function clientFrame(opcode: number, fin: boolean, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const masked = payload.map((byte, i) => byte ^ (mask[i & 3] ?? 0));
  const first = (fin ? 0x80 : 0) | opcode;
  const head =
    payload.length < 126
      ? Buffer.from([first, 0x80 | payload.length])
      : Buffer.from([first, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, mask, masked]);
}

/** The error a server-side ws Receiver (maxPayload 100, at most 4 fragments) raises for `bytes`. */
function refusal(bytes: Buffer): Promise<Error & { code?: string }> {
  const receiver = new Receiver({ isServer: true, maxPayload: 100, maxFragments: 4 });
  return new Promise((resolve) => {
    receiver.on('error', resolve);
    receiver.write(bytes);
  });
}

/** The close code ws attached to its error (a Symbol-keyed property: ws's kStatusCode). */
function wsStatusCode(error: object): number {
  const key = Object.getOwnPropertySymbols(error).find((s) => s.description === 'status-code');
  assert.ok(key !== undefined, 'ws attaches a status code to its receiver errors');
  const code = (error as Record<symbol, unknown>)[key];
  assert.equal(typeof code, 'number');
  return code as number;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

const CASES: readonly { readonly name: string; readonly bytes: Buffer; readonly code: number }[] = [
  { name: 'one frame over maxPayload', bytes: clientFrame(1, true, Buffer.alloc(101, 0x61)), code: 1009 },
  {
    name: 'a fragmented message over maxPayload',
    bytes: Buffer.concat([
      clientFrame(1, false, Buffer.alloc(60, 0x61)),
      clientFrame(0, true, Buffer.alloc(60, 0x61)),
    ]),
    code: 1009,
  },
  {
    name: 'a message in more fragments than maxFragments',
    bytes: Buffer.concat([
      clientFrame(1, false, text('a')),
      ...Array.from({ length: 4 }, () => clientFrame(0, false, text('b'))),
    ]),
    code: 1008,
  },
  { name: 'text that is not UTF-8', bytes: clientFrame(1, true, Buffer.from([0xff, 0xfe])), code: 1007 },
  { name: 'an unknown opcode', bytes: clientFrame(3, true, text('x')), code: 1002 },
  { name: 'an unmasked client frame', bytes: Buffer.from([0x81, 0x01, 0x61]), code: 1002 },
];

describe('closeCodeOf', () => {
  for (const { name, bytes, code } of CASES) {
    it(`${name}: ${code}, the code ws sends`, async () => {
      const error = await refusal(bytes);
      assert.equal(wsStatusCode(error), code);
      assert.equal(closeCodeOf(error), code);
    });
  }

  it('is null for an error that is not the receiver’s', () => {
    assert.equal(closeCodeOf(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), null);
    assert.equal(closeCodeOf({}), null);
    assert.equal(closeCodeOf({ code: 'EPIPE' }), null);
  });
});
