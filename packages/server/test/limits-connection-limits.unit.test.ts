import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLimits, limitKey } from '../src/limits/connection-limits.js';
import type { ConnectionLimitSettings } from '../src/limits/connection-limits.js';

const T0 = 1_700_000_000_000;

const OFF: ConnectionLimitSettings = {
  maxConnections: 0,
  connectionRate: 0,
  connectionBurst: 1,
  maxConnectionsPerIp: 0,
  connectionRatePerIp: 0,
  connectionBurstPerIp: 1,
};

/** Admit `n` connections from `address` at `now`, settling and opening each; returns the refusals. */
function openMany(limits: ConnectionLimits, address: string, n: number, now = T0): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const refusal = limits.admit(address, now);
    out.push(refusal?.limit ?? null);
    if (refusal === null) {
      limits.settle(address);
      limits.opened(address);
    }
  }
  return out;
}

describe('limitKey', () => {
  it('keeps IPv4 addresses and anything unparsable as they are', () => {
    assert.equal(limitKey('203.0.113.9'), '203.0.113.9');
    assert.equal(limitKey(''), '');
    assert.equal(limitKey('garbage'), 'garbage');
  });

  it('groups IPv6 addresses by /64, whatever their spelling', () => {
    const key = '2001:db8:1:2::/64';
    assert.equal(limitKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), key);
    assert.equal(limitKey('2001:0db8:0001:0002::1'), key);
    assert.equal(limitKey('2001:DB8:1:2::ffff'), key);
    assert.equal(limitKey('2001:db8:1:2::1%eth0'), key);
    assert.equal(limitKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(limitKey('::1'), '0:0:0:0::/64');
    assert.equal(limitKey('64:ff9b::203.0.113.9'), '64:ff9b:0:0::/64');
    assert.notEqual(limitKey('2001:db8:1:3::1'), key);
  });
});

describe('ConnectionLimits: new connections per address', () => {
  const settings = { ...OFF, connectionRatePerIp: 2, connectionBurstPerIp: 5 };

  it('admits a burst, then refuses with 429 rate_limited and a Retry-After', () => {
    const limits = new ConnectionLimits(settings, T0);
    assert.deepEqual(openMany(limits, '203.0.113.9', 5), [null, null, null, null, null]);
    const refusal = limits.admit('203.0.113.9', T0);
    assert.equal(refusal?.limit, 'ip_rate');
    assert.equal(refusal.status, 429);
    assert.equal(refusal.code, 'rate_limited');
    assert.equal(refusal.retryAfterSeconds, 1);
  });

  it('refills at the rate, and other addresses are unaffected', () => {
    const limits = new ConnectionLimits(settings, T0);
    openMany(limits, '203.0.113.9', 6);
    assert.equal(limits.admit('198.51.100.1', T0), null);
    assert.equal(limits.admit('203.0.113.9', T0 + 499)?.limit, 'ip_rate');
    assert.equal(limits.admit('203.0.113.9', T0 + 500), null);
  });

  it('says how long to wait when the rate is slow', () => {
    const limits = new ConnectionLimits({ ...OFF, connectionRatePerIp: 0.1, connectionBurstPerIp: 1 }, T0);
    assert.equal(limits.admit('203.0.113.9', T0), null);
    assert.equal(limits.admit('203.0.113.9', T0 + 1000)?.retryAfterSeconds, 9);
  });

  it('treats a whole IPv6 /64 as one address', () => {
    const limits = new ConnectionLimits(settings, T0);
    for (let i = 1; i <= 5; i++) assert.equal(limits.admit(`2001:db8:1:2::${i}`, T0), null);
    assert.equal(limits.admit('2001:db8:1:2::99', T0)?.limit, 'ip_rate');
    assert.equal(limits.admit('2001:db8:1:3::1', T0), null);
  });

  it('forgets idle addresses once their buckets would be full again, so memory stays bounded', () => {
    const limits = new ConnectionLimits(settings, T0);
    for (let i = 0; i < 100; i++) limits.admit(`198.51.100.${i}`, T0);
    assert.equal(limits.trackedAddresses, 100);
    // One generation (burst / rate = 2.5 s) later the old ones move aside; a second later they are gone.
    limits.admit('203.0.113.1', T0 + 2500);
    assert.equal(limits.trackedAddresses, 101);
    limits.admit('203.0.113.2', T0 + 5000);
    assert.equal(limits.trackedAddresses, 2);
  });

  it('carries a bucket used in one generation into the next, so a rotation never refills it early', () => {
    const limits = new ConnectionLimits(settings, T0);
    limits.admit('203.0.113.9', T0);
    // Drained just before the generation ends (2.5 s)...
    openMany(limits, '203.0.113.9', 6, T0 + 2400);
    assert.equal(limits.admit('203.0.113.9', T0 + 2400)?.limit, 'ip_rate');
    // ...which another address triggers; 200 ms later the bucket holds 0.4 tokens, not a fresh 5.
    limits.admit('198.51.100.1', T0 + 2500);
    assert.equal(limits.admit('203.0.113.9', T0 + 2600)?.limit, 'ip_rate');
    assert.equal(limits.admit('203.0.113.9', T0 + 2900), null);
  });

  it('drops the older generation early past maxTrackedAddresses', () => {
    const limits = new ConnectionLimits(settings, T0, { maxTrackedAddresses: 10 });
    for (let i = 0; i < 35; i++) limits.admit(`198.51.100.${i}`, T0);
    assert.ok(limits.trackedAddresses <= 20, `tracked ${limits.trackedAddresses}`);
  });
});

