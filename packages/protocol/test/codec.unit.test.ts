import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_DATA_DEPTH,
  dataProblem,
  decodeCommand,
  decodeServerFrame,
  encodeCommand,
  encodeData,
  encodeServerFrame,
  errorPayload,
  exceedsDepth,
  isValidCommandId,
  validateCommand,
} from '../src/codec.js';
import type { DecodeResult } from '../src/codec.js';
import { ERROR_CODE_INFO, ErrorCode } from '../src/codes.js';
import { DEFAULT_MAX_CHANNEL_LENGTH } from '../src/channel-name.js';
import type { ClientCommand, ServerFrame } from '../src/frames.js';

/** The decoded command, failing the test with the decoder's error when there is none. */
function command(result: DecodeResult): ClientCommand {
  if (!result.ok) assert.fail(`expected a command, got ${result.error.code}: ${result.error.message}`);
  return result.command;
}

/** The failure, failing the test when the frame was accepted. */
function failure(result: DecodeResult): {
  id: number | undefined;
  code: string;
  message: string;
  temporary: boolean;
} {
  if (result.ok) assert.fail(`expected a failure, got ${JSON.stringify(result.command)}`);
  return { id: result.id, ...result.error };
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('decodeCommand: frames that are not command objects', () => {
  it('rejects text that is not JSON with invalid_json and no id', () => {
    for (const text of [
      '',
      ' ',
      '{',
      '{"type":"ping"',
      "{'type':'ping'}",
      'undefined',
      '\uFEFF{"type":"ping"}',
      'NaN',
    ]) {
      const f = failure(decodeCommand(text));
      assert.equal(f.code, ErrorCode.InvalidJson, text);
      assert.equal(f.id, undefined);
      assert.equal(f.temporary, false);
    }
  });

  it('rejects JSON that is not an object (array, null, number, string, boolean) with invalid_frame', () => {
    for (const text of ['[]', '[{"type":"ping","id":1}]', 'null', '0', '"ping"', 'true']) {
      const f = failure(decodeCommand(text));
      assert.equal(f.code, ErrorCode.InvalidFrame, text);
      assert.equal(f.id, undefined);
    }
  });

  it('accepts surrounding whitespace', () => {
    assert.deepEqual(command(decodeCommand(' \n\t{"type":"ping"}\r\n ')), { type: 'ping' });
  });
});

describe('decodeCommand: command ids', () => {
  it('accepts 0 and Number.MAX_SAFE_INTEGER and echoes them', () => {
    assert.deepEqual(command(decodeCommand('{"type":"ping","id":0}')), { type: 'ping', id: 0 });
    const max = Number.MAX_SAFE_INTEGER;
    assert.deepEqual(command(decodeCommand(`{"type":"ping","id":${max}}`)), { type: 'ping', id: max });
  });

  it('omits the id key entirely when the frame has none', () => {
    const decoded = command(decodeCommand('{"type":"ping"}'));
    assert.equal(Object.hasOwn(decoded, 'id'), false);
  });

  it('rejects an id that is negative, fractional, unsafe, a string, null, a boolean, an array or an object', () => {
    const bad = [
      '-1',
      '1.5',
      '0.1',
      '1e300',
      '9007199254740992',
      '"1"',
      '""',
      'null',
      'true',
      '[1]',
      '{"n":1}',
      '-1e-7',
    ];
    for (const raw of bad) {
      const f = failure(decodeCommand(`{"type":"ping","id":${raw}}`));
      assert.equal(f.code, ErrorCode.BadRequest, raw);
      // An id that failed validation is never echoed back: the client could not match it anyway.
      assert.equal(f.id, undefined, raw);
    }
  });

  it('checks the id before the type, so a bad id is reported even on an unknown command', () => {
    const f = failure(decodeCommand('{"type":"nope","id":-5}'));
    assert.equal(f.code, ErrorCode.BadRequest);
    assert.equal(f.id, undefined);
  });

  it('reads a written-out integer such as 1.0 or 1e3 as that integer', () => {
    assert.deepEqual(command(decodeCommand('{"type":"ping","id":1.0}')), { type: 'ping', id: 1 });
    assert.deepEqual(command(decodeCommand('{"type":"ping","id":1e3}')), { type: 'ping', id: 1000 });
  });

  it('accepts -0 as an id that encodes as 0', () => {
    const decoded = command(decodeCommand('{"type":"ping","id":-0}'));
    assert.equal(encodeCommand(decoded), '{"type":"ping","id":0}');
  });
});

describe('decodeCommand: type', () => {
  it('rejects a missing or non-string type with unknown_command and echoes a valid id', () => {
    for (const raw of [
      '',
      ',"type":1',
      ',"type":null',
      ',"type":["ping"]',
      ',"type":{"0":"ping"}',
      ',"type":true',
    ]) {
      const f = failure(decodeCommand(`{"id":7${raw}}`));
      assert.equal(f.code, ErrorCode.UnknownCommand, raw);
      assert.equal(f.id, 7);
    }
  });

  it('rejects unknown types, including Object.prototype member names, with unknown_command', () => {
    for (const type of [
      'PING',
      'ping ',
      '',
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'reply',
    ]) {
      const f = failure(decodeCommand(JSON.stringify({ type, id: 3 })));
      assert.equal(f.code, ErrorCode.UnknownCommand, type);
      assert.equal(f.id, 3);
    }
  });

  it('quotes at most 64 characters of an unknown type in the message', () => {
    const f = failure(decodeCommand(JSON.stringify({ type: 'x'.repeat(100_000) })));
    assert.equal(f.code, ErrorCode.UnknownCommand);
    assert.ok(f.message.length < 120, `message is ${f.message.length} characters`);
    assert.ok(f.message.includes('x'.repeat(64)));
    assert.ok(!f.message.includes('x'.repeat(65)));
  });

  it('keeps the message valid when the 64-character cut splits a surrogate pair', () => {
    const f = failure(decodeCommand(JSON.stringify({ type: 'a'.repeat(63) + '😀😀' })));
    assert.equal(f.code, ErrorCode.UnknownCommand);
    // The lone high surrogate is escaped by JSON.stringify, so the message round-trips through JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(f.message)), f.message);
    assert.ok(f.message.includes('\\ud83d'));
  });
});

describe('decodeCommand: ping and pong', () => {
  it('decodes ping and pong with and without id and drops unknown fields', () => {
    assert.deepEqual(command(decodeCommand('{"type":"ping"}')), { type: 'ping' });
    assert.deepEqual(command(decodeCommand('{"type":"pong","id":2}')), { type: 'pong', id: 2 });
    assert.deepEqual(command(decodeCommand('{"type":"ping","channel":"x","data":1,"extra":{"a":[1]}}')), {
      type: 'ping',
    });
  });
});

describe('decodeCommand: subscribe and unsubscribe', () => {
  it('decodes a valid subscribe and unsubscribe', () => {
    assert.deepEqual(command(decodeCommand('{"type":"subscribe","id":1,"channel":"chat:lobby"}')), {
      type: 'subscribe',
      channel: 'chat:lobby',
      id: 1,
    });
    assert.deepEqual(command(decodeCommand('{"type":"unsubscribe","channel":"a"}')), {
      type: 'unsubscribe',
      channel: 'a',
    });
  });

  it('rejects a missing, non-string, empty or malformed channel with invalid_channel and echoes the id', () => {
    const channels: unknown[] = [
      undefined,
      null,
      1,
      true,
      ['a'],
      { name: 'a' },
      '',
      'a b',
      'room*',
      'caf\u00e9',
      'a\u0000b',
      'a\nb',
      ' a',
    ];
    for (const type of ['subscribe', 'unsubscribe']) {
      for (const channel of channels) {
        const f = failure(validateCommand({ type, id: 9, channel }));
        assert.equal(f.code, ErrorCode.InvalidChannel, `${type} ${JSON.stringify(channel)}`);
        assert.equal(f.id, 9);
        assert.equal(f.temporary, false);
      }
    }
  });

  it('accepts a channel of exactly the maximum length and rejects one character more', () => {
    const max = 'c'.repeat(DEFAULT_MAX_CHANNEL_LENGTH);
    assert.deepEqual(command(decodeCommand(JSON.stringify({ type: 'subscribe', channel: max }))), {
      type: 'subscribe',
      channel: max,
    });
    const f = failure(decodeCommand(JSON.stringify({ type: 'subscribe', channel: `${max}c` })));
    assert.equal(f.code, ErrorCode.InvalidChannel);
  });

  it('honours the maxChannelLength option', () => {
    const options = { maxChannelLength: 4 };
    assert.equal(decodeCommand('{"type":"subscribe","channel":"abcd"}', options).ok, true);
    assert.equal(
      failure(decodeCommand('{"type":"subscribe","channel":"abcde"}', options)).code,
      ErrorCode.InvalidChannel,
    );
    const long = 'a'.repeat(500);
    assert.equal(
      decodeCommand(JSON.stringify({ type: 'subscribe', channel: long }), { maxChannelLength: 1024 }).ok,
      true,
    );
  });
});

describe('decodeCommand: publish', () => {
  it('decodes a publish with every optional field', () => {
    const text =
      '{"type":"publish","id":4,"channel":"c","data":{"text":"hi"},"ephemeral":true,"excludeSelf":false}';
    assert.deepEqual(command(decodeCommand(text)), {
      type: 'publish',
      channel: 'c',
      data: { text: 'hi' },
      id: 4,
      ephemeral: true,
      excludeSelf: false,
    });
  });

  it('omits ephemeral and excludeSelf keys when the frame has none', () => {
    const decoded = command(decodeCommand('{"type":"publish","channel":"c","data":1}'));
    assert.deepEqual(decoded, { type: 'publish', channel: 'c', data: 1 });
    assert.deepEqual(Object.keys(decoded).sort(), ['channel', 'data', 'type']);
  });

  it('accepts falsy data values: null, false, 0, empty string, empty array and object', () => {
    for (const data of [null, false, 0, '', [], {}]) {
      const decoded = command(decodeCommand(JSON.stringify({ type: 'publish', channel: 'c', data })));
      assert.deepEqual(decoded, { type: 'publish', channel: 'c', data });
    }
  });

  it('rejects a missing data field, or data: undefined from an already-parsed value, with bad_request', () => {
    assert.equal(
      failure(decodeCommand('{"type":"publish","id":1,"channel":"c"}')).code,
      ErrorCode.BadRequest,
    );
    const f = failure(validateCommand({ type: 'publish', id: 1, channel: 'c', data: undefined }));
    assert.equal(f.code, ErrorCode.BadRequest);
    assert.equal(f.id, 1);
  });

  it('checks the channel before the data', () => {
    assert.equal(
      failure(decodeCommand('{"type":"publish","channel":"bad name"}')).code,
      ErrorCode.InvalidChannel,
    );
  });

  it('rejects non-boolean ephemeral and excludeSelf, including null, 1 and "true"', () => {
    for (const field of ['ephemeral', 'excludeSelf']) {
      for (const value of [null, 1, 0, 'true', [], {}]) {
        const f = failure(validateCommand({ type: 'publish', id: 5, channel: 'c', data: 1, [field]: value }));
        assert.equal(f.code, ErrorCode.BadRequest, `${field}=${JSON.stringify(value)}`);
        assert.ok(f.message.includes(field));
        assert.equal(f.id, 5);
      }
    }
  });

  it('passes data through by reference without copying or altering it', () => {
    const data = { a: [1, { b: 2 }], s: '\u2028' };
    const decoded = command(validateCommand({ type: 'publish', channel: 'c', data }));
    assert.ok(decoded.type === 'publish');
    assert.equal(decoded.data, data);
  });
});

describe('decodeCommand: send', () => {
  it('decodes a send and ignores a channel field', () => {
    assert.deepEqual(command(decodeCommand('{"type":"send","id":6,"data":[1,2],"channel":"not checked"}')), {
      type: 'send',
      data: [1, 2],
      id: 6,
    });
  });

  it('rejects a send without data with bad_request', () => {
    const f = failure(decodeCommand('{"type":"send","id":8}'));
    assert.equal(f.code, ErrorCode.BadRequest);
    assert.equal(f.id, 8);
  });

  it('accepts data: null', () => {
    assert.deepEqual(command(decodeCommand('{"type":"send","data":null}')), { type: 'send', data: null });
  });
});

describe('decodeCommand: nesting depth of data', () => {
  it('accepts data nested exactly DEFAULT_MAX_DATA_DEPTH levels and rejects one more', () => {
    const ok = `{"type":"publish","channel":"c","data":${nested(DEFAULT_MAX_DATA_DEPTH)}}`;
    assert.equal(decodeCommand(ok).ok, true);
    const deep = `{"type":"publish","id":1,"channel":"c","data":${nested(DEFAULT_MAX_DATA_DEPTH + 1)}}`;
    const f = failure(decodeCommand(deep));
    assert.equal(f.code, ErrorCode.BadRequest);
    assert.equal(f.id, 1);
  });

  it('rejects deeply nested data that decodes but could not be re-encoded (stack overflow in JSON.stringify)', () => {
    const depth = 20_000; // 40 KB: well under the default 64 KiB frame limit
    const data = nested(depth);
    assert.throws(() => JSON.stringify(JSON.parse(data)), RangeError);
    for (const type of ['publish', 'send']) {
      const f = failure(decodeCommand(`{"type":"${type}","channel":"c","data":${data}}`));
      assert.equal(f.code, ErrorCode.BadRequest, type);
    }
  });

  it('counts objects and arrays alike, and a deep branch anywhere counts', () => {
    const deepObject = '{"a":'.repeat(70) + '1' + '}'.repeat(70);
    const data = `[1, {"x": [${deepObject}]}, 2]`;
    assert.equal(failure(decodeCommand(`{"type":"send","data":${data}}`)).code, ErrorCode.BadRequest);
  });

  it('accepts wide but shallow data', () => {
    const wide = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ i, tags: ['a', 'b'] })));
    assert.equal(decodeCommand(`{"type":"send","data":${wide}}`).ok, true);
  });

  it('honours the maxDataDepth option', () => {
    assert.equal(decodeCommand('{"type":"send","data":[[1]]}', { maxDataDepth: 2 }).ok, true);
    assert.equal(decodeCommand('{"type":"send","data":[[[1]]]}', { maxDataDepth: 2 }).ok, false);
    assert.equal(decodeCommand('{"type":"send","data":7}', { maxDataDepth: 0 }).ok, true);
  });

  it('ignores deep nesting in fields the command does not use (they are never re-encoded)', () => {
    assert.deepEqual(command(decodeCommand(`{"type":"ping","junk":${nested(50_000)}}`)), { type: 'ping' });
  });
});

