// Runs promtool (Debian package "prometheus") on the rendered alert rules and their unit tests,
// and on the dashboards' queries (as recording rules) to prove they parse.

import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { promtool } from '../../support/promtool.ts';
import { queriesInSet } from './metrics.ts';
import { at, finding, ofKind, type Finding, type RenderedSet } from './objects.ts';
import { COMPONENTS_DIR } from './render.ts';

/** The rule file name the unit tests load (rule_files in the test file). */
export const RULES_FILE_NAME = 'conductor-rules.yaml';
export const RULE_TESTS_FILE = join(COMPONENTS_DIR, 'monitoring', 'tests', 'conductor-rules.test.yaml');

async function inTempDir<T>(job: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'conductor-promtool-'));
  try {
    return await job(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `promtool check rules` and `promtool test rules` on each PrometheusRule of a rendered set: its
 * spec.groups become conductor-rules.yaml beside a copy of the unit test file.
 */
export async function checkPrometheusRules(set: RenderedSet, testsFile = RULE_TESTS_FILE): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const rule of ofKind(set, 'PrometheusRule')) {
    await inTempDir(async (dir) => {
      await writeFile(join(dir, RULES_FILE_NAME), stringify({ groups: at(rule, 'spec.groups') ?? [] }));
      const check = await promtool(['check', 'rules', RULES_FILE_NAME], { cwd: dir });
      if (!check.ok) out.push(finding(rule, `promtool check rules failed:\n${check.output.trim()}`));
      await copyFile(testsFile, join(dir, basename(testsFile)));
      const test = await promtool(['test', 'rules', basename(testsFile)], { cwd: dir });
      if (!test.ok) out.push(finding(rule, `promtool test rules failed:\n${test.output.trim()}`));
    });
  }
  return out;
}

/** Grafana's variables, replaced by values that keep each query valid PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.*');
}

/** Each dashboard query parses as PromQL: `promtool check rules` on them as recording rules. */
export async function checkDashboardQueriesParse(set: RenderedSet): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const { object, queries } of queriesInSet(set)) {
    if (object.startsWith('PrometheusRule')) continue;
    const groups = queries.map((q, i) => ({
      name: `q${i}`,
      rules: [{ record: `dashboard:query:q${i}`, expr: substituteGrafanaVariables(q.expr) }],
    }));
    if (groups.length === 0) {
      out.push({ object, message: 'the dashboard has no query' });
      continue;
    }
    await inTempDir(async (dir) => {
      await writeFile(join(dir, 'dashboard-queries.yaml'), stringify({ groups }));
      const check = await promtool(['check', 'rules', 'dashboard-queries.yaml'], { cwd: dir });
      if (check.ok) return;
      const bad = new Set<string>();
      for (const m of check.output.matchAll(/group "q(\d+)"/g)) bad.add(queries[Number(m[1])]?.where ?? '?');
      out.push({ object, message: `a query does not parse (${[...bad].join('; ') || 'see output'}):\n${check.output.trim()}` });
    });
  }
  return out;
}
