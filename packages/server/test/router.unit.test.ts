import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../src/http/router.js';
import type { RouteHandler, RouteMatch } from '../src/http/router.js';

/** A distinct no-op handler, so tests can tell which route matched. */
function handler(): RouteHandler {
  return () => {};
}

function found(match: RouteMatch): { handler: RouteHandler; params: Record<string, string> } {
  if (match.kind !== 'found') assert.fail(`expected a match, got ${JSON.stringify(match)}`);
  return match;
}

describe('Router: static routes', () => {
  it('matches a static path to its handler with no params', () => {
    const health = handler();
    const stats = handler();
    const router = new Router().add('GET', '/health', health).add('GET', '/stats', stats);
    const match = found(router.match('GET', '/health'));
    assert.equal(match.handler, health);
    assert.deepEqual(match.params, {});
    assert.equal(found(router.match('GET', '/stats')).handler, stats);
  });

  it('returns not-found for unknown paths, prefixes and extensions of a route', () => {
    const router = new Router().add('GET', '/api/stats', handler());
    for (const path of ['/', '/api', '/api/stats/x', '/api/statsx', '/x/api/stats', '/API/stats']) {
      assert.deepEqual(router.match('GET', path), { kind: 'not-found' }, path);
    }
  });

  it('matches the root pattern for "/" and the empty path', () => {
    const root = handler();
    const router = new Router().add('GET', '/', root);
    assert.equal(found(router.match('GET', '/')).handler, root);
    assert.equal(found(router.match('GET', '')).handler, root);
    assert.deepEqual(router.match('GET', '/x'), { kind: 'not-found' });
  });

  it('ignores empty segments, so trailing and doubled slashes match the same route', () => {
    const health = handler();
    const router = new Router().add('GET', '/health', health);
    for (const path of ['/health/', '//health', 'health'])
      assert.equal(found(router.match('GET', path)).handler, health);
  });

  it('compares static segments without percent-decoding them', () => {
    const router = new Router().add('GET', '/health', handler());
    assert.deepEqual(router.match('GET', '/he%61lth'), { kind: 'not-found' });
  });

  it('returns itself from add() for chaining', () => {
    const router = new Router();
    assert.equal(router.add('GET', '/a', handler()), router);
  });
});

describe('Router: params', () => {
  it('captures :name segments', () => {
    const router = new Router().add('POST', '/api/users/:userId/send', handler());
    assert.deepEqual(found(router.match('POST', '/api/users/alice/send')).params, { userId: 'alice' });
  });

  it('captures several params', () => {
    const router = new Router().add('GET', '/a/:x/b/:y', handler());
    assert.deepEqual(found(router.match('GET', '/a/1/b/2')).params, { x: '1', y: '2' });
  });

  it('percent-decodes params, including an encoded slash, space and UTF-8', () => {
    const router = new Router().add('GET', '/api/channels/:channel', handler());
    const cases: [string, string][] = [
      ['chat%3Alobby', 'chat:lobby'],
      ['a%2Fb', 'a/b'],
      ['a%20b', 'a b'],
      ['caf%C3%A9', 'café'],
      ['%F0%9F%98%80', '😀'],
      ['a+b', 'a+b'],
      ['%25', '%'],
    ];
    for (const [raw, decoded] of cases) {
      assert.deepEqual(found(router.match('GET', `/api/channels/${raw}`)).params, { channel: decoded }, raw);
    }
  });

  it('returns not-found for bad percent-encoding instead of throwing', () => {
    const router = new Router().add('GET', '/api/channels/:channel', handler());
    for (const raw of ['%', '%2', '%zz', '%E0%A4%A', '%C3', '%FF', '%ED%A0%80', 'ok%']) {
      assert.deepEqual(router.match('GET', `/api/channels/${raw}`), { kind: 'not-found' }, raw);
      // Not a 405 either: a path whose param cannot be decoded matches no route at all.
      assert.deepEqual(router.match('DELETE', `/api/channels/${raw}`), { kind: 'not-found' }, raw);
    }
  });

  it('tries later routes when a param cannot be decoded', () => {
    const fallback = handler();
    const router = new Router().add('GET', '/files/:name', handler()).add('GET', '/files/%', fallback);
    assert.equal(found(router.match('GET', '/files/%')).handler, fallback);
  });

  it('needs the exact number of segments: a param never spans or skips one', () => {
    const router = new Router().add('GET', '/users/:id', handler());
    assert.deepEqual(router.match('GET', '/users'), { kind: 'not-found' });
    assert.deepEqual(router.match('GET', '/users/a/b'), { kind: 'not-found' });
  });

  it('keeps values like "__proto__" as plain strings in a fresh params object', () => {
    const router = new Router().add('GET', '/users/:id', handler());
    const { params } = found(router.match('GET', '/users/__proto__'));
    assert.equal(params['id'], '__proto__');
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    const again = found(router.match('GET', '/users/b')).params;
    assert.notEqual(again, params);
  });
});