describe('decodeCommand: numbers JSON cannot carry', () => {
  it('refuses data holding a number out of range (JSON.parse reads it as Infinity) with bad_request and the id', () => {
    for (const data of ['1e309', '-1e309', '[1, 2e400]', '{"a":{"b":[0, -9e999]}}', '{"x":1e309,"y":[]}']) {
      for (const type of ['publish', 'send']) {
        const f = failure(decodeCommand(`{"type":"${type}","id":3,"channel":"c","data":${data}}`));
        assert.equal(f.code, ErrorCode.BadRequest, `${type} ${data}`);
        assert.equal(f.id, 3);
        assert.match(f.message, /number JSON cannot carry/);
      }
    }
  });

  it('accepts the largest and smallest finite numbers, and numbers outside data', () => {
    for (const data of ['1.7976931348623157e308', '-1.7976931348623157e308', '5e-324', '1e-400', '0']) {
      assert.equal(decodeCommand(`{"type":"publish","channel":"c","data":[${data}]}`).ok, true, data);
    }
    assert.deepEqual(command(decodeCommand('{"type":"ping","junk":1e309}')), { type: 'ping' });
  });
});

describe('dataProblem and encodeData', () => {
  it('names the first problem: depth or a number that is not finite', () => {
    assert.equal(dataProblem({ a: [1, 'x', null, true] }, 4), null);
    for (const bad of [Infinity, -Infinity, NaN, [NaN], { a: { b: Infinity } }])
      assert.equal(dataProblem(bad, 4), 'number', String(bad));
    assert.equal(dataProblem([[[1]]], 2), 'depth');
  });

  it('encodeData refuses what JSON.stringify would turn into null', () => {
    assert.equal(JSON.stringify({ n: NaN }), '{"n":null}');
    for (const bad of [NaN, Infinity, { n: NaN }, [1, -Infinity]]) {
      const encoded = encodeData(bad);
      assert.equal(encoded.ok, false, String(bad));
      if (!encoded.ok) assert.match(encoded.message, /number JSON cannot carry/);
    }
    assert.deepEqual(encodeData({ n: 1.5 }), { ok: true, json: '{"n":1.5}' });
  });
});

