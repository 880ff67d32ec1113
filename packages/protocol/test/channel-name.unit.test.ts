import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_CHANNEL_LENGTH,
  channelNameProblem,
  isValidChannelName,
  matchChannelPattern,
} from '../src/channel-name.js';

describe('channelNameProblem', () => {
  it('accepts letters, digits and every documented punctuation character', () => {
    for (const name of [
      'a',
      'Z',
      '0',
      'chat',
      'Room_42',
      'a-b.c:d@e/f=g+h,i#j$k!l~m',
      '_-.:@/=+,#$!~',
      '123',
    ]) {
      assert.equal(channelNameProblem(name), null, name);
    }
  });

  it('accepts a name of exactly the maximum length and rejects one character longer', () => {
    assert.equal(DEFAULT_MAX_CHANNEL_LENGTH, 128);
    assert.equal(channelNameProblem('a'.repeat(128)), null);
    assert.equal(channelNameProblem('a'.repeat(129)), 'channel is longer than 128 characters');
  });

  it('honours a custom maximum length', () => {
    assert.equal(channelNameProblem('abc', 3), null);
    assert.equal(channelNameProblem('abcd', 3), 'channel is longer than 3 characters');
    assert.equal(channelNameProblem('a'.repeat(1000), 1024), null);
  });

  it('rejects values that are not strings, including String objects', () => {
    for (const name of [undefined, null, 0, 1, true, [], ['a'], {}, new String('a'), Symbol('a'), 1n]) {
      assert.equal(channelNameProblem(name), 'channel must be a string', String(typeof name));
    }
  });

  it('rejects the empty string', () => {
    assert.equal(channelNameProblem(''), 'channel must not be empty');
  });

  it('rejects spaces, control characters and DEL anywhere in the name', () => {
    const bad = [
      ' ',
      'a b',
      ' a',
      'a ',
      '\t',
      'a\tb',
      'a\nb',
      'a\rb',
      'a\u0000b',
      '\u0000',
      'a\u001fb',
      'a\u007fb',
    ];
    for (const name of bad) {
      assert.match(channelNameProblem(name) ?? '', /only ASCII/, JSON.stringify(name));
    }
  });

  it('rejects a trailing newline (no end-of-line loophole in the pattern)', () => {
    assert.notEqual(channelNameProblem('abc\n'), null);
    assert.notEqual(channelNameProblem('\nabc'), null);
  });

  it('rejects the wildcard characters * and ?', () => {
    for (const name of ['*', 'chat:*', 'a?', '?']) assert.notEqual(channelNameProblem(name), null, name);
  });

  it('rejects other ASCII punctuation: quotes, backslash, brackets, %, &, |, ;, <, >', () => {
    for (const char of `"'\`\\()[]{}%&|;<>^`) {
      assert.notEqual(channelNameProblem(`a${char}b`), null, char);
    }
  });

  it('rejects non-ASCII letters, homoglyphs, emoji and invisible characters', () => {
    // U+0430 is the Cyrillic 'a', a look-alike of the Latin one.
    for (const name of [
      'café',
      'r\u0430ndom',
      '😀',
      'a\u200bb',
      'a\u00a0b',
      '\ufeffa',
      'ｃｈａｔ',
      'a\u2028b',
    ]) {
      assert.notEqual(channelNameProblem(name), null, name);
    }
  });

  it('reports over-length before bad characters, so the message names the first rule broken', () => {
    assert.equal(channelNameProblem(' '.repeat(200)), 'channel is longer than 128 characters');
  });
});

describe('isValidChannelName', () => {
  it('agrees with channelNameProblem', () => {
    const names: unknown[] = ['a', '', 'a b', 'x'.repeat(128), 'x'.repeat(129), 5, null, 'chat:*', 'ok:1'];
    for (const name of names) assert.equal(isValidChannelName(name), channelNameProblem(name) === null);
    assert.equal(isValidChannelName('abcd', 3), false);
  });
});

