// StreamRetention: which streams without members are forgotten, and when (pure, no I/O, no clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamRetention } from '../src/history/stream-retention.js';
import type { RetainedStream } from '../src/history/stream-retention.js';

const TTL = 1000;

function stream(channel: string): RetainedStream {
  return { channel, usedAt: 0, retainsUntil: 0, ttlMs: 0, held: false, queue: null };
}

/** A retention over `TTL` and `maxIdle`, and what it forgot and idled, in order. */
function retention(maxIdle = 100): {
  r: StreamRetention<RetainedStream>;
  forgotten: string[];
  idled: string[];
} {
  const forgotten: string[] = [];
  const idled: string[] = [];
  const r = new StreamRetention<RetainedStream>(TTL, maxIdle, {
    forget: (s) => forgotten.push(s.channel),
    idle: (s) => idled.push(s.channel),
  });
  return { r, forgotten, idled };
}

/** A stream published to at `now` whose message expires `ttlMs` later. */
function published(r: StreamRetention<RetainedStream>, s: RetainedStream, now: number, ttlMs: number): void {
  s.ttlMs = ttlMs;
  s.retainsUntil = now + ttlMs;
  r.touch(s, now);
}

test('an idle stream is forgotten the TTL after its last use, not before', () => {
  const { r, forgotten } = retention();
  const a = stream('a');
  r.touch(a, 0);
  assert.equal(r.idleCount, 1);
  r.sweep(TTL - 1);
  assert.equal(r.expired(a, TTL - 1), false);
  assert.deepEqual(forgotten, []);
  r.touch(a, 500); // used again: its time runs from now
  r.sweep(TTL);
  assert.deepEqual(forgotten, []);
  assert.equal(r.expired(a, 500 + TTL), true);
  r.sweep(500 + TTL);
  assert.deepEqual(forgotten, ['a']);
  assert.equal(r.idleCount, 0);
});

test('a stream that retains messages is kept until they expire, then idle, or forgotten at once if its time has passed', () => {
  const { r, forgotten, idled } = retention();
  const long = stream('long');
  const short = stream('short');
  published(r, long, 0, 5 * TTL); // messages outlive the stream TTL
  published(r, short, 0, TTL / 2);
  r.sweep(TTL / 2);
  assert.deepEqual(idled, ['short'], 'its message expired: it is idle (its messages may be freed)');
  assert.equal(r.idleCount, 1);
  r.sweep(TTL);
  assert.deepEqual(forgotten, ['short']);
  r.sweep(5 * TTL - 1);
  assert.deepEqual(forgotten, ['short'], 'kept while a message is retained');
  assert.equal(r.expired(long, 5 * TTL - 1), false);
  r.sweep(5 * TTL);
  assert.deepEqual(forgotten, ['short', 'long'], 'past its messages and its TTL: forgotten without waiting');
  assert.deepEqual(idled, ['short', 'long']);
});

test('queues of different history TTLs do not hold each other up', () => {
  const { r, forgotten } = retention();
  const week = stream('week');
  const minute = stream('minute');
  published(r, week, 0, 7 * 86_400_000);
  published(r, minute, 1, TTL / 2);
  r.sweep(TTL + 1);
  assert.deepEqual(forgotten, ['minute']);
});

test('a held stream is never forgotten; released, its time runs from the release', () => {
  const { r, forgotten } = retention(0);
  const a = stream('a');
  r.hold(a);
  r.hold(a);
  published(r, a, 0, TTL / 2);
  r.sweep(100 * TTL);
  assert.equal(r.expired(a, 100 * TTL), false);
  assert.equal(r.idleCount, 0, 'a held stream is not idle, whatever maxIdle says');
  assert.deepEqual(forgotten, []);
  const b = stream('b');
  r.hold(b);
  r.release(b, 0);
  assert.deepEqual(forgotten, ['b'], 'maxIdle 0 keeps no idle stream');
  const { r: r2, forgotten: f2 } = retention();
  const c = stream('c');
  r2.hold(c);
  r2.release(c, 10 * TTL);
  r2.sweep(11 * TTL - 1);
  assert.deepEqual(f2, []);
  r2.sweep(11 * TTL);
  assert.deepEqual(f2, ['c']);
});

test('past maxIdle the least recently used idle stream goes first; retaining streams do not count', () => {
  const { r, forgotten } = retention(3);
  const streams = ['a', 'b', 'c', 'd'].map(stream);
  streams.forEach((s, i) => r.touch(s, i));
  assert.deepEqual(forgotten, ['a']);
  r.touch(streams[1] as RetainedStream, 10); // b used again: c is now the least recently used
  r.touch(stream('e'), 11);
  assert.deepEqual(forgotten, ['a', 'c']);
  assert.equal(r.idleCount, 3);
  for (let i = 0; i < 10; i++) published(r, stream(`kept-${i}`), 12, TTL);
  assert.deepEqual(forgotten, ['a', 'c']);
  assert.equal(r.idleCount, 3);
});

test('a sweep visits at most its budget and says whether work is left', () => {
  const { r, forgotten } = retention(1000);
  for (let i = 0; i < 5; i++) published(r, stream(`m${i}`), 0, TTL / 2);
  for (let i = 0; i < 5; i++) r.touch(stream(`i${i}`), 0);
  assert.equal(r.sweep(TTL, 4), true);
  assert.equal(forgotten.length, 4);
  assert.equal(r.sweep(TTL, 4), true);
  assert.equal(r.sweep(TTL, 4), false);
  assert.equal(forgotten.length, 10);
  assert.equal(r.sweep(TTL, 4), false, 'nothing left to do');
});