describe('exceedsDepth', () => {
  it('gives scalars depth 0 and [] depth 1', () => {
    for (const scalar of [null, undefined, 0, 'x', true]) assert.equal(exceedsDepth(scalar, 0), false);
    assert.equal(exceedsDepth([], 0), true);
    assert.equal(exceedsDepth([], 1), false);
    assert.equal(exceedsDepth({ a: { b: 1 } }, 2), false);
    assert.equal(exceedsDepth({ a: { b: {} } }, 2), true);
  });

  it('terminates on a cyclic value instead of looping forever', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    assert.equal(exceedsDepth(cyclic, 10), true);
  });

  it('does not overflow the stack on very deep values', () => {
    assert.equal(exceedsDepth(JSON.parse(nested(200_000)), 1_000_000), false);
  });
});

describe('decodeCommand: prototype pollution', () => {
  it('treats a "__proto__" key as plain data and never reads fields through it', () => {
    const text = '{"type":"ping","__proto__":{"id":5,"type":"publish","polluted":true}}';
    const decoded = command(decodeCommand(text));
    assert.deepEqual(decoded, { type: 'ping' });
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['id'], undefined);
  });

  it('does not take ephemeral, excludeSelf or data from a "__proto__" key', () => {
    const publish = command(
      decodeCommand('{"type":"publish","channel":"c","data":1,"__proto__":{"ephemeral":true}}'),
    );
    assert.deepEqual(publish, { type: 'publish', channel: 'c', data: 1 });
    const f = failure(decodeCommand('{"type":"send","__proto__":{"data":1}}'));
    assert.equal(f.code, ErrorCode.BadRequest);
  });

  it('does not take a channel from a "__proto__" or "constructor" key', () => {
    const text =
      '{"type":"subscribe","__proto__":{"channel":"x"},"constructor":{"prototype":{"channel":"y"}}}';
    assert.equal(failure(decodeCommand(text)).code, ErrorCode.InvalidChannel);
  });

  it('passes "__proto__" inside data through as an own key without changing any prototype', () => {
    const decoded = command(decodeCommand('{"type":"send","data":{"__proto__":{"isAdmin":true},"a":1}}'));
    assert.ok(decoded.type === 'send');
    const data = decoded.data as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.ok(Object.hasOwn(data, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
    assert.equal(encodeCommand(decoded), '{"type":"send","data":{"__proto__":{"isAdmin":true},"a":1}}');
  });

  it('accepts a null-prototype object from validateCommand', () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, {
      type: 'subscribe',
      channel: 'c',
    });
    assert.deepEqual(command(validateCommand(value)), { type: 'subscribe', channel: 'c' });
  });
});

