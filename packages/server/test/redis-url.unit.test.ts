// Redis URL forms (docs/scaling.md): one server, Sentinel and Cluster, with and without TLS and auth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl, redact } from '../src/redis/redis-url.js';
import { InvalidOptionError } from '../src/errors.js';

test('one server, with database, credentials and TLS', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), {
    topology: 'standalone',
    tls: false,
    hosts: [{ host: '127.0.0.1', port: 6380 }],
    db: 2,
  });
  assert.deepEqual(parseRedisUrl('rediss://user:p%40ss@cache.example:6390'), {
    topology: 'standalone',
    tls: true,
    hosts: [{ host: 'cache.example', port: 6390 }],
    username: 'user',
    password: 'p@ss',
  });
  assert.equal(parseRedisUrl('redis://:secret@h').password, 'secret');
  assert.equal(parseRedisUrl('redis://:secret@h').username, undefined);
  assert.deepEqual(parseRedisUrl('redis://[::1]:7000').hosts, [{ host: '::1', port: 7000 }]);
  assert.equal(parseRedisUrl('redis://h').hosts[0]?.port, 6379);
});

test('Sentinel needs a master name; its default port is 26379', () => {
  const address = parseRedisUrl('redis-sentinel://s1,s2:26380/mymaster/1');
  assert.equal(address.topology, 'sentinel');
  assert.equal(address.masterName, 'mymaster');
  assert.equal(address.db, 1);
  assert.deepEqual(address.hosts, [
    { host: 's1', port: 26379 },
    { host: 's2', port: 26380 },
  ]);
  assert.throws(() => parseRedisUrl('redis-sentinel://s1:26379'), /master name/);
});

test('Cluster takes seed nodes and no database', () => {
  const address = parseRedisUrl('rediss-cluster://a:7000,b:7001');
  assert.equal(address.topology, 'cluster');
  assert.equal(address.tls, true);
  assert.equal(address.hosts.length, 2);
  assert.throws(() => parseRedisUrl('redis-cluster://a:7000/1'), InvalidOptionError);
});

test('anything else is refused with the accepted forms, never echoing a password', () => {
  for (const bad of [
    'http://h:1',
    'redis://a:1,b:2',
    'redis://h:99999',
    'redis://h/x',
    'redis://',
    'h:6379',
  ]) {
    assert.throws(() => parseRedisUrl(bad), InvalidOptionError, bad);
  }
  assert.throws(
    () => parseRedisUrl('redis://u:hunter2@h:1/x'),
    (error: Error) => error.message.includes('u:***@') && !error.message.includes('hunter2'),
  );
  assert.equal(redact('redis://u:pw@h:1'), 'redis://u:***@h:1');
});
