import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestTable } from '../src/request-table.js';
import { ConnectionClosedError, RequestTimeoutError, ServerError } from '../src/index.js';

describe('RequestTable', () => {
  it('gives increasing ids and resolves a request with its reply result', async () => {
    const table = new RequestTable();
    const a = table.open('ping', 0, 100);
    const b = table.open('subscribe', 0, 100);
    assert.equal(a.id, 1);
    assert.equal(b.id, 2);
    assert.equal(table.nextId(), 3);
    assert.equal(table.settle({ type: 'reply', id: 2, result: { channel: 'c', offset: 0 } }), true);
    assert.deepEqual(await b.result, { channel: 'c', offset: 0 });
    assert.equal(table.size, 1);
  });

  it('rejects a request answered with an error reply with a ServerError carrying code and temporary', async () => {
    const table = new RequestTable();
    const { id, result } = table.open('subscribe', 0, 100);
    table.settle({
      type: 'reply',
      id,
      error: { code: 'rate_limited', message: 'slow down', temporary: true },
    });
    await assert.rejects(result, (error: unknown) => {
      assert.ok(error instanceof ServerError);
      assert.equal(error.name, 'ServerError');
      assert.equal(error.code, 'rate_limited');
      assert.equal(error.message, 'slow down');
      assert.equal(error.temporary, true);
      return true;
    });
  });

  it('keeps a malformed error reply a ServerError', async () => {
    const table = new RequestTable();
    const { id, result } = table.open('send', 0, 100);
    table.settle({ type: 'reply', id, error: null as never });
    await assert.rejects(result, { name: 'ServerError', code: 'internal', temporary: false });
  });

  it('ignores replies to unknown, settled or unregistered ids', async () => {
    const table = new RequestTable();
    const { id, result } = table.open('ping', 0, 100);
    assert.equal(table.settle({ type: 'reply', id: 99, result: {} }), false);
    assert.equal(table.settle({ type: 'reply', id, result: 'first' }), true);
    assert.equal(table.settle({ type: 'reply', id, result: 'second' }), false);
    assert.equal(await result, 'first');
    assert.equal(table.settle({ type: 'reply', id: table.nextId(), result: {} }), false);
  });

  it('expires requests at their deadline and returns the earliest remaining one', async () => {
    const table = new RequestTable();
    const short = table.open('send', 0, 100);
    const long = table.open('ping', 10, 500);
    const shortFailed = assert.rejects(short.result, (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError);
      assert.equal(error.code, 'request_timeout');
      assert.equal(error.command, 'send');
      assert.equal(error.timeoutMs, 100);
      return true;
    });
    assert.equal(table.expire(99), 100);
    assert.equal(table.expire(100), 510);
    await shortFailed;
    assert.equal(table.size, 1);
    table.settle({ type: 'reply', id: long.id, result: {} });
    assert.equal(table.expire(1000), Infinity);
  });

  it('rejects everything pending at once', async () => {
    const table = new RequestTable();
    const a = table.open('send', 0, 100);
    const b = table.open('ping', 0, 100);
    const closed = new ConnectionClosedError(1006, '', true);
    table.rejectAll(closed);
    assert.equal(table.size, 0);
    await assert.rejects(a.result, (error) => error === closed);
    await assert.rejects(b.result, (error) => error === closed);
  });

  it('rejects one request on demand', async () => {
    const table = new RequestTable();
    const a = table.open('send', 0, 100);
    const failure = new Error('not sent');
    table.reject(a.id, failure);
    table.reject(a.id, new Error('ignored'));
    await assert.rejects(a.result, (error) => error === failure);
  });
});