describe('decodeCommand: never throws', () => {
  it('returns a result for a corpus of hostile inputs', () => {
    const inputs = [
      nested(300_000),
      '{"type":"publish","channel":' + nested(10_000) + '}',
      '{"type":"subscribe","channel":"' + 'a'.repeat(1_000_000) + '"}',
      '{"type":"publish","channel":"c","data":"\\ud800"}',
      '{"type":"ping","id":1e999}',
      '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
      '\u0000',
      '{"type":"send","data":1,"type":"publish"}',
    ];
    for (const input of inputs) {
      const result = decodeCommand(input);
      assert.equal(typeof result.ok, 'boolean');
    }
  });

  it('uses the last of duplicate keys, as JSON.parse does', () => {
    const f = failure(decodeCommand('{"type":"send","data":1,"type":"publish"}'));
    assert.equal(f.code, ErrorCode.InvalidChannel);
  });

  it('returns a result for random mutations of valid frames (seeded)', () => {
    const seeds = [
      '{"type":"publish","id":12,"channel":"chat:1","data":{"a":[1,2,{"b":null}]},"ephemeral":true}',
      '{"type":"subscribe","id":3,"channel":"x"}',
      '{"type":"send","data":"hi"}',
    ];
    const alphabet = '{}[]":,\\ 019-.eE+tfnul_*\u0000\u00e9\ud83d';
    let state = 0x2545f491;
    const random = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    for (let i = 0; i < 20_000; i++) {
      const chars = [...(seeds[random(seeds.length)] ?? '')];
      for (let m = random(4); m >= 0; m--) {
        const at = random(chars.length + 1);
        const op = random(3);
        const char = alphabet[random(alphabet.length)] ?? '';
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, char);
        else chars[at] = char;
      }
      const result = decodeCommand(chars.join(''));
      if (result.ok) {
        assert.equal(typeof result.command.type, 'string');
        if (result.command.id !== undefined) assert.ok(isValidCommandId(result.command.id));
      } else {
        assert.ok(result.error.code in ERROR_CODE_INFO);
        if (result.id !== undefined) assert.ok(isValidCommandId(result.id));
      }
    }
  });
});

