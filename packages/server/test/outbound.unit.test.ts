import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeServerFramesMsgpack } from '@switchboard/protocol';
import { Outbound, PING_FRAME, PING_PREPARED_MSGPACK, renderRoomPayload } from '../src/hub/outbound.js';

// renderRoomPayload takes the payload already encoded as JSON (the hub encodes once per publish).
describe('renderRoomPayload: object payloads', () => {
  it('delivers an object as itself with the message id added', () => {
    assert.equal(
      renderRoomPayload('message', JSON.stringify({ text: 'hi', n: 1 }), 7),
      '{"text":"hi","n":1,"id":7}',
    );
  });

  it('overrides an id the payload carried with the message id', () => {
    const text = renderRoomPayload('message', JSON.stringify({ id: 'spoofed', text: 'hi' }), 7);
    assert.deepEqual(JSON.parse(text), { id: 7, text: 'hi' });
  });

  it('keeps an id of 0 (not treated as missing)', () => {
    assert.deepEqual(JSON.parse(renderRoomPayload('message', JSON.stringify({ a: 1 }), 0)), { a: 1, id: 0 });
  });

  it('adds no id when there is none (ephemeral messages, direct and broadcast)', () => {
    const text = renderRoomPayload('message', JSON.stringify({ text: 'typing' }), undefined);
    assert.equal(text, '{"text":"typing"}');
    assert.equal(Object.hasOwn(JSON.parse(text) as object, 'id'), false);
  });

  it('does not modify the payload object it was given', () => {
    const data = { id: 1, text: 'x' };
    renderRoomPayload('message', JSON.stringify(data), 99);
    assert.deepEqual(data, { id: 1, text: 'x' });
  });

  it('keeps an own "__proto__" key as data and changes no prototype', () => {
    const data = JSON.parse('{"__proto__":{"isAdmin":true},"a":1}') as unknown;
    const text = renderRoomPayload('message', JSON.stringify(data), 3);
    assert.equal(text, '{"__proto__":{"isAdmin":true},"a":1,"id":3}');
    assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
  });
});

describe('renderRoomPayload: other payloads', () => {
  it('wraps non-objects as {type, data, id}', () => {
    const values: unknown[] = ['hello', 42, 0, true, false, null, [1, 2], [], ''];
    for (const data of values) {
      assert.deepEqual(
        JSON.parse(renderRoomPayload('message', JSON.stringify(data), 5)),
        { type: 'message', data, id: 5 },
        JSON.stringify(data),
      );
    }
  });

  it('wraps non-objects as {type, data} with no id key when there is none', () => {
    for (const data of ['hello', 1, null, [{ id: 1 }]]) {
      const parsed = JSON.parse(renderRoomPayload('broadcast', JSON.stringify(data), undefined)) as Record<
        string,
        unknown
      >;
      assert.deepEqual(parsed, { type: 'broadcast', data });
      assert.equal(Object.hasOwn(parsed, 'id'), false);
    }
  });

  it('uses the kind it is given as the type', () => {
    assert.equal(renderRoomPayload('direct', JSON.stringify('x'), undefined), '{"type":"direct","data":"x"}');
  });

  it('wraps an array even when its elements are objects with ids', () => {
    assert.equal(
      renderRoomPayload('message', JSON.stringify([{ id: 1 }]), 2),
      '{"type":"message","data":[{"id":1}],"id":2}',
    );
  });
});

describe('Outbound', () => {
  it('renders nothing until a format is asked for', () => {
    let calls = 0;
    new Outbound(
      () => String(++calls),
      () => String(++calls),
      () => '',
    );
    assert.equal(calls, 0);
  });

  it('renders each format once however many recipients ask, and shares one Buffer', () => {
    let v1Calls = 0;
    let roomCalls = 0;
    const outbound = new Outbound(
      () => {
        v1Calls++;
        return '{"type":"message"}';
      },
      () => {
        roomCalls++;
        return '{"text":"é"}';
      },
      () => '',
    );
    const v1 = outbound.frame('v1');
    const room = outbound.frame('room');
    for (let i = 0; i < 1000; i++) {
      assert.equal(outbound.frame(i % 2 === 0 ? 'v1' : 'room'), i % 2 === 0 ? v1 : room);
    }
    assert.equal(v1Calls, 1);
    assert.equal(roomCalls, 1);
    assert.equal(v1.toString('utf8'), '{"type":"message"}');
    assert.equal(room.toString('utf8'), '{"text":"é"}');
    assert.equal(room.length, Buffer.byteLength('{"text":"é"}'));
  });

  it('never renders a format nobody asks for', () => {
    let roomCalls = 0;
    const outbound = new Outbound(
      () => 'v1',
      () => {
        roomCalls++;
        return 'room';
      },
      () => '',
    );
    outbound.frame('v1');
    outbound.frame('v1');
    assert.equal(roomCalls, 0);
  });

  it('renders an empty string once, not on every call', () => {
    let calls = 0;
    const outbound = new Outbound(
      () => {
        calls++;
        return '';
      },
      () => '',
      () => '',
    );
    outbound.frame('v1');
    outbound.frame('v1');
    assert.equal(calls, 1);
  });

  it('same(): both formats are the encoded frame', () => {
    const outbound = Outbound.same({
      type: 'join',
      channel: 'c',
      connectionId: 'n-1',
      userId: null,
      time: 5,
    });
    const expected = '{"type":"join","channel":"c","connectionId":"n-1","userId":null,"time":5}';
    assert.equal(outbound.frame('v1').toString(), expected);
    assert.equal(outbound.frame('room').toString(), expected);
  });

  it('PING_FRAME is the v1 ping push', () => {
    assert.deepEqual(JSON.parse(PING_FRAME.toString('utf8')), { type: 'ping' });
  });
});

describe('Outbound: one rendering per encoding', () => {
  it('renders the v1 JSON once, and the MessagePack frame from it once, only when asked for', () => {
    let renders = 0;
    const outbound = new Outbound(
      () => {
        renders++;
        return '{"type":"message","channel":"c","id":1,"data":{"b":{"$base64":"AAE="}},"time":2}';
      },
      () => '{}',
      () => '',
    );
    const json = outbound.prepared('v1');
    assert.equal(renders, 1);
    const msgpack = outbound.prepared('v1', 'msgpack');
    for (let i = 0; i < 3; i++) {
      assert.equal(outbound.prepared('v1', 'json'), json);
      assert.equal(outbound.prepared('v1', 'msgpack'), msgpack);
    }
    assert.equal(renders, 1);
    assert.deepEqual([json.binary, msgpack.binary], [false, true]);
    assert.deepEqual(decodeServerFramesMsgpack(msgpack.payload), [
      { type: 'message', channel: 'c', id: 1, data: { b: new Uint8Array([0, 1]) }, time: 2 },
    ]);
  });

  it('has a MessagePack ping, prepared once for every connection', () => {
    assert.equal(PING_PREPARED_MSGPACK.binary, true);
    assert.deepEqual(decodeServerFramesMsgpack(PING_PREPARED_MSGPACK.payload), [
      JSON.parse(PING_FRAME.toString()),
    ]);
  });
});
