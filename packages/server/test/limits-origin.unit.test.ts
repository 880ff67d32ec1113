import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OriginPolicy, originPatternProblem } from '../src/transports/origin.js';

describe('OriginPolicy: no list', () => {
  it('allows every origin and says so', () => {
    const policy = new OriginPolicy(undefined);
    assert.equal(policy.open, true);
    assert.equal(policy.allows('https://evil.example'), true);
    assert.equal(policy.allows(undefined), true);
  });

  it("'*' in a list allows every origin too", () => {
    const policy = new OriginPolicy(['https://app.example', '*']);
    assert.equal(policy.open, true);
    assert.equal(policy.allows('https://evil.example'), true);
  });
});

describe('OriginPolicy: exact origins', () => {
  const policy = new OriginPolicy([
    'https://app.example',
    'http://localhost:3000',
    'HTTPS://Admin.Example:443/',
  ]);

  it('allows listed origins and refuses everything else', () => {
    assert.equal(policy.open, false);
    assert.equal(policy.allows('https://app.example'), true);
    assert.equal(policy.allows('http://localhost:3000'), true);
    assert.equal(policy.allows('https://evil.example'), false);
    assert.equal(policy.allows('http://app.example'), false, 'another scheme');
    assert.equal(policy.allows('https://app.example:8443'), false, 'another port');
    assert.equal(policy.allows('http://localhost:3001'), false);
    assert.equal(policy.allows('https://app.example.evil.example'), false);
  });

  it('normalizes entries the way browsers serialize origins (case, default port, trailing slash)', () => {
    assert.equal(policy.allows('https://admin.example'), true);
  });

  it('allows requests without Origin (not browsers) and refuses the opaque origin "null"', () => {
    assert.equal(policy.allows(undefined), true);
    assert.equal(policy.allows('null'), false);
    assert.equal(policy.allows(''), false);
  });

  it('an empty list refuses every browser origin', () => {
    const none = new OriginPolicy([]);
    assert.equal(none.open, false);
    assert.equal(none.allows('https://app.example'), false);
    assert.equal(none.allows(undefined), true);
  });
});

describe('OriginPolicy: wildcard subdomains', () => {
  const policy = new OriginPolicy(['https://*.example.com', 'http://*.dev.test:8080']);

  it('allows subdomains at any depth, with the same scheme and port', () => {
    assert.equal(policy.allows('https://app.example.com'), true);
    assert.equal(policy.allows('https://a.b.example.com'), true);
    assert.equal(policy.allows('http://x.dev.test:8080'), true);
  });

  it('refuses the bare domain, look-alikes, other schemes and other ports', () => {
    assert.equal(policy.allows('https://example.com'), false);
    assert.equal(policy.allows('https://evilexample.com'), false);
    assert.equal(policy.allows('https://example.com.evil.net'), false);
    assert.equal(policy.allows('http://app.example.com'), false);
    assert.equal(policy.allows('https://app.example.com:8443'), false);
    assert.equal(policy.allows('http://x.dev.test'), false);
    assert.equal(policy.allows('not a url'), false);
  });
});

describe('originPatternProblem', () => {
  it('accepts origins, wildcard origins and *', () => {
    for (const good of [
      'https://app.example.com',
      'http://localhost:3000',
      'https://app.example.com/',
      'https://*.example.com',
      'http://[::1]:8080',
      '*',
    ]) {
      assert.equal(originPatternProblem(good), null, good);
    }
  });

  it('refuses paths, queries, credentials, other schemes, bare hosts and nested wildcards', () => {
    for (const bad of [
      '',
      'app.example.com',
      'https://app.example.com/app',
      'https://app.example.com?x=1',
      'https://app.example.com#top',
      'https://user@app.example.com',
      'ws://app.example.com',
      'file:///tmp/x.html',
      'https://*',
      'https://*.*.example.com',
      'https://app.*.example.com',
      '*.example.com',
    ]) {
      assert.notEqual(originPatternProblem(bad), null, bad);
    }
    assert.throws(() => new OriginPolicy(['app.example.com']), TypeError);
  });
});
