/**
 * The listening socket's accept queue (`listenBacklog`): a reconnect storm larger than the queue is
 * dropped by the kernel before admission control can answer it, so the default is 4096, not Node's 511.
 * Read back from the kernel: for a listening TCP socket, `ss -ltn` shows the backlog as Send-Q.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, InvalidOptionError } from '../src/index.js';
import { startServer } from './helpers.js';

/** The backlog the kernel holds for the socket listening on `port` (ss's Send-Q), or null without ss. */
function kernelBacklog(port: number): number | null {
  let out: string;
  try {
    out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
  } catch {
    return null;
  }
  const fields = out.trim().split(/\s+/);
  return fields.length >= 3 ? Number(fields[2]) : null;
}

/** What the kernel allows at most (net.core.somaxconn). */
function somaxconn(): number {
  return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
}

/** Whether `ss` runs here (iproute2). */
function hasSs(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const linuxWithSs = process.platform === 'linux' && hasSs();
const skip = linuxWithSs ? false : 'needs Linux and ss (iproute2) to read the backlog back';

describe('listenBacklog', () => {
  it("defaults to 4096 (capped by net.core.somaxconn), not Node's 511", { skip }, async () => {
    const t = await startServer();
    try {
      assert.equal(kernelBacklog(t.server.port), Math.min(4096, somaxconn()));
    } finally {
      await t.stop();
    }
  });

  it('takes the value given', { skip }, async () => {
    const t = await startServer({ listenBacklog: 128 });
    try {
      assert.equal(kernelBacklog(t.server.port), 128);
    } finally {
      await t.stop();
    }
  });

  it('refuses a value that is not an integer from 1 to 65535', () => {
    for (const bad of [0, -1, 1.5, 70_000, Number.NaN]) {
      assert.throws(() => createServer({ listenBacklog: bad }), InvalidOptionError, String(bad));
    }
  });
});
