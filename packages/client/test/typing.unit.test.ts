/** The typing-indicator helper: debounced start/stop on a manual clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TypingIndicator } from '../src/index.js';
import { ManualClock } from './manual-clock.js';

function indicator(options: ConstructorParameters<typeof TypingIndicator<string>>[2] = {}) {
  const clock = new ManualClock();
  const sent: { at: number; data: unknown }[] = [];
  const typing = new TypingIndicator<string>((data) => sent.push({ at: clock.now(), data }), clock, options);
  return { clock, sent, typing };
}

describe('TypingIndicator', () => {
  it('sends one start per burst and a stop after idleMs without a keystroke', () => {
    const { clock, sent, typing } = indicator({ idleMs: 1000 });
    typing.keystroke();
    assert.equal(typing.typing, true);
    for (let i = 0; i < 9; i++) {
      clock.advance(300);
      typing.keystroke();
    }
    assert.deepEqual(sent, [{ at: 0, data: { typing: true } }]);
    // The last keystroke was at 2700: the stop comes at 3700, not at the first timer's 1000.
    clock.advance(999);
    assert.equal(sent.length, 1);
    clock.advance(1);
    assert.deepEqual(sent[1], { at: 3700, data: { typing: false } });
    assert.equal(typing.typing, false);
    assert.equal(clock.pending, 0);
  });

  it('stop() sends stop at once, only when typing, and cancels the timer', () => {
    const { clock, sent, typing } = indicator();
    typing.stop();
    assert.equal(sent.length, 0);
    typing.keystroke();
    typing.stop();
    typing.stop();
    assert.deepEqual(
      sent.map((s) => s.data),
      [{ typing: true }, { typing: false }],
    );
    assert.equal(clock.pending, 0);
    clock.advance(10_000);
    assert.equal(sent.length, 2);
  });

  it('repeats start every refreshMs while typing continues, with custom payloads', () => {
    const { clock, sent, typing } = indicator({ idleMs: 500, refreshMs: 2000, start: 'on', stop: 'off' });
    for (let t = 0; t <= 4500; t += 250) {
      typing.keystroke();
      clock.advance(250);
    }
    clock.advance(500);
    assert.deepEqual(sent, [
      { at: 0, data: 'on' },
      { at: 2000, data: 'on' },
      { at: 4000, data: 'on' },
      { at: 5000, data: 'off' },
    ]);
  });

  it('rejects invalid timings', () => {
    const clock = new ManualClock();
    assert.throws(() => new TypingIndicator(() => {}, clock, { idleMs: 0 }), {
      name: 'InvalidOptionError',
      option: 'idleMs',
    });
    assert.throws(() => new TypingIndicator(() => {}, clock, { refreshMs: Number.NaN }), {
      name: 'InvalidOptionError',
      option: 'refreshMs',
    });
  });
});