describe('validateCommand', () => {
  it('rejects non-object values, including functions and undefined, with invalid_frame', () => {
    for (const value of [undefined, null, 1, 'x', true, [], [{ type: 'ping' }], () => 1, Symbol('s')]) {
      assert.equal(failure(validateCommand(value)).code, ErrorCode.InvalidFrame);
    }
  });

  it('reports a non-string type on an object that is not plain (Map) instead of throwing', () => {
    assert.equal(failure(validateCommand(new Map([['type', 'ping']]))).code, ErrorCode.UnknownCommand);
  });
});

describe('isValidCommandId', () => {
  it('accepts non-negative safe integers only', () => {
    for (const id of [0, 1, 42, Number.MAX_SAFE_INTEGER])
      assert.equal(isValidCommandId(id), true, String(id));
    const bad: unknown[] = [
      -1,
      0.5,
      Number.MAX_SAFE_INTEGER + 1,
      NaN,
      Infinity,
      -Infinity,
      '1',
      null,
      undefined,
      1n,
      [1],
      {},
    ];
    for (const id of bad) assert.equal(isValidCommandId(id), false, String(id));
  });
});

describe('errorPayload', () => {
  it('carries the code, the message and the temporary flag of the code table for every code', () => {
    for (const code of Object.values(ErrorCode)) {
      assert.deepEqual(errorPayload(code, `m ${code}`), {
        code,
        message: `m ${code}`,
        temporary: ERROR_CODE_INFO[code].temporary,
      });
    }
  });

  it('marks rate_limited as temporary and bad_request as not', () => {
    assert.equal(errorPayload(ErrorCode.RateLimited, '').temporary, true);
    assert.equal(errorPayload(ErrorCode.BadRequest, '').temporary, false);
  });
});

