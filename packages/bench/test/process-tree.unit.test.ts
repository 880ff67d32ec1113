import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcStat, treePids, treeStats } from '../src/targets/process-tree.js';

test('parseProcStat reads ppid and CPU ticks, whatever the command name holds', () => {
  const line = '4242 (node (worker) x) S 4200 4242 4200 0 -1 4194304 100 0 0 0 250 75 3 2 20 0 11 0 1000 1 1';
  assert.deepEqual(parseProcStat(line), {
    pid: 4242,
    ppid: 4200,
    utime: 250,
    stime: 75,
    cutime: 3,
    cstime: 2,
  });
  assert.equal(parseProcStat('garbage'), null);
});

test('treeStats of this process: some CPU, some memory, at least one process', () => {
  const stats = treeStats([process.pid]);
  assert.ok(stats.processes >= 1);
  assert.ok(stats.rss > 1_000_000);
  assert.ok(stats.cpuUser + stats.cpuSystem > 0);
  assert.ok(treePids([process.pid]).includes(process.pid));
});
