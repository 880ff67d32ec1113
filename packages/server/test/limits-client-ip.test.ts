/**
 * The client address a connection is known by (ConnectionInfo.remoteAddress, the authenticator's
 * request, every per-address limit): the socket's peer, or X-Forwarded-For only from a trusted proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Authenticator } from '../src/index.js';
import { connectV1, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { assertRefused, assertServed, attempt, metric } from './limits-helpers.js';

/** The address the server recorded for a fresh connection sending `forwardedFor`. */
async function addressSeen(t: TestServer, forwardedFor: string): Promise<string | undefined> {
  const { client, connected } = await connectV1(t, { headers: { 'x-forwarded-for': forwardedFor } });
  const address = t.server.getConnection(String(connected['connectionId']))?.remoteAddress;
  client.close();
  return address;
}

test('a spoofed X-Forwarded-For from a peer that is not a trusted proxy is ignored', async () => {
  const t = await startServer();
  try {
    assert.equal(await addressSeen(t, '203.0.113.9'), '127.0.0.1');
  } finally {
    await t.stop();
  }
});

test('spoofing X-Forwarded-For does not get around the per-address limits', async () => {
  const t = await startServer({ maxConnectionsPerIp: 2 });
  try {
    const spoof = (address: string): { headers: Record<string, string> } => ({
      headers: { 'x-forwarded-for': address },
    });
    const { client: one } = await connectV1(t, spoof('203.0.113.1'));
    const { client: two } = await connectV1(t, spoof('203.0.113.2'));
    assertRefused(await attempt(`${t.wsUrl}/ws`, spoof('203.0.113.3')), 429, 'rate_limited');
    await assertServed(one);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'ip_connections' }), 1);
    one.close();
    two.close();
  } finally {
    await t.stop();
  }
});

test('behind a trusted proxy the client is the rightmost untrusted hop, everywhere the server looks', async () => {
  const seen: string[] = [];
  const authenticator: Authenticator = {
    authenticate(request) {
      seen.push(request.remoteAddress);
      return Promise.resolve({ ok: true, principal: { userId: null } });
    },
  };
  const t = await startServer({ trustedProxies: ['127.0.0.0/8', '10.0.0.0/8'], authenticator });
  try {
    // The client wrote 6.6.6.6 itself; the edge proxy saw 203.0.113.9; an inner proxy (10.1.1.1) forwarded.
    assert.equal(await addressSeen(t, '6.6.6.6, 203.0.113.9, 10.1.1.1'), '203.0.113.9');
    assert.equal(await addressSeen(t, '2001:db8::42'), '2001:db8::42');
    // Every hop trusted (a client inside the network): the leftmost.
    assert.equal(await addressSeen(t, '10.2.2.2'), '10.2.2.2');
    // A malformed entry: the last trusted hop.
    assert.equal(await addressSeen(t, 'unknown'), '127.0.0.1');
    assert.deepEqual(seen, ['203.0.113.9', '2001:db8::42', '10.2.2.2', '127.0.0.1']);
  } finally {
    await t.stop();
  }
});
