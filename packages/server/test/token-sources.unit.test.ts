// Where a handshake carries its credentials, and redacting them from URLs: pure, no I/O.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import {
  bearerFromAuthorization,
  bearerFromSubprotocols,
  credentialOf,
  offeredSubprotocols,
  redactUrl,
} from '../src/auth/token-sources.js';
import type { Credential } from '../src/auth/token-sources.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

function of(path: string, headers: IncomingHttpHeaders = {}): Credential {
  return credentialOf({ url: new URL(path, 'http://localhost'), headers });
}

function kind(credential: Credential): string {
  return credential.kind === 'token' ? `token:${credential.source}` : credential.kind;
}

describe('credentialOf', () => {
  test('nothing presented is none; unrelated parameters and protocols are ignored', () => {
    assert.deepEqual(of('/ws'), { kind: 'none' });
    assert.deepEqual(
      of('/ws?session=abc&last_message_id=3', { 'sec-websocket-protocol': 'switchboard.v1' }),
      {
        kind: 'none',
      },
    );
  });

  test('each of the four places', () => {
    assert.deepEqual(of('/ws', { authorization: `Bearer ${JWT}` }), {
      kind: 'token',
      token: JWT,
      source: 'header',
    });
    assert.deepEqual(of('/ws', { 'sec-websocket-protocol': `switchboard.v1, switchboard.bearer.${JWT}` }), {
      kind: 'token',
      token: JWT,
      source: 'subprotocol',
    });
    assert.deepEqual(of(`/ws?token=${JWT}`), { kind: 'token', token: JWT, source: 'query' });
    assert.deepEqual(of('/ws?ticket=abc'), { kind: 'ticket', ticket: 'abc' });
  });

  test('two credentials are malformed, naming where they were found but not what they hold', () => {
    const both = of(`/ws?ticket=abc`, { authorization: `Bearer ${JWT}` });
    assert.equal(both.kind, 'malformed');
    assert.match(both.kind === 'malformed' ? both.message : '', /Authorization header, ticket parameter/);
    assert.ok(!JSON.stringify(both).includes(JWT));
    assert.equal(kind(of(`/ws?token=${JWT}&ticket=abc`)), 'malformed');
    assert.equal(
      kind(of(`/ws?token=${JWT}`, { 'sec-websocket-protocol': `switchboard.v1,switchboard.bearer.${JWT}` })),
      'malformed',
    );
  });

  test('repeated or empty parameters are malformed', () => {
    for (const path of [
      `/ws?token=${JWT}&token=${JWT}`,
      '/ws?token=',
      '/ws?ticket=',
      '/ws?ticket=a&ticket=b',
    ]) {
      assert.equal(kind(of(path)), 'malformed', path);
    }
  });

  test('a token that is not a compact JWS, or too long, is malformed and never quoted', () => {
    for (const token of ['abc', 'a.b', 'a.b.c.d', 'a b.c.d', `${'a'.repeat(8192)}.b.c`]) {
      const credential = of(`/ws?token=${encodeURIComponent(token)}`);
      assert.equal(credential.kind, 'malformed', token.slice(0, 20));
      assert.ok(!JSON.stringify(credential).includes(token), 'the message does not quote the value');
    }
    assert.equal(
      kind(of('/ws?token=a.b.')),
      'token:query',
      'alg none has an empty signature: the verifier refuses it',
    );
  });
});

describe('bearerFromAuthorization', () => {
  test('Bearer in any case, one token, surrounding spaces tolerated', () => {
    for (const header of [`Bearer ${JWT}`, `bearer ${JWT}`, `BEARER  ${JWT} `]) {
      assert.deepEqual(
        bearerFromAuthorization(header),
        { kind: 'token', token: JWT, source: 'header' },
        header,
      );
    }
  });

  test('other schemes and empty bearers are malformed, not ignored', () => {
    for (const header of ['Basic YTpi', 'Bearer', 'Bearer ', `Bearer ${JWT} extra`, JWT, '']) {
      assert.equal(bearerFromAuthorization(header).kind, 'malformed', JSON.stringify(header));
    }
    assert.deepEqual(bearerFromAuthorization(undefined), { kind: 'none' });
  });
});

describe('bearerFromSubprotocols', () => {
  test('the bearer needs switchboard.v1 offered beside it, in any order', () => {
    assert.equal(
      kind(bearerFromSubprotocols(`switchboard.bearer.${JWT},switchboard.v1`)),
      'token:subprotocol',
    );
    assert.equal(
      kind(bearerFromSubprotocols(['switchboard.v1', `switchboard.bearer.${JWT}`])),
      'token:subprotocol',
    );
    const alone = bearerFromSubprotocols(`switchboard.bearer.${JWT}`);
    assert.equal(alone.kind, 'malformed');
    assert.match(alone.kind === 'malformed' ? alone.message : '', /offer the subprotocol switchboard\.v1/);
  });

  test('two bearers, or an empty one, are malformed; none is none', () => {
    assert.equal(
      bearerFromSubprotocols(`switchboard.v1, switchboard.bearer.${JWT}, switchboard.bearer.${JWT}`).kind,
      'malformed',
    );
    assert.equal(bearerFromSubprotocols('switchboard.v1, switchboard.bearer.').kind, 'malformed');
    assert.deepEqual(bearerFromSubprotocols('switchboard.v1, chat'), { kind: 'none' });
    assert.deepEqual(bearerFromSubprotocols(undefined), { kind: 'none' });
  });

  test('offeredSubprotocols splits on commas and trims', () => {
    assert.deepEqual(offeredSubprotocols(' a , b,,c '), ['a', 'b', 'c']);
    assert.deepEqual(offeredSubprotocols(['a, b', 'c']), ['a', 'b', 'c']);
    assert.deepEqual(offeredSubprotocols(undefined), []);
  });
});

describe('redactUrl', () => {
  test('token and ticket values are replaced; everything else is kept as it was', () => {
    assert.equal(
      redactUrl(`/ws?session=s1&token=${JWT}&last_message_id=4`),
      '/ws?session=s1&token=REDACTED&last_message_id=4',
    );
    assert.equal(redactUrl('/ws/room?ticket=abc#frag'), '/ws/room?ticket=REDACTED#frag');
    assert.equal(redactUrl(`https://h.test/rt/ws?tok%65n=${JWT}`), 'https://h.test/rt/ws?tok%65n=REDACTED');
    assert.equal(redactUrl('/ws?token'), '/ws?token=REDACTED');
    assert.equal(redactUrl('/ws?tokens=1&xticket=2'), '/ws?tokens=1&xticket=2');
    assert.equal(redactUrl('/ws'), '/ws');
    assert.equal(redactUrl('/ws?%zz=1&token=a&token=b'), '/ws?%zz=1&token=REDACTED&token=REDACTED');
  });
});
