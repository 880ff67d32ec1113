import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Encoder, ExtData, encode } from '@msgpack/msgpack';
import { DEFAULT_MAX_DATA_DEPTH, decodeCommand, encodeData } from '../src/codec.js';
import type { DecodeResult } from '../src/codec.js';
import {
  decodeCommandMsgpack,
  decodeServerFramesMsgpack,
  encodeCommandMsgpack,
  encodeServerFrameMsgpack,
  msgpackFromJson,
} from '../src/msgpack-codec.js';
import { scanMsgpackValue } from '../src/msgpack-scan.js';
import { ERROR_CODE_INFO, ErrorCode } from '../src/codes.js';
import { DEFAULT_MAX_CHANNEL_LENGTH } from '../src/channel-name.js';
import { MSGPACK_SUBPROTOCOL, JSON_SUBPROTOCOL } from '../src/frames.js';
import type { ClientCommand, ServerFrame } from '../src/frames.js';

/** What a result says, for comparing two codecs: the code and the id, or the command. */
function outcome(result: DecodeResult): unknown {
  // Through JSON: MessagePack writes -0 as the integer 0, and JSON would send it as 0 anyway.
  return result.ok
    ? { command: JSON.parse(JSON.stringify(result.command)) as unknown }
    : { code: result.error.code, id: result.id };
}

function failure(result: DecodeResult): { code: string; id: number | undefined; message: string } {
  if (result.ok) assert.fail(`expected a failure, got ${JSON.stringify(result.command)}`);
  return { code: result.error.code, id: result.id, message: result.error.message };
}

function command(result: DecodeResult): ClientCommand {
  if (!result.ok) assert.fail(`expected a command, got ${result.error.code}: ${result.error.message}`);
  return result.command;
}

/** `depth` arrays nested, around `inner`. */
function nest(depth: number, inner: unknown = []): unknown {
  let value: unknown = inner;
  for (let i = 1; i < depth; i++) value = [value];
  return depth === 0 ? inner : value;
}

/** Concatenated byte arrays. */
function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) out.push(...part);
  return new Uint8Array(out);
}

/** Bytes of a UTF-8 string as a MessagePack fixstr. */
function fixstr(text: string): number[] {
  const bytes = [...Buffer.from(text)];
  return [0xa0 + bytes.length, ...bytes];
}

describe('subprotocols', () => {
  it('are switchboard.v1 for JSON and switchboard.v1.msgpack for MessagePack', () => {
    assert.equal(JSON_SUBPROTOCOL, 'switchboard.v1');
    assert.equal(MSGPACK_SUBPROTOCOL, 'switchboard.v1.msgpack');
  });
});

