/**
 * `npm start` stopped the way a process manager stops it (systemd, a container runtime, a supervisor):
 * SIGTERM to npm alone. npm forwards it to the script's shell; the script `exec`s the server, so the
 * server gets it, drains and exits, instead of being orphaned and left listening (as it was when the
 * shell stood in between). Runs the repository's own `npm start` on a free port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupChild, REPO_ROOT, cleanEnv } from './npm-harness.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'SIGTERM to npm start reaches the server: it drains, stops and leaves no process behind',
  { timeout: 60_000 },
  async () => {
    const npm = new GroupChild('npm', ['start', '--', '--no-demo'], {
      cwd: REPO_ROOT,
      env: cleanEnv({ PORT: '0', HOST: '127.0.0.1' }),
    });
    try {
      const listening = await npm.waitForJsonLine(
        (entry) => entry['msg'] === 'switchboard listening',
        30_000,
      );
      const serverPid = Number(listening['pid']);
      assert.ok(serverPid > 0);
      const stopped = npm.waitForJsonLine((entry) => entry['msg'] === 'switchboard stopped', 20_000);
      npm.signal('SIGTERM');
      await stopped;
      await npm.exited;
      // The server's own process is gone, not reparented and still listening.
      const until = Date.now() + 5000;
      while (alive(serverPid) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(alive(serverPid), false, `the server (pid ${serverPid}) outlived npm\n${npm.describe()}`);
    } finally {
      await npm.stop('SIGKILL', 1000);
    }
  },
);