/** A reference matcher: the pattern as a regular expression, `*` as `.*`, everything else literal. */
function referenceMatch(pattern: string, channel: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(channel);
}

/** Every string over `alphabet` of length 0..maxLength. */
function allStrings(alphabet: string, maxLength: number): string[] {
  const out = [''];
  let previous = [''];
  for (let length = 1; length <= maxLength; length++) {
    const next: string[] = [];
    for (const prefix of previous) for (const char of alphabet) next.push(prefix + char);
    out.push(...next);
    previous = next;
  }
  return out;
}

describe('matchChannelPattern', () => {
  it('compares exactly when the pattern has no *', () => {
    assert.equal(matchChannelPattern('chat', 'chat'), true);
    assert.equal(matchChannelPattern('chat', 'chat2'), false);
    assert.equal(matchChannelPattern('chat', 'Chat'), false);
    assert.equal(matchChannelPattern('', ''), true);
    assert.equal(matchChannelPattern('', 'a'), false);
  });

  it('matches any channel, including the empty string, with a lone *', () => {
    for (const channel of ['', 'a', 'chat:lobby', '*']) assert.equal(matchChannelPattern('*', channel), true);
  });

  it('matches a prefix pattern including the empty remainder', () => {
    assert.equal(matchChannelPattern('chat:*', 'chat:lobby'), true);
    assert.equal(matchChannelPattern('chat:*', 'chat:'), true);
    assert.equal(matchChannelPattern('chat:*', 'chat'), false);
    assert.equal(matchChannelPattern('chat:*', 'xchat:a'), false);
  });

  it('matches a suffix pattern', () => {
    assert.equal(matchChannelPattern('*:admin', 'team:admin'), true);
    assert.equal(matchChannelPattern('*:admin', ':admin'), true);
    assert.equal(matchChannelPattern('*:admin', 'team:admins'), false);
  });

  it('does not let the prefix and suffix overlap', () => {
    assert.equal(matchChannelPattern('a*a', 'a'), false);
    assert.equal(matchChannelPattern('a*a', 'aa'), true);
    assert.equal(matchChannelPattern('ab*ba', 'aba'), false);
    assert.equal(matchChannelPattern('ab*ba', 'abba'), true);
  });

  it('requires middle parts in order and without overlap', () => {
    assert.equal(matchChannelPattern('a*b*c', 'abc'), true);
    assert.equal(matchChannelPattern('a*b*c', 'a-b-c'), true);
    assert.equal(matchChannelPattern('a*c*b', 'abc'), false);
    assert.equal(matchChannelPattern('x*ab*ab*y', 'xaby'), false);
    assert.equal(matchChannelPattern('x*ab*ab*y', 'xababy'), true);
    assert.equal(matchChannelPattern('*b*', 'abc'), true);
    assert.equal(matchChannelPattern('*b*', 'ac'), false);
  });

  it('does not let a middle part overlap the suffix', () => {
    assert.equal(matchChannelPattern('*ab*b', 'ab'), false);
    assert.equal(matchChannelPattern('*ab*b', 'abb'), true);
  });

  it('treats consecutive stars like one', () => {
    assert.equal(matchChannelPattern('a**b', 'ab'), true);
    assert.equal(matchChannelPattern('**', ''), true);
  });

  it('treats regular-expression characters literally', () => {
    assert.equal(matchChannelPattern('a.b*', 'axb'), false);
    assert.equal(matchChannelPattern('a.b*', 'a.b1'), true);
    assert.equal(matchChannelPattern('$+*', '$+x'), true);
  });

  it('agrees with a regular-expression reference on every small pattern and channel', () => {
    const patterns = allStrings('ab*', 5);
    const channels = allStrings('ab', 6);
    let checked = 0;
    for (const pattern of patterns) {
      for (const channel of channels) {
        assert.equal(
          matchChannelPattern(pattern, channel),
          referenceMatch(pattern, channel),
          `${pattern} ~ ${channel}`,
        );
        checked++;
      }
    }
    assert.ok(checked > 40_000);
  });
});