describe('decodeCommandMsgpack: the rules of the JSON codec, with the same codes', () => {
  // Every frame the JSON codec's tests throw at it that JSON.parse reads, as MessagePack of the same value.
  const corpus = [
    '{"type":"ping"}',
    '{"type":"pong","id":2}',
    '{"type":"ping","id":0}',
    `{"type":"ping","id":${Number.MAX_SAFE_INTEGER}}`,
    '{"type":"ping","id":1.0}',
    '{"type":"ping","id":1e3}',
    '{"type":"ping","id":-0}',
    ...['-1', '1.5', '0.1', '1e300', '9007199254740992', '"1"', '""', 'null', 'true', '[1]', '{"n":1}'].map(
      (id) => `{"type":"ping","id":${id}}`,
    ),
    '{"type":"nope","id":-5}',
    ...['', ',"type":1', ',"type":null', ',"type":["ping"]', ',"type":{"0":"ping"}', ',"type":true'].map(
      (raw) => `{"id":7${raw}}`,
    ),
    ...['PING', 'ping ', '', 'constructor', 'toString', 'reply'].map((type) =>
      JSON.stringify({ type, id: 3 }),
    ),
    JSON.stringify({ type: 'x'.repeat(10_000) }),
    '{"type":"ping","channel":"x","data":1,"extra":{"a":[1]}}',
    '{"type":"subscribe","id":1,"channel":"chat:lobby"}',
    '{"type":"subscribe","id":1,"channel":"c","since":{"offset":3,"epoch":"e"}}',
    '{"type":"subscribe","id":1,"channel":"c","since":{"offset":-3,"epoch":"e"}}',
    '{"type":"subscribe","id":1,"channel":"c","since":{"offset":3}}',
    '{"type":"unsubscribe","channel":"a"}',
    ...[null, 1, true, ['a'], { name: 'a' }, '', 'a b', 'room*', 'caf\u00e9', 'a\u0000b', ' a'].flatMap(
      (channel) => [
        JSON.stringify({ type: 'subscribe', id: 9, channel }),
        JSON.stringify({ type: 'publish', id: 9, channel, data: 1 }),
        JSON.stringify({ type: 'history', id: 9, channel }),
        JSON.stringify({ type: 'presence', id: 9, channel }),
      ],
    ),
    JSON.stringify({ type: 'subscribe', channel: 'c'.repeat(DEFAULT_MAX_CHANNEL_LENGTH) }),
    JSON.stringify({ type: 'subscribe', channel: 'c'.repeat(DEFAULT_MAX_CHANNEL_LENGTH + 1) }),
    '{"type":"publish","id":4,"channel":"c","data":{"text":"hi"},"ephemeral":true,"excludeSelf":false}',
    '{"type":"publish","channel":"c","data":1}',
    ...[null, false, 0, '', [], {}].map((data) => JSON.stringify({ type: 'publish', channel: 'c', data })),
    '{"type":"publish","id":1,"channel":"c"}',
    '{"type":"publish","channel":"bad name"}',
    ...['ephemeral', 'excludeSelf'].flatMap((field) =>
      [null, 1, 0, 'true', [], {}].map((value) =>
        JSON.stringify({ type: 'publish', id: 5, channel: 'c', data: 1, [field]: value }),
      ),
    ),
    '{"type":"send","id":6,"data":[1,2],"channel":"not checked"}',
    '{"type":"send","id":8}',
    '{"type":"send","data":null}',
    `{"type":"publish","channel":"c","data":${JSON.stringify(nest(DEFAULT_MAX_DATA_DEPTH))}}`,
    `{"type":"publish","id":1,"channel":"c","data":${JSON.stringify(nest(DEFAULT_MAX_DATA_DEPTH + 1))}}`,
    `{"type":"send","id":2,"data":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}`,
    ...['1e309', '-1e309', '[1, 2e400]', '{"a":{"b":[0, -9e999]}}'].map(
      (data) => `{"type":"publish","id":3,"channel":"c","data":${data}}`,
    ),
    '{"type":"publish","channel":"c","data":[1.7976931348623157e308, 5e-324, 1e-400]}',
    '{"type":"ping","junk":1e309}',
    '{"type":"send","data":1,"type":"publish"}',
    '{"type":"auth","id":1,"token":"a.b.c"}',
    '{"type":"auth","id":1,"token":""}',
    `{"type":"refresh","id":1,"token":"${'t'.repeat(9000)}"}`,
    '{"type":"history","id":1,"channel":"c","since":4,"limit":1000}',
    '{"type":"history","id":1,"channel":"c","limit":1001}',
    '{"type":"history","id":1,"channel":"c","since":-1}',
    '{"type":"presence_stats","id":1,"channel":"c"}',
    '{"type":"inbox","id":1,"device":"d-1","prefetch":5}',
    '{"type":"inbox","id":1,"device":"bad device"}',
    '{"type":"ack","id":1,"message":"m1","queue":"q"}',
    '{"type":"nack","id":1,"message":"m1","delay":-1}',
    '{"type":"consume","id":1,"queue":"bad queue!"}',
    '{"type":"cancel","id":1,"queue":"q"}',
    '[]',
    '[{"type":"ping","id":1}]',
    'null',
    '0',
    '"ping"',
    'true',
  ];

  it('decodes every frame of the JSON corpus to the same command, or refuses it with the same code and id', () => {
    for (const text of corpus) {
      const json = decodeCommand(text);
      const msgpack = decodeCommandMsgpack(encode(JSON.parse(text)));
      assert.deepEqual(outcome(msgpack), outcome(json), text.slice(0, 120));
    }
  });

  it('honours maxChannelLength and maxDataDepth', () => {
    const options = { maxChannelLength: 4, maxDataDepth: 2 };
    assert.equal(decodeCommandMsgpack(encode({ type: 'subscribe', channel: 'abcd' }), options).ok, true);
    assert.equal(
      failure(decodeCommandMsgpack(encode({ type: 'subscribe', channel: 'abcde' }), options)).code,
      ErrorCode.InvalidChannel,
    );
    assert.equal(decodeCommandMsgpack(encode({ type: 'send', data: [[1]] }), options).ok, true);
    assert.equal(decodeCommandMsgpack(encode({ type: 'send', data: [[[1]]] }), options).ok, false);
  });

  it('refuses numbers JSON cannot carry (Infinity, NaN, as float 64 or float 32) with bad_request and the id', () => {
    const float32 = new Encoder({ forceFloat32: true });
    for (const data of [Infinity, -Infinity, NaN, [1, NaN], { a: { b: Infinity } }]) {
      for (const bytes of [
        encode({ type: 'publish', id: 3, channel: 'c', data }),
        float32.encode({ type: 'send', id: 3, data }),
      ]) {
        const f = failure(decodeCommandMsgpack(bytes));
        assert.equal(f.code, ErrorCode.BadRequest, String(data));
        assert.equal(f.id, 3);
        assert.match(f.message, /number JSON cannot carry/);
      }
    }
  });

  it('ignores deep nesting in fields the command does not use, as JSON does, without overflowing the stack', () => {
    // 100,000 levels of fixarray 1 in a junk field: the scan and the decoder are iterative.
    const junk = new Uint8Array(100_000).fill(0x91);
    const bytes = concat([0x82], fixstr('type'), fixstr('ping'), fixstr('junk'), junk, [0xc0]);
    assert.deepEqual(command(decodeCommandMsgpack(bytes)), { type: 'ping' });
    const deepData = concat([0x82], fixstr('type'), fixstr('send'), fixstr('data'), junk, [0xc0]);
    assert.equal(failure(decodeCommandMsgpack(deepData)).code, ErrorCode.BadRequest);
  });
});

