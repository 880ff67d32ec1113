import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TrustedProxies,
  clientAddress,
  normalizeAddress,
  trustedProxyProblem,
} from '../src/transports/client-ip.js';

const NONE = new TrustedProxies();
const LB = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);

describe('clientAddress: no trusted proxies', () => {
  it('is the peer, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddress('203.0.113.9', '1.2.3.4', NONE), '203.0.113.9');
    assert.equal(clientAddress('203.0.113.9', undefined, NONE), '203.0.113.9');
  });

  it('drops the IPv4-mapped IPv6 prefix and a zone', () => {
    assert.equal(clientAddress('::ffff:203.0.113.9', undefined, NONE), '203.0.113.9');
    assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeAddress('2001:db8::1'), '2001:db8::1');
  });
});

describe('clientAddress: behind trusted proxies (rightmost untrusted)', () => {
  it('ignores a spoofed header from a peer that is not trusted', () => {
    assert.equal(clientAddress('198.51.100.1', '1.2.3.4', LB), '198.51.100.1');
  });

  it('takes the address the trusted proxy saw', () => {
    assert.equal(clientAddress('10.1.2.3', '203.0.113.9', LB), '203.0.113.9');
    assert.equal(clientAddress('::ffff:10.1.2.3', '203.0.113.9', LB), '203.0.113.9');
  });

  it('never reads what the client wrote to the left of the first untrusted hop', () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the address it saw.
    assert.equal(clientAddress('10.1.2.3', '6.6.6.6, 203.0.113.9', LB), '203.0.113.9');
  });

  it('skips every trusted hop from the right', () => {
    assert.equal(clientAddress('10.0.0.1', '6.6.6.6, 203.0.113.9, 192.168.1.7, 10.9.9.9', LB), '203.0.113.9');
    assert.equal(clientAddress('::1', '2001:db8::5, fd00::2', LB), '2001:db8::5');
  });

  it('takes the leftmost hop when every hop is trusted (a client inside the network)', () => {
    assert.equal(clientAddress('10.0.0.1', '10.5.5.5, 10.0.0.2', LB), '10.5.5.5');
  });

  it('stops at the last trusted hop when an entry is malformed', () => {
    assert.equal(clientAddress('10.0.0.1', 'unknown', LB), '10.0.0.1');
    assert.equal(clientAddress('10.0.0.1', '203.0.113.9, garbage, 10.0.0.2', LB), '10.0.0.2');
    assert.equal(clientAddress('10.0.0.1', '203.0.113.9,', LB), '10.0.0.1');
  });

  it('reads entries with ports and brackets, and several header lines', () => {
    assert.equal(clientAddress('10.0.0.1', '203.0.113.9:51234', LB), '203.0.113.9');
    assert.equal(clientAddress('10.0.0.1', '[2001:db8::7]:443', LB), '2001:db8::7');
    assert.equal(clientAddress('10.0.0.1', '[2001:db8::8]', LB), '2001:db8::8');
    assert.equal(clientAddress('10.0.0.1', ['6.6.6.6', '203.0.113.9, 10.0.0.3'], LB), '203.0.113.9');
  });

  it('is the peer when a trusted proxy sends no header', () => {
    assert.equal(clientAddress('10.0.0.1', undefined, LB), '10.0.0.1');
  });
});

describe('TrustedProxies', () => {
  it('matches exact addresses and ranges of both families, and nothing else', () => {
    assert.equal(LB.has('10.255.0.1'), true);
    assert.equal(LB.has('11.0.0.1'), false);
    assert.equal(LB.has('192.168.1.7'), true);
    assert.equal(LB.has('192.168.1.8'), false);
    assert.equal(LB.has('fd12:3456::1'), true);
    assert.equal(LB.has('fe80::1'), false);
    assert.equal(LB.has('::1'), true);
    assert.equal(LB.has('not an address'), false);
    assert.equal(NONE.has('127.0.0.1'), false);
  });

  it('validates entries', () => {
    for (const good of ['10.0.0.0/8', '0.0.0.0/0', '127.0.0.1', '::1', 'fd00::/8', '::/0', ' 10.0.0.1 ']) {
      assert.equal(trustedProxyProblem(good), null, good);
    }
    for (const bad of ['', 'localhost', '10.0.0.0/33', '::/129', '10.0.0.1/', '10.0.0.1/-1', '10.0.0/8']) {
      assert.notEqual(trustedProxyProblem(bad), null, bad);
    }
    assert.throws(() => new TrustedProxies(['nope']), TypeError);
  });
});
