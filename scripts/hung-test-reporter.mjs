// A node:test reporter that names the tests still running when a test file hits --test-timeout.
// Node 20 applies the timeout to the file as a whole and reports only the file's path; the file's tests
// report when they start (test:dequeue) and end (test:complete), so the ones that started and never
// ended are the ones that hung. Prints nothing else: spec prints the rest of the run.

/**
 * @param {AsyncIterable<{ type: string, data: any }>} source the run's events
 * @returns {AsyncGenerator<string>}
 */
export default async function* hungTestReporter(source) {
  /** Per file, the tests that started and have not ended, outermost first. */
  const running = new Map();
  for await (const { type, data } of source) {
    const file = data?.file;
    if (file === undefined) continue;
    const isFile = data.name === file;
    if (type === 'test:dequeue' && !isFile) {
      const open = running.get(file) ?? [];
      open.push({ name: data.name, nesting: data.nesting, since: Date.now() });
      running.set(file, open);
    } else if (type === 'test:complete' && !isFile) {
      const open = running.get(file) ?? [];
      const index = open.findLastIndex((t) => t.name === data.name && t.nesting === data.nesting);
      if (index !== -1) open.splice(index, 1);
    } else if (type === 'test:complete' && isFile) {
      const error = data.details?.error;
      if (error?.failureType === 'testTimeoutFailure')
        yield report(file, error.cause, running.get(file) ?? []);
      running.delete(file);
    }
  }
}

function report(file, cause, open) {
  const now = Date.now();
  const lines = [`\n✖ ${file}: ${String(cause)}`];
  if (open.length === 0) {
    lines.push(
      '  no test was running: a hook, or something the file left open (a server, a socket, a timer)',
    );
  } else {
    lines.push('  still running:');
    for (const test of open)
      lines.push(`  ${'  '.repeat(test.nesting + 1)}${test.name} (for ${now - test.since} ms)`);
  }
  return `${lines.join('\n')}\n\n`;
}