describe('decodeCommandMsgpack: what MessagePack adds', () => {
  const ping = encode({ type: 'ping', id: 1 });

  it('refuses a frame that is not exactly one value with invalid_json and no id', () => {
    for (let cut = 0; cut < ping.length; cut++) {
      const f = failure(decodeCommandMsgpack(ping.subarray(0, cut)));
      assert.equal(f.code, ErrorCode.InvalidJson, `cut at ${cut}`);
      assert.equal(f.id, undefined);
    }
    for (const extra of [[0xc0], [...ping]]) {
      const f = failure(decodeCommandMsgpack(concat(ping, extra)));
      assert.equal(f.code, ErrorCode.InvalidJson);
      assert.match(f.message, /after its MessagePack value/);
    }
    assert.equal(failure(decodeCommandMsgpack(new Uint8Array([0xc1]))).code, ErrorCode.InvalidJson);
  });

  it('refuses extension types anywhere, the timestamp included, with invalid_json', () => {
    const exts = [
      new ExtData(1, new Uint8Array([1])),
      new ExtData(2, new Uint8Array(2)),
      new ExtData(3, new Uint8Array(4)),
      new ExtData(4, new Uint8Array(8)),
      new ExtData(5, new Uint8Array(16)),
      new ExtData(6, new Uint8Array(3)),
      new ExtData(7, new Uint8Array(300)),
      new ExtData(8, new Uint8Array(70_000)),
      new Date(0),
    ];
    for (const ext of exts) {
      for (const frame of [
        { type: 'publish', id: 1, channel: 'c', data: ext },
        { type: 'send', id: 1, data: { deep: [ext] } },
        { type: 'ping', id: 1, junk: ext },
      ]) {
        const f = failure(decodeCommandMsgpack(encode(frame)));
        assert.equal(f.code, ErrorCode.InvalidJson, String(ext));
        assert.match(f.message, /extension types are not allowed/);
      }
    }
    assert.equal(failure(decodeCommandMsgpack(encode(new Date(0)))).code, ErrorCode.InvalidJson);
  });

  it('refuses map keys that are not strings, at any depth, with invalid_json', () => {
    const keys = [
      [0x01],
      [0xc0],
      [0xc3],
      [0xcb, 0, 0, 0, 0, 0, 0, 0, 0],
      [0xc4, 1, 0x61],
      [0x91, 0x01],
      [0x81, 0xa1, 0x61, 1],
    ];
    for (const key of keys) {
      const top = concat([0x82], fixstr('type'), fixstr('ping'), key, [0xc0]);
      const inData = concat([0x82], fixstr('type'), fixstr('send'), fixstr('data'), [0x81], key, [0xc0]);
      for (const bytes of [top, inData]) {
        const f = failure(decodeCommandMsgpack(bytes));
        assert.equal(f.code, ErrorCode.InvalidJson, key.join(','));
        assert.match(f.message, /map key must be a string/);
      }
    }
  });

  it('refuses the map key __proto__ (which the decoder refuses against prototype pollution), however it is spelled', () => {
    const key = Buffer.from('__proto__');
    for (const spelled of [fixstr('__proto__'), [0xd9, key.length, ...key], [0xda, 0, key.length, ...key]]) {
      const bytes = concat([0x82], fixstr('type'), fixstr('send'), fixstr('data'), [0x81], spelled, [0x01]);
      const f = failure(decodeCommandMsgpack(bytes));
      assert.equal(f.code, ErrorCode.InvalidJson);
      assert.match(f.message, /__proto__/);
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses arrays and maps that announce more elements than the frame holds, at once and without the memory', () => {
    // 21,845 nested `array 16` headers each announcing 65,535 elements: a decoder that allocates what is
    // announced needs 11 GB for this 64 KiB frame.
    const levels = Math.floor(65_536 / 3);
    const attack = new Uint8Array(levels * 3 + 1);
    for (let i = 0; i < levels; i++) attack.set([0xdc, 0xff, 0xff], i * 3);
    attack[levels * 3] = 0xc0;
    const before = process.memoryUsage().heapUsed;
    for (const bytes of [
      attack,
      new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]),
      concat([0x81], fixstr('data'), [0xdc, 0x00, 0x03, 0x01, 0x01]),
    ]) {
      const f = failure(decodeCommandMsgpack(bytes));
      assert.equal(f.code, ErrorCode.InvalidJson);
    }
    assert.ok(process.memoryUsage().heapUsed - before < 50_000_000);
  });

  it('refuses a value that is not a map with invalid_frame, and fields of the wrong type with their own code', () => {
    const bin = new Uint8Array([1, 2]);
    for (const value of [[], [{ type: 'ping' }], 1, 'ping', null, true, bin, 1.5])
      assert.equal(failure(decodeCommandMsgpack(encode(value))).code, ErrorCode.InvalidFrame, String(value));
    assert.equal(failure(decodeCommandMsgpack(encode({ type: bin, id: 1 }))).code, ErrorCode.UnknownCommand);
    assert.equal(failure(decodeCommandMsgpack(encode({ type: 'ping', id: bin }))).code, ErrorCode.BadRequest);
    const f = failure(decodeCommandMsgpack(encode({ type: 'subscribe', id: 2, channel: bin })));
    assert.deepEqual([f.code, f.id], [ErrorCode.InvalidChannel, 2]);
    assert.equal(
      failure(decodeCommandMsgpack(encode({ type: 'auth', id: 2, token: bin }))).code,
      ErrorCode.BadRequest,
    );
  });

  it('reads an integer beyond 2^53 as JSON does: a number, refused as an id', () => {
    const f = failure(
      decodeCommandMsgpack(new Encoder({ useBigInt64: true }).encode({ type: 'ping', id: 2n ** 63n })),
    );
    assert.equal(f.code, ErrorCode.BadRequest);
  });
});