describe('ConnectionLimits: open connections per address', () => {
  const settings = { ...OFF, maxConnectionsPerIp: 3 };

  it('refuses past the cap with 429, counting handshakes still in flight', () => {
    const limits = new ConnectionLimits(settings, T0);
    assert.equal(limits.admit('203.0.113.9', T0), null);
    assert.equal(limits.admit('203.0.113.9', T0), null);
    assert.equal(limits.admit('203.0.113.9', T0), null);
    const refusal = limits.admit('203.0.113.9', T0);
    assert.equal(refusal?.limit, 'ip_connections');
    assert.equal(refusal.status, 429);
    assert.equal(refusal.retryAfterSeconds, undefined);
    assert.equal(limits.countFor('203.0.113.9'), 3);
  });

  it('frees a place when a refused handshake settles or an open connection closes', () => {
    const limits = new ConnectionLimits(settings, T0);
    openMany(limits, '203.0.113.9', 2);
    assert.equal(limits.admit('203.0.113.9', T0), null);
    limits.settle('203.0.113.9');
    assert.equal(limits.countFor('203.0.113.9'), 2);
    openMany(limits, '203.0.113.9', 1);
    assert.equal(limits.admit('203.0.113.9', T0)?.limit, 'ip_connections');
    limits.closed('203.0.113.9');
    assert.equal(limits.admit('203.0.113.9', T0), null);
  });

  it('never counts below zero and forgets addresses with nothing open', () => {
    const limits = new ConnectionLimits(settings, T0);
    limits.closed('203.0.113.9');
    limits.settle('203.0.113.9');
    assert.equal(limits.size, 0);
    openMany(limits, '203.0.113.9', 3);
    assert.equal(limits.admit('203.0.113.9', T0)?.limit, 'ip_connections');
    for (let i = 0; i < 3; i++) limits.closed('203.0.113.9');
    assert.equal(limits.countFor('203.0.113.9'), 0);
    assert.equal(limits.size, 0);
  });
});

