import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineTimer } from '../src/deadline-timer.js';
import { ManualClock } from './manual-clock.js';

describe('DeadlineTimer', () => {
  it('fires at the earliest scheduled deadline and re-arms for the deadline the handler returns', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const timer = new DeadlineTimer(clock, (now) => {
      fired.push(now);
      return now < 300 ? now + 100 : Infinity;
    });
    timer.schedule(500);
    timer.schedule(100);
    timer.schedule(200);
    assert.equal(timer.deadline, 100);
    clock.advance(1000);
    assert.deepEqual(fired, [100, 200, 300]);
    assert.equal(timer.deadline, Infinity);
    assert.equal(clock.pending, 0);
  });

  it('keeps one armed timer however many deadlines it is given', () => {
    const clock = new ManualClock();
    const timer = new DeadlineTimer(clock, () => Infinity);
    for (let i = 1000; i > 0; i -= 10) timer.schedule(i);
    for (let i = 0; i < 100; i++) timer.schedule(5000 + i);
    assert.equal(clock.pending, 1);
    assert.equal(timer.deadline, 10);
  });

  it('does not fire after cancel()', () => {
    const clock = new ManualClock();
    let fired = 0;
    const timer = new DeadlineTimer(clock, () => {
      fired++;
      return Infinity;
    });
    timer.schedule(50);
    timer.cancel();
    timer.cancel();
    clock.advance(100);
    assert.equal(fired, 0);
    timer.schedule(150);
    clock.advance(100);
    assert.equal(fired, 1);
  });

  it('keeps an earlier deadline scheduled by the handler itself', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const timer: DeadlineTimer = new DeadlineTimer(clock, (now) => {
      fired.push(now);
      if (now === 100) timer.schedule(120);
      return now === 100 ? 400 : Infinity;
    });
    timer.schedule(100);
    clock.advance(500);
    assert.deepEqual(fired, [100, 120]);
  });
});