describe('bytes in payloads', () => {
  it('arrive in their JSON form, the command a JSON client would send for the same payload', () => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const decoded = command(
      decodeCommandMsgpack(
        encode({ type: 'publish', id: 1, channel: 'c', data: { file: bytes, list: [bytes] } }),
      ),
    );
    const json = { $base64: 'AAEC/f7/' };
    assert.deepEqual(decoded, { type: 'publish', id: 1, channel: 'c', data: { file: json, list: [json] } });
    assert.deepEqual(command(decodeCommandMsgpack(encode({ type: 'send', data: bytes }))), {
      type: 'send',
      data: json,
    });
    assert.deepEqual(command(decodeCommandMsgpack(encode({ type: 'send', data: new Uint8Array(0) }))), {
      type: 'send',
      data: { $base64: '' },
    });
  });

  it('count as one level of depth, as their JSON form does', () => {
    const bytes = new Uint8Array([7]);
    const ok = encode({ type: 'send', id: 1, data: nest(DEFAULT_MAX_DATA_DEPTH - 1, [bytes]) });
    assert.equal(decodeCommandMsgpack(ok).ok, true);
    const deep = encode({ type: 'send', id: 1, data: nest(DEFAULT_MAX_DATA_DEPTH, [bytes]) });
    assert.equal(failure(decodeCommandMsgpack(deep)).code, ErrorCode.BadRequest);
  });

  it('go out to MessagePack clients as bin, whoever published them', () => {
    const frame = `{"type":"message","channel":"c","id":1,"data":{"a":{"$base64":"AAEC"},"b":{"$base64":"not base64"},"c":{"$base64":"AAEC","x":1}},"time":5}`;
    const [decoded] = decodeServerFramesMsgpack(msgpackFromJson(frame));
    assert.deepEqual(decoded, {
      type: 'message',
      channel: 'c',
      id: 1,
      data: { a: new Uint8Array([0, 1, 2]), b: { $base64: 'not base64' }, c: { $base64: 'AAEC', x: 1 } },
      time: 5,
    });
  });
});

