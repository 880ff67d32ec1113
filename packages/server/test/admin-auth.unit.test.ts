/**
 * The admin dashboard's credentials, pure parts (docs/admin.md, "Security"): the key from the password,
 * sealed cookies and connection tokens (tampered, expired, made with another password, used twice), the
 * CSRF token, the same-origin check, the cookie's attributes, the sign-in throttle, and the reserved
 * `$admin:` channels in the authorizer. Time comes from a fake clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '@switchboard/protocol';
import {
  csrfToken,
  deriveAdminKey,
  openAdminToken,
  openCookie,
  sealAdminToken,
  sealCookie,
} from '../src/auth/admin-credentials.js';
import { AdminTokenVerifier, adminAuthenticator } from '../src/auth/admin-authenticator.js';
import { adminPrincipal, isAdminConnection } from '../src/auth/admin-principal.js';
import { AnonymousAuthenticator } from '../src/auth/authenticator.js';
import { Authorizer } from '../src/auth/authorizer.js';
import { AdminSessions, LoginThrottle, sameOrigin, sessionCookie } from '../src/http/admin-session.js';
import { TrustedProxies } from '../src/transports/client-ip.js';
import { overTls } from '../src/http/admin-session.js';
import { FakeClock } from './fake-clock.js';

const KEY = deriveAdminKey('correct horse battery staple');
const OTHER = deriveAdminKey('another password entirely');

/** `text` with its character at `at` changed. */
function flip(text: string, at: number): string {
  const c = text[at] === 'A' ? 'B' : 'A';
  return text.slice(0, at) + c + text.slice(at + 1);
}

function request(
  headers: Record<string, string>,
  remoteAddress = '127.0.0.1',
  encrypted = false,
): IncomingMessage {
  return { headers, method: 'POST', socket: { remoteAddress, encrypted } } as unknown as IncomingMessage;
}

