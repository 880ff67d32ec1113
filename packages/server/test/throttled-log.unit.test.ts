import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ThrottledLog } from '../src/limits/throttled-log.js';
import type { Logger } from '../src/util/logger.js';

const T0 = 1_700_000_000_000;

function recorder(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const warn = (fields: object, message?: string): void => {
    lines.push({ ...fields, message });
  };
  return { logger: { debug: warn, info: warn, warn, error: warn }, lines };
}

describe('ThrottledLog', () => {
  it('logs a burst, then counts the rest into the next line it logs', () => {
    const { logger, lines } = recorder();
    const log = new ThrottledLog(logger, 'refused', { burst: 2, perSecond: 1 }, T0);
    for (let i = 0; i < 5; i++) log.warn({ n: i }, T0);
    assert.deepEqual(lines, [
      { n: 0, message: 'refused' },
      { n: 1, message: 'refused' },
    ]);
    log.warn({ n: 5 }, T0 + 999);
    assert.equal(lines.length, 2);
    log.warn({ n: 6 }, T0 + 1000);
    assert.deepEqual(lines[2], { n: 6, suppressed: 4, message: 'refused' });
    log.warn({ n: 7 }, T0 + 2000);
    assert.deepEqual(lines[3], { n: 7, message: 'refused' });
  });
});