describe('round trips', () => {
  it('every command through encodeCommandMsgpack and decodeCommandMsgpack', () => {
    const bytes = new Uint8Array([9, 8, 7]);
    const commands: ClientCommand[] = [
      { type: 'ping' },
      { type: 'pong', id: 1 },
      { type: 'subscribe', channel: 'a', id: 2, since: { offset: 4, epoch: 'e' } },
      { type: 'unsubscribe', channel: 'a' },
      {
        type: 'publish',
        channel: 'a',
        data: { t: 'é\u2028😀', n: -1.5, big: 2 ** 60 },
        id: 3,
        ephemeral: true,
        excludeSelf: true,
      },
      { type: 'send', data: [null, 1, 'x', false] },
      { type: 'history', channel: 'a', id: 4, since: 3, limit: 10 },
      { type: 'auth', token: 'a.b.c', id: 5 },
      { type: 'ack', message: 'm', queue: 'q', id: 6 },
    ];
    for (const c of commands) assert.deepEqual(command(decodeCommandMsgpack(encodeCommandMsgpack(c))), c);
    const withBytes = command(
      decodeCommandMsgpack(
        encodeCommandMsgpack({ type: 'send', data: { bytes, buffer: Buffer.from(bytes) } }),
      ),
    );
    assert.deepEqual(withBytes, {
      type: 'send',
      data: { bytes: { $base64: 'CQgH' }, buffer: { $base64: 'CQgH' } },
    });
  });

  it('a client command is taken as JSON takes it: toJSON, a Date as its ISO string, undefined members dropped', () => {
    const decoded = command(
      decodeCommandMsgpack(
        encodeCommandMsgpack({
          type: 'send',
          data: {
            when: new Date(0),
            gone: undefined,
            list: [undefined, 1],
            custom: { toJSON: () => 'custom' },
          },
        }),
      ),
    );
    assert.deepEqual(decoded, {
      type: 'send',
      data: { when: '1970-01-01T00:00:00.000Z', list: [null, 1], custom: 'custom' },
    });
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    assert.throws(() => encodeCommandMsgpack({ type: 'send', data: cyclic }), TypeError);
  });

  it('every server frame through encodeServerFrameMsgpack and decodeServerFramesMsgpack', () => {
    const frames: ServerFrame[] = [
      { type: 'ping' },
      { type: 'reply', id: 1, result: { channel: 'a', offset: 0, epoch: 'e' } },
      { type: 'reply', id: 2, error: { code: ErrorCode.NotFound, message: 'gone', temporary: false } },
      { type: 'message', channel: 'a', id: 9, data: { x: 1, f: 0.25 }, time: 1_700_000_000_000 },
      { type: 'direct', data: 'hi', time: 1 },
      { type: 'join', channel: 'a', userId: 'u', time: 2 },
      { type: 'error', code: ErrorCode.InvalidJson, message: 'x', temporary: false },
    ];
    for (const frame of frames)
      assert.deepEqual(decodeServerFramesMsgpack(encodeServerFrameMsgpack(frame)), [frame]);
  });

  it('batched frames: consecutive values in one message, one unreadable value skipped, garbage ending the message', () => {
    const a = encodeServerFrameMsgpack({ type: 'message', channel: 'c', id: 1, data: 1, time: 1 });
    const b = encodeServerFrameMsgpack({ type: 'message', channel: 'c', id: 2, data: 2, time: 1 });
    // A payload with the key "__proto__", which a JSON client may publish: @msgpack/msgpack refuses it.
    const proto = msgpackFromJson('{"type":"message","channel":"c","id":3,"data":{"__proto__":1},"time":1}');
    const notFrames = concat(encode([1]), encode({ type: 1 }), encode('x'));
    const frames = decodeServerFramesMsgpack(concat(a, proto, notFrames, b, [0xc1], a));
    assert.deepEqual(
      frames.map((f) => (f.type === 'message' ? f.id : f.type)),
      [1, 2],
    );
    assert.deepEqual(decodeServerFramesMsgpack(new Uint8Array(0)), []);
  });
});

