import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatMonitor } from '../src/heartbeat-monitor.js';

const settings = { interval: 100, timeout: 300 };

describe('HeartbeatMonitor', () => {
  it('asks for one ping after 1.5 intervals of silence, then declares the server dead at the timeout', () => {
    const monitor = new HeartbeatMonitor(settings, 1000);
    assert.equal(monitor.nextCheckAt, 1150);
    assert.equal(monitor.check(1100), 'none', 'the server’s own ping is due about now: do not race it');
    assert.equal(monitor.check(1149), 'none');
    assert.equal(monitor.check(1150), 'ping');
    assert.equal(monitor.nextCheckAt, 1300);
    assert.equal(monitor.check(1200), 'none');
    assert.equal(monitor.check(1299), 'none');
    assert.equal(monitor.check(1300), 'dead');
  });

  it('a received frame restarts the silence', () => {
    const monitor = new HeartbeatMonitor(settings, 0);
    assert.equal(monitor.check(150), 'ping');
    monitor.received(150);
    assert.equal(monitor.nextCheckAt, 300);
    assert.equal(monitor.check(299), 'none');
    assert.equal(monitor.check(300), 'ping');
    assert.equal(monitor.check(449), 'none');
    assert.equal(monitor.check(450), 'dead');
  });

  it('accepts only positive settings with timeout >= interval', () => {
    assert.equal(HeartbeatMonitor.usable({ interval: 15000, timeout: 45000 }), true);
    assert.equal(HeartbeatMonitor.usable({ interval: 0, timeout: 45000 }), false);
    assert.equal(HeartbeatMonitor.usable({ interval: 100, timeout: 50 }), false);
    assert.equal(HeartbeatMonitor.usable({ interval: '100', timeout: 500 }), false);
    assert.equal(HeartbeatMonitor.usable(undefined), false);
    assert.equal(HeartbeatMonitor.usable(null), false);
  });
});