describe('encodeCommand and encodeServerFrame', () => {
  it('round-trips every command type through decodeCommand', () => {
    const commands: ClientCommand[] = [
      { type: 'ping' },
      { type: 'pong', id: 1 },
      { type: 'subscribe', channel: 'a', id: 2 },
      { type: 'unsubscribe', channel: 'a' },
      { type: 'publish', channel: 'a', data: { t: 'é\u2028😀' }, id: 3, ephemeral: true, excludeSelf: true },
      { type: 'send', data: [null, 1, 'x'] },
    ];
    for (const c of commands) assert.deepEqual(command(decodeCommand(encodeCommand(c))), c);
  });

  it('encodes a server frame as plain JSON that decodeServerFrame reads back', () => {
    const frames: ServerFrame[] = [
      { type: 'ping' },
      { type: 'reply', id: 1, result: { channel: 'a', offset: 0 } },
      { type: 'reply', id: 2, error: errorPayload(ErrorCode.NotFound, 'gone') },
      { type: 'message', channel: 'a', id: 9, data: { x: 1 }, time: 1_700_000_000_000 },
    ];
    for (const frame of frames) {
      const text = encodeServerFrame(frame);
      assert.deepEqual(JSON.parse(text), frame);
      assert.deepEqual(decodeServerFrame(text), frame);
    }
  });

  it('omits undefined optional fields rather than writing null', () => {
    assert.equal(
      encodeServerFrame({ type: 'message', channel: 'a', data: 1, time: 0 }),
      '{"type":"message","channel":"a","data":1,"time":0}',
    );
  });
});

describe('decodeServerFrame', () => {
  it('returns null for invalid JSON, non-objects, arrays and a missing or non-string type', () => {
    for (const text of [
      '',
      '{',
      'null',
      '1',
      '"ping"',
      '[{"type":"ping"}]',
      '{}',
      '{"type":1}',
      '{"type":null}',
      '{"type":["ping"]}',
    ]) {
      assert.equal(decodeServerFrame(text), null, text);
    }
  });

  it('returns frames of unknown types unchanged so callers can ignore them', () => {
    assert.deepEqual(decodeServerFrame('{"type":"from-the-future","x":[1]}'), {
      type: 'from-the-future',
      x: [1],
    });
  });

  it('does not let a "__proto__" key change the frame prototype', () => {
    const frame = decodeServerFrame('{"type":"message","__proto__":{"polluted":1}}');
    assert.notEqual(frame, null);
    assert.equal(Object.getPrototypeOf(frame), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