describe('fuzz-ish', () => {
  let state = 0x1f2e3d4c;
  const random = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const strings = ['', 'a', 'é', '😀', 'line\nbreak', 'x'.repeat(300), '"quoted"', '\u2028', 'ü'.repeat(60)];
  const numbers = [
    0,
    1,
    -1,
    127,
    128,
    -33,
    255,
    65_536,
    2 ** 32,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    0.5,
    -1e-300,
    1e300,
    Math.PI,
  ];
  function value(depth: number): unknown {
    const pick = random(depth > 6 ? 6 : 9);
    if (pick === 0) return null;
    if (pick === 1) return random(2) === 0;
    if (pick === 2) return numbers[random(numbers.length)];
    if (pick === 3) return strings[random(strings.length)];
    if (pick === 4) return random(5) === 0 ? random(1 << 30) : (random(2 ** 31) - 2 ** 30) / 8;
    if (pick === 5) return new Uint8Array(Array.from({ length: random(40) }, () => random(256)));
    if (pick === 6 || pick === 7) return Array.from({ length: random(5) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = random(5); i > 0; i--) out[`k${random(20)}`] = value(depth + 1);
    return out;
  }

  it('random payloads with bytes round-trip: msgpack client -> server (JSON inside) -> msgpack and JSON clients', () => {
    for (let i = 0; i < 3_000; i++) {
      const data = value(0);
      const sent = command(
        decodeCommandMsgpack(encodeCommandMsgpack({ type: 'publish', channel: 'c', data })),
      );
      assert.ok(sent.type === 'publish');
      const encoded = encodeData(sent.data);
      if (!encoded.ok) assert.fail(encoded.message);
      const text = `{"type":"message","channel":"c","id":${i},"data":${encoded.json},"time":1}`;
      // A JSON subscriber reads the same JSON a JSON publisher's identical payload would give.
      assert.deepEqual(JSON.parse(encoded.json), sent.data);
      const [received] = decodeServerFramesMsgpack(msgpackFromJson(text));
      assert.ok(received?.type === 'message');
      assert.deepEqual(received.data, data);
    }
  });

  it('random mutations of valid frames: never a throw, a known code, and every value the scan accepts decodes', () => {
    const seeds = [
      encode({
        type: 'publish',
        id: 12,
        channel: 'chat:1',
        data: { a: [1, 2, { b: null }], bin: new Uint8Array([1, 2]) },
      }),
      encode({ type: 'subscribe', id: 3, channel: 'x', since: { offset: 1, epoch: 'e' } }),
      encode({ type: 'send', data: 'hi', n: -1.5, big: 2 ** 40 }),
    ];
    const specials = [
      0xc0, 0xc1, 0xc4, 0xc7, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0x80, 0x90, 0xa0, 0xff, 0x00, 0x7f,
    ];
    for (let i = 0; i < 20_000; i++) {
      const bytes = [...(seeds[random(seeds.length)] ?? [])];
      for (let m = random(4); m >= 0; m--) {
        const at = random(bytes.length + 1);
        const byte = random(2) === 0 ? (specials[random(specials.length)] ?? 0) : random(256);
        const op = random(3);
        if (op === 0) bytes.splice(at, 1);
        else if (op === 1) bytes.splice(at, 0, byte);
        else bytes[at] = byte;
      }
      const input = new Uint8Array(bytes);
      const result = decodeCommandMsgpack(input);
      if (result.ok) assert.equal(typeof result.command.type, 'string');
      else assert.ok(result.error.code in ERROR_CODE_INFO);
      const end = scanMsgpackValue(input, 0);
      if (typeof end === 'number' && end === input.length)
        assert.notEqual(result.ok ? 'ok' : result.error.message, 'frame is not valid MessagePack');
    }
  });
});