describe('admin credentials', () => {
  it('the key depends on the password only: the same password gives the same key on every node', () => {
    assert.deepEqual(deriveAdminKey('correct horse battery staple'), KEY);
    assert.notDeepEqual(OTHER, KEY);
    assert.equal(KEY.length, 32);
  });

  it('a cookie opens with its key only, and not once a byte of it changed', () => {
    const value = sealCookie(KEY, { exp: 123, nonce: 'n1' });
    assert.match(value, /^v1\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(openCookie(KEY, value), { exp: 123, nonce: 'n1' });
    assert.equal(openCookie(OTHER, value), null, 'another password revokes it');
    for (const at of [3, value.indexOf('.', 3) + 2, value.length - 2])
      assert.equal(openCookie(KEY, flip(value, at)), null, `changed at ${at}`);
    assert.equal(openCookie(KEY, 'v1.e30.'), null);
    assert.equal(openCookie(KEY, 'garbage'), null);
    assert.equal(openCookie(KEY, `${value}x`.repeat(20)), null);
  });

  it('a cookie is not a token and a token is not a cookie (each MAC covers its purpose)', () => {
    const token = sealAdminToken(KEY, { exp: 10, session: 20, nonce: 'n' });
    assert.match(token, /^sbadm1\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(openAdminToken(KEY, token), { exp: 10, session: 20, nonce: 'n' });
    const asCookie = `v1.${token.split('.').slice(1).join('.')}`;
    assert.equal(openCookie(KEY, asCookie), null);
    const cookie = sealCookie(KEY, { exp: 10, nonce: 'n' });
    assert.equal(openAdminToken(KEY, `sbadm1.${cookie.split('.').slice(1).join('.')}`), null);
  });

  it('the CSRF token is a MAC of the nonce: per session, per password', () => {
    assert.equal(csrfToken(KEY, 'a'), csrfToken(KEY, 'a'));
    assert.notEqual(csrfToken(KEY, 'a'), csrfToken(KEY, 'b'));
    assert.notEqual(csrfToken(KEY, 'a'), csrfToken(OTHER, 'a'));
  });
});

describe('admin sessions', () => {
  it('a session lasts its TTL on the injected clock; its CSRF token matches it only', () => {
    const clock = new FakeClock();
    const sessions = new AdminSessions(KEY, 60_000, clock);
    const { session, value } = sessions.issue();
    assert.equal(session.expiresAt, clock.now() + 60_000);
    const header = `other=1; switchboard_admin=${value}; x=y`;
    assert.deepEqual(sessions.read(header), session);
    assert.equal(sessions.csrfMatches(session, sessions.csrf(session)), true);
    assert.equal(sessions.csrfMatches(session, undefined), false);
    assert.equal(sessions.csrfMatches(session, sessions.csrf({ ...session, nonce: 'x' })), false);
    clock.advance(59_999);
    assert.deepEqual(sessions.read(header), session);
    clock.advance(1);
    assert.equal(sessions.read(header), null, 'expired');
    assert.equal(sessions.read(undefined), null);
    assert.equal(new AdminSessions(OTHER, 60_000, clock).read(header), null);
  });

  it('the cookie is HttpOnly, SameSite=Strict, scoped to <base>/admin, Secure over TLS, cleared with Max-Age=0', () => {
    const options = { path: '/rt/admin', maxAgeSeconds: 3600, secure: false };
    assert.equal(
      sessionCookie('v', options),
      'switchboard_admin=v; HttpOnly; SameSite=Strict; Path=/rt/admin; Max-Age=3600',
    );
    assert.match(sessionCookie('v', { ...options, secure: true }), /; Secure$/);
    assert.match(sessionCookie(null, options), /^switchboard_admin=; .*Max-Age=0$/);
  });

  it('TLS: the socket, or X-Forwarded-Proto: https from a trusted proxy only', () => {
    const proxies = new TrustedProxies(['10.0.0.1']);
    assert.equal(overTls(request({}, '127.0.0.1', true), proxies), true);
    assert.equal(overTls(request({ 'x-forwarded-proto': 'https' }, '10.0.0.1'), proxies), true);
    assert.equal(overTls(request({ 'x-forwarded-proto': 'https' }, '10.0.0.2'), proxies), false);
    assert.equal(overTls(request({ 'x-forwarded-proto': 'http' }, '10.0.0.1'), proxies), false);
  });

  it('same origin: Origin names the Host, or Sec-Fetch-Site says same-origin; anything else is refused', () => {
    assert.equal(sameOrigin(request({ host: 'a.example:8080', origin: 'https://a.example:8080' })), true);
    assert.equal(sameOrigin(request({ host: 'a.example', origin: 'https://evil.example' })), false);
    assert.equal(sameOrigin(request({ host: 'a.example', origin: 'null' })), false);
    assert.equal(sameOrigin(request({ host: 'a.example:8080', origin: 'http://a.example' })), false);
    assert.equal(sameOrigin(request({ host: 'a.example', 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(sameOrigin(request({ host: 'a.example', 'sec-fetch-site': 'cross-site' })), false);
    assert.equal(sameOrigin(request({ host: 'a.example' })), false);
  });

  it('sign-in failures: a burst of 5 per address, then one per 10 s', () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle(clock);
    for (let i = 0; i < 5; i++) {
      assert.equal(throttle.retryAfter('1.2.3.4'), 0);
      throttle.failed('1.2.3.4');
    }
    assert.equal(throttle.retryAfter('1.2.3.4'), 10);
    assert.equal(throttle.retryAfter('5.6.7.8'), 0, 'another address is not held up');
    clock.advance(10_000);
    assert.equal(throttle.retryAfter('1.2.3.4'), 0);
  });
});

describe('admin connection tokens', () => {
  it('valid once per node, until it expires or its session ends; never with another key', async () => {
    const clock = new FakeClock();
    const verifier = new AdminTokenVerifier(KEY, clock);
    const token = (exp: number, session = clock.now() + 3_600_000, nonce = String(exp)): string =>
      sealAdminToken(KEY, { exp, session, nonce });
    const good = token(clock.now() + 60_000);
    const first = verifier.verify(good);
    assert.equal(first.ok, true);
    assert.ok(first.ok && isAdminConnection({ info: first.principal.info }));
    assert.equal(first.ok && first.principal.expiresAt, clock.now() + 3_600_000, 'bounded by the session');
    assert.equal(verifier.verify(good).ok, false, 'used');
    assert.equal(new AdminTokenVerifier(KEY, clock).verify(good).ok, true, 'another node accepts it once');
    assert.equal(new AdminTokenVerifier(OTHER, clock).verify(token(clock.now() + 1000)).ok, false);
    assert.equal(verifier.verify(token(clock.now())).ok, false, 'expired');
    assert.equal(verifier.verify(token(clock.now() + 1000, clock.now())).ok, false, 'session over');
    const refused = verifier.verify(flip(token(clock.now() + 1000), 10));
    assert.deepEqual(refused.ok === false && [refused.status, refused.code], [401, ErrorCode.Unauthorized]);
  });

  it('the decorator recognises the token in a header, a subprotocol or the query, and passes the rest on', async () => {
    const clock = new FakeClock();
    const auth = adminAuthenticator(new AnonymousAuthenticator(), new AdminTokenVerifier(KEY, clock));
    const make = (): string =>
      sealAdminToken(KEY, {
        exp: clock.now() + 60_000,
        session: clock.now() + 1e6,
        nonce: String(Math.random()),
      });
    const url = new URL('http://h/ws');
    const cases = [
      { url, headers: { authorization: `Bearer ${make()}` } },
      { url, headers: { 'sec-websocket-protocol': `switchboard.v1, switchboard.bearer.${make()}` } },
      { url: new URL(`http://h/ws?token=${make()}`), headers: {} },
    ];
    for (const c of cases) {
      const outcome = await auth.authenticate({ ...c, remoteAddress: '127.0.0.1' });
      assert.ok(
        outcome.ok === true && isAdminConnection({ info: outcome.principal.info }),
        JSON.stringify(c.headers),
      );
    }
    const plain = await auth.authenticate({ url, headers: {}, remoteAddress: '127.0.0.1' });
    assert.ok(plain.ok === true && !isAdminConnection({ info: plain.principal.info }));
    // A token that only looks like one is refused, not passed on as anonymous.
    const forged = await auth.authenticate({
      url,
      headers: { authorization: `Bearer sbadm1.${Buffer.from('{}').toString('base64url')}.AAAA` },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(forged.ok, false);
    // An anonymous inner authenticator verifies no bare token; neither does the decorator then.
    assert.equal(auth.verifyToken, undefined);
  });
});

describe('reserved $admin: channels', () => {
  const connection = (info: unknown) => ({ id: 'c', userId: 'u', info, scopes: ['admin'], grants: ['*'] });
  const admin = connection(adminPrincipal(Date.now() + 1000).info);

  it('only an admin connection subscribes, nobody publishes; the rules and the hook never see them', async () => {
    let hookCalls = 0;
    const generous = new Authorizer(
      [{ pattern: '*', permissions: { subscribe: 'anyone', publish: 'anyone' } }],
      'anyone',
      () => {
        hookCalls++;
        return true;
      },
    );
    for (const authorizer of [Authorizer.of({}), generous]) {
      assert.equal(authorizer.skips('$admin:nodes'), false);
      assert.equal(await authorizer.allows(admin, 'subscribe', '$admin:nodes'), true);
      assert.equal(await authorizer.allows(admin, 'publish', '$admin:nodes'), false);
      assert.equal(await authorizer.allows(admin, 'history', '$admin:nodes'), false);
      assert.equal(await authorizer.allows(connection({ admin: true }), 'subscribe', '$admin:nodes'), false);
      assert.equal(await authorizer.allows(connection(null), 'subscribe', '$admin:x'), false);
    }
    assert.equal(hookCalls, 0);
    assert.equal(Authorizer.of({}).skips('news'), true);
    assert.equal(Authorizer.of({}).skips('admin:nodes'), true, 'only the $admin: prefix is reserved');
  });
});
