/**
 * The monitoring files in deploy/: the Prometheus alert rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`), the Grafana dashboard's queries parse as PromQL, and every metric either names is
 * one a live server exports (histograms by their _bucket, _sum and _count series). The dashboard also shows
 * every Switchboard metric, so that a new metric cannot be forgotten there.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { promtoolPath, requirement } from './requirements.js';

const needPromtool = requirement('promtool', promtoolPath() !== undefined);
const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const RULES = join(DEPLOY, 'prometheus', 'switchboard-rules.yml');
const RULE_TESTS = join(DEPLOY, 'prometheus', 'switchboard-rules.test.yml');
const DASHBOARD = join(DEPLOY, 'grafana', 'switchboard.json');

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly { readonly expr: string }[];
}
interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
/** Every PromQL query of the dashboard, with its panel's title. */
const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })),
);

/** The Switchboard metric names in `text`. */
function metricNames(text: string): Set<string> {
  return new Set(text.match(/\bswitchboard_[a-z0-9_]+/g) ?? []);
}

function promtool(args: string[], cwd?: string): void {
  const run = spawnSync(promtoolPath() as string, args, {
    encoding: 'utf8',
    ...(cwd === undefined ? {} : { cwd }),
  });
  assert.equal(
    run.status,
    0,
    `promtool ${args.join(' ')} exited ${String(run.status)}:\n${run.stdout}${run.stderr}`,
  );
}

describe('deploy/: Prometheus rules and Grafana dashboard', { skip: needPromtool.skip }, () => {
  let t: TestServer;
  /** Every series name a live /metrics can hold. */
  const exported = new Set<string>();
  before(async () => {
    needPromtool.assert();
    t = await startServer();
    const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name as string);
      if (type === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
    }
    assert.ok(exported.has('switchboard_ready'), 'the scrape holds the metrics');
  });
  after(() => t?.stop());

  test('the alert rules pass promtool check rules and their unit tests', () => {
    promtool(['check', 'rules', RULES]);
    promtool(['test', 'rules', 'switchboard-rules.test.yml'], join(DEPLOY, 'prometheus'));
  });

  test('every metric the rules and the rule tests name is exported', () => {
    for (const file of [RULES, RULE_TESTS]) {
      const names = metricNames(readFileSync(file, 'utf8'));
      assert.ok(names.size > 0, file);
      for (const name of names) assert.ok(exported.has(name), `${file}: ${name} is not in /metrics`);
    }
  });

  test('every dashboard query parses as PromQL and names exported metrics only', () => {
    assert.ok(queries.length > 30);
    // Grafana's variables replaced by values, each query a recording rule: promtool parses them all.
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-dashboard-'));
    try {
      const rules = queries.map(({ expr }, i) => {
        const promql = expr.replaceAll('$__rate_interval', '5m').replace(/\$(job|instance)\b/g, '.*');
        return `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(promql)}\n`;
      });
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      promtool(['check', 'rules', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const { title, expr } of queries) {
      const names = metricNames(expr);
      assert.ok(names.size > 0, `${title}: ${expr} names no Switchboard metric`);
      for (const name of names) assert.ok(exported.has(name), `${title}: ${name} is not in /metrics`);
    }
    for (const variable of dashboard.templating.list)
      for (const name of metricNames(variable.definition ?? ''))
        assert.ok(exported.has(name), `variable: ${name} is not in /metrics`);
  });

  test('the dashboard shows every Switchboard metric (process and Node.js ones may be left out)', () => {
    const shown = new Set<string>();
    for (const { expr } of queries) for (const name of metricNames(expr)) shown.add(name);
    const missing = [...exported].filter(
      (name) =>
        !/^switchboard_(process|nodejs)_/.test(name) &&
        !/_(sum|count)$/.test(name) &&
        !shown.has(name) &&
        !shown.has(`${name}_bucket`),
    );
    // A histogram is shown by its buckets; its base name (the TYPE line's) is not a series.
    const bases = missing.filter((name) => !exported.has(`${name}_bucket`));
    assert.deepEqual(bases, [], 'metrics without a dashboard panel');
  });
});