describe('ConnectionLimits: sockets that have not spoken yet', () => {
  const settings = { ...OFF, maxConnectionsPerIp: 3 };

  it('counts them against the address, so its handshakes are refused while they sit', () => {
    const limits = new ConnectionLimits(settings, T0);
    for (let i = 0; i < 3; i++) assert.equal(limits.holdSocket('203.0.113.9'), null);
    assert.equal(limits.countFor('203.0.113.9'), 3);
    assert.equal(limits.admit('203.0.113.9', T0)?.limit, 'ip_connections');
    // Not the node's: they are no connections yet.
    assert.equal(limits.size, 0);
    limits.releaseSocket('203.0.113.9');
    assert.equal(limits.admit('203.0.113.9', T0), null);
  });

  it('refuses one past the cap with 429, whatever the open connections of the address', () => {
    const limits = new ConnectionLimits(settings, T0);
    openMany(limits, '203.0.113.9', 3);
    // The address's WebSockets fill its cap: a socket may still come in (for the HTTP API, say)...
    assert.equal(limits.holdSocket('203.0.113.9'), null);
    // ...but no more sockets than the cap may sit silent at once.
    assert.equal(limits.holdSocket('203.0.113.9'), null);
    assert.equal(limits.holdSocket('203.0.113.9'), null);
    const refusal = limits.holdSocket('203.0.113.9');
    assert.equal(refusal?.limit, 'ip_connections');
    assert.equal(refusal.status, 429);
    assert.equal(refusal.code, 'rate_limited');
    assert.equal(limits.heldSocketsFor('203.0.113.9'), 3);
    assert.equal(limits.holdSocket('198.51.100.1'), null);
  });

  it('never releases below zero, and holds nothing when the cap is 0', () => {
    const limits = new ConnectionLimits(settings, T0);
    openMany(limits, '203.0.113.9', 1);
    limits.releaseSocket('203.0.113.9');
    assert.equal(limits.countFor('203.0.113.9'), 1);
    const open = new ConnectionLimits(OFF, T0);
    for (let i = 0; i < 100; i++) assert.equal(open.holdSocket('203.0.113.9'), null);
    assert.equal(open.countFor('203.0.113.9'), 0);
  });
});

describe('ConnectionLimits: the node', () => {
  it('refuses past maxConnections with 503 unavailable, whatever the address', () => {
    const limits = new ConnectionLimits({ ...OFF, maxConnections: 2 }, T0);
    openMany(limits, '203.0.113.1', 1);
    openMany(limits, '203.0.113.2', 1);
    const refusal = limits.admit('203.0.113.3', T0);
    assert.equal(refusal?.limit, 'node_connections');
    assert.equal(refusal.status, 503);
    assert.equal(refusal.code, 'unavailable');
    limits.closed('203.0.113.1');
    assert.equal(limits.admit('203.0.113.3', T0), null);
  });

  it('admits at most connectionRate new connections per second, with a Retry-After', () => {
    const limits = new ConnectionLimits({ ...OFF, connectionRate: 3, connectionBurst: 3 }, T0);
    for (let i = 0; i < 3; i++) assert.equal(limits.admit(`203.0.113.${i}`, T0), null);
    const refusal = limits.admit('203.0.113.9', T0);
    assert.equal(refusal?.limit, 'node_rate');
    assert.equal(refusal.status, 503);
    assert.equal(refusal.retryAfterSeconds, 1);
    assert.equal(limits.admit('203.0.113.9', T0 + 334), null);
  });

  it('admits a burst of connectionBurst, then spreads the rest at connectionRate', () => {
    const limits = new ConnectionLimits({ ...OFF, connectionRate: 100, connectionBurst: 5 }, T0);
    const first = Array.from({ length: 20 }, (_, i) => limits.admit(`203.0.113.${i}`, T0)?.limit ?? null);
    assert.equal(first.filter((r) => r === null).length, 5);
    assert.ok(first.slice(5).every((r) => r === 'node_rate'));
    // 100 a second refills one token every 10 ms, never more than the burst.
    assert.equal(limits.admit('203.0.113.50', T0 + 10), null);
    assert.equal(limits.admit('203.0.113.51', T0 + 10)?.limit, 'node_rate');
    const later = Array.from(
      { length: 20 },
      (_, i) => limits.admit(`198.51.100.${i}`, T0 + 60_000)?.limit ?? null,
    );
    assert.equal(later.filter((r) => r === null).length, 5);
  });

  it('refuses one noisy address by its own limit before it can use up the node', () => {
    const limits = new ConnectionLimits(
      { ...OFF, connectionRate: 10, connectionBurst: 10, connectionRatePerIp: 1, connectionBurstPerIp: 2 },
      T0,
    );
    const noisy = Array.from({ length: 50 }, () => limits.admit('6.6.6.6', T0)?.limit ?? null);
    assert.equal(noisy.filter((r) => r === null).length, 2);
    for (let i = 0; i < 8; i++) assert.equal(limits.admit(`203.0.113.${i}`, T0), null, `client ${i}`);
  });

  it('limits nothing when every setting is 0', () => {
    const limits = new ConnectionLimits(OFF, T0);
    assert.ok(openMany(limits, '203.0.113.9', 10_000).every((r) => r === null));
    assert.equal(limits.trackedAddresses, 0);
    assert.equal(limits.size, 10_000);
  });
});