describe('Router: precedence', () => {
  it('uses the first route added when several match', () => {
    const byParam = handler();
    const literal = handler();
    const router = new Router().add('GET', '/a/:x', byParam).add('GET', '/a/b', literal);
    assert.equal(found(router.match('GET', '/a/b')).handler, byParam);
  });

  it('skips a route whose method differs and finds a later route with the method', () => {
    const post = handler();
    const router = new Router().add('GET', '/a/:x', handler()).add('POST', '/a/b', post);
    assert.equal(found(router.match('POST', '/a/b')).handler, post);
  });
});

describe('Router: methods', () => {
  it('answers method-not-allowed with the allowed methods, in the order added', () => {
    const router = new Router()
      .add('POST', '/api/publish', handler())
      .add('PUT', '/api/publish', handler())
      .add('GET', '/other', handler());
    assert.deepEqual(router.match('DELETE', '/api/publish'), {
      kind: 'method-not-allowed',
      allowed: ['POST', 'PUT'],
    });
  });

  it('lists each allowed method once when several patterns match the path', () => {
    const router = new Router()
      .add('GET', '/a/:x', handler())
      .add('GET', '/a/b', handler())
      .add('POST', '/a/:y', handler())
      .add('POST', '/:z/b', handler());
    assert.deepEqual(router.match('DELETE', '/a/b'), {
      kind: 'method-not-allowed',
      allowed: ['GET', 'POST'],
    });
  });

  it('matches HEAD to a GET route', () => {
    const get = handler();
    const router = new Router().add('GET', '/health', get);
    assert.equal(found(router.match('HEAD', '/health')).handler, get);
  });

  it('prefers an explicit HEAD route over a GET route added after it', () => {
    const head = handler();
    const router = new Router().add('HEAD', '/x', head).add('GET', '/x', handler());
    assert.equal(found(router.match('HEAD', '/x')).handler, head);
  });

  it('does not match GET to a HEAD route, nor HEAD to a POST route', () => {
    const router = new Router().add('HEAD', '/h', handler()).add('POST', '/p', handler());
    assert.deepEqual(router.match('GET', '/h'), { kind: 'method-not-allowed', allowed: ['HEAD'] });
    assert.deepEqual(router.match('HEAD', '/p'), { kind: 'method-not-allowed', allowed: ['POST'] });
  });

  it('compares methods case-sensitively, as HTTP does', () => {
    const router = new Router().add('GET', '/health', handler());
    assert.deepEqual(router.match('get', '/health'), { kind: 'method-not-allowed', allowed: ['GET'] });
  });

  it('returns not-found rather than method-not-allowed when no route matches the path', () => {
    const router = new Router().add('GET', '/health', handler());
    assert.deepEqual(router.match('POST', '/nope'), { kind: 'not-found' });
    assert.deepEqual(new Router().match('GET', '/'), { kind: 'not-found' });
  });

  it('a last *segment captures the rest of the path, one segment or more, undecoded', () => {
    const router = new Router().add('GET', '/ws/*room', handler());
    assert.deepEqual(found(router.match('GET', '/ws/a')).params, { room: 'a' });
    assert.deepEqual(found(router.match('GET', '/ws/a/b%20c')).params, { room: 'a/b%20c' });
    assert.deepEqual(router.match('GET', '/ws'), { kind: 'not-found' });
  });
});
