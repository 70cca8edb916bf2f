// The metric names the bundle's alerts and dashboards use, and the names the app exports.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { asArray, asObject, asString, at, finding, isObject, ofKind, type Finding, type Json, type RenderedSet } from './objects.ts';
import { COMPONENTS_DIR } from './render.ts';

export const MONITORING_DIR = join(COMPONENTS_DIR, 'monitoring');
export const PROMETHEUS_RULE_FILE = join(MONITORING_DIR, 'prometheusrule.yaml');
export const DASHBOARDS_DIR = join(MONITORING_DIR, 'dashboards');

const histogram = (name: string): string[] => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];

/**
 * The series names the app promises to export (contract), histograms with their _bucket, _sum
 * and _count series, plus prom-client's default process metrics and Prometheus' own `up`.
 * A scrape of a running instance is the final word; see metricNamesUsedByBundle().
 */
export const EXPORTED_METRIC_NAMES: ReadonlySet<string> = new Set([
  'conductor_loop_files_processed_total',
  ...histogram('conductor_loop_processing_duration_seconds'),
  'conductor_loop_queue_depth',
  'conductor_loop_errors_total',
  'conductor_loop_security_events_total',
  ...histogram('conductor_stage_duration_seconds'),
  'conductor_sink_circuit_state',
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_active_handles',
  'nodejs_active_requests',
  'nodejs_active_resources',
  'nodejs_version_info',
  'up',
]);

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'start',
  'end',
  'inf',
  'nan',
  // aggregation operators, which may be followed by by/without before their "("
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/**
 * The metric names a PromQL expression selects. A small lexer: it skips strings, label
 * matchers ({...}), label lists after by/without/on/ignoring/group_*, durations in [...],
 * function and aggregation names (an identifier followed by "("), keywords, numbers and
 * Grafana variables ($var, ${var}, [[var]]).
 */
export function metricNamesInPromQL(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  let expectLabelList = false;
  const n = expr.length;
  const skipString = (quote: string): void => {
    i++;
    while (i < n && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipBalanced = (open: string, close: string): void => {
    let depth = 0;
    while (i < n) {
      const ch = expr[i] ?? '';
      if (ch === '"' || ch === "'" || ch === '`') {
        skipString(ch);
        continue;
      }
      if (ch === open) depth++;
      if (ch === close && --depth === 0) {
        i++;
        return;
      }
      i++;
    }
  };
  while (i < n) {
    const ch = expr[i] ?? '';
    if (ch === '#') {
      while (i < n && expr[i] !== '\n') i++;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      skipString(ch);
    } else if (ch === '{') {
      const start = i;
      skipBalanced('{', '}');
      const body = expr.slice(start, i);
      const m = /__name__\s*=\s*"([^"]+)"/.exec(body);
      if (m?.[1] !== undefined) names.add(m[1]);
    } else if (ch === '[' && expr[i + 1] === '[') {
      i = expr.indexOf(']]', i) + 2;
      if (i < 2) i = n;
    } else if (ch === '[') {
      skipBalanced('[', ']');
    } else if (ch === '$') {
      i++;
      if (expr[i] === '{') skipBalanced('{', '}');
      else while (i < n && /[A-Za-z0-9_]/.test(expr[i] ?? '')) i++;
    } else if (/[0-9.]/.test(ch)) {
      while (i < n && /[0-9A-Za-z_.+-]/.test(expr[i] ?? '') && !(/[+-]/.test(expr[i] ?? '') && !/[eE]/.test(expr[i - 1] ?? ''))) i++;
    } else if (/[A-Za-z_:]/.test(ch)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_:]/.test(expr[i] ?? '')) i++;
      const word = expr.slice(start, i);
      let j = i;
      while (j < n && /\s/.test(expr[j] ?? '')) j++;
      const next = expr[j];
      const lower = word.toLowerCase();
      if (expectLabelList && next === '(') {
        i = j;
        skipBalanced('(', ')');
        expectLabelList = false;
      } else if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(lower)) {
        expectLabelList = true;
      } else if (next === '(' || KEYWORDS.has(lower)) {
        // a function, an aggregation or a keyword
      } else {
        names.add(word);
      }
    } else {
      if (ch === '(' && expectLabelList) {
        skipBalanced('(', ')');
        expectLabelList = false;
        continue;
      }
      i++;
    }
  }
  return [...names].sort();
}

/** Grafana's `label_values(<query>, label)` and friends wrap a PromQL selector. */
export function promqlOfVariableQuery(query: string): string {
  const m = /^\s*(?:label_values|query_result|metrics)\s*\(([\s\S]*)\)\s*$/.exec(query);
  if (m?.[1] === undefined) return query;
  const inner = m[1];
  const lastComma = inner.lastIndexOf(',');
  return query.trimStart().startsWith('label_values') && lastComma > inner.lastIndexOf('}') ? inner.slice(0, lastComma) : inner;
}

export interface NamedQuery {
  /** Where the query is: "PrometheusRule conductor alert X" or "dashboard uid panel title". */
  where: string;
  expr: string;
}

/** The alert/record expressions of a PrometheusRule object (or any {spec: {groups}}). */
export function ruleQueries(rule: Json, label: string): NamedQuery[] {
  const out: NamedQuery[] = [];
  for (const group of asArray(at(rule, 'spec.groups'))) {
    for (const r of asArray(at(group, 'rules'))) {
      const expr = at(r, 'expr');
      const name = asString(at(r, 'alert')) ?? asString(at(r, 'record')) ?? '?';
      out.push({ where: `${label} rule ${name}`, expr: typeof expr === 'string' ? expr : String(expr) });
    }
  }
  return out;
}

/** The PromQL queries of a Grafana dashboard: panel targets (nested rows too) and variables. */
export function dashboardQueries(dashboard: Json, label: string): NamedQuery[] {
  const out: NamedQuery[] = [];
  const title = asString(at(dashboard, 'title')) ?? label;
  const walkPanels = (panels: Json[]): void => {
    for (const p of panels) {
      for (const t of asArray(at(p, 'targets'))) {
        const expr = asString(at(t, 'expr'));
        if (expr !== undefined) out.push({ where: `dashboard "${title}" panel "${String(at(p, 'title'))}"`, expr });
      }
      walkPanels(asArray(at(p, 'panels')));
    }
  };
  walkPanels(asArray(at(dashboard, 'panels')));
  for (const v of asArray(at(dashboard, 'templating.list'))) {
    if (at(v, 'type') !== 'query') continue;
    const q = at(v, 'query');
    const query = isObject(q) ? asString(q['query']) : asString(q);
    if (query !== undefined)
      out.push({ where: `dashboard "${title}" variable ${String(at(v, 'name'))}`, expr: promqlOfVariableQuery(query) });
  }
  return out;
}

/** Queries in a rendered set: PrometheusRules and dashboards in ConfigMaps labelled grafana_dashboard. */
export function queriesInSet(set: RenderedSet): { object: string; queries: NamedQuery[] }[] {
  const out: { object: string; queries: NamedQuery[] }[] = [];
  for (const rule of ofKind(set, 'PrometheusRule')) {
    out.push({ object: finding(rule, '').object, queries: ruleQueries(rule, 'PrometheusRule') });
  }
  for (const cm of ofKind(set, 'ConfigMap')) {
    if (at(cm, 'metadata.labels.grafana_dashboard') === undefined) continue;
    const queries: NamedQuery[] = [];
    for (const [key, text] of Object.entries(asObject(cm['data']))) {
      if (typeof text !== 'string' || !key.endsWith('.json')) continue;
      queries.push(...dashboardQueries(JSON.parse(text) as Json, key));
    }
    out.push({ object: finding(cm, '').object, queries });
  }
  return out;
}

/** Every metric an alert or a dashboard query uses is one the app exports. */
export function checkMetricNames(set: RenderedSet, exported: ReadonlySet<string> = EXPORTED_METRIC_NAMES): Finding[] {
  const out: Finding[] = [];
  for (const { object, queries } of queriesInSet(set)) {
    for (const q of queries) {
      const names = metricNamesInPromQL(q.expr);
      if (names.length === 0) out.push({ object, message: `${q.where}: the query names no metric` });
      for (const name of names) {
        if (!exported.has(name)) out.push({ object, message: `${q.where} uses ${name}, which the app does not export` });
      }
    }
  }
  return out;
}

/** Every query of the bundle's PrometheusRule and dashboards, read from the source files. */
export async function bundleQueries(): Promise<NamedQuery[]> {
  const rule: unknown = parse(await readFile(PROMETHEUS_RULE_FILE, 'utf8'));
  const queries = ruleQueries(rule as Json, 'PrometheusRule');
  for (const file of (await readdir(DASHBOARDS_DIR)).filter((f) => f.endsWith('.json')).sort()) {
    queries.push(...dashboardQueries(JSON.parse(await readFile(join(DASHBOARDS_DIR, file), 'utf8')) as Json, file));
  }
  return queries;
}

/** Series Prometheus makes up itself; they are never in the app's /metrics scrape. */
export const SYNTHETIC_METRIC_NAMES: ReadonlySet<string> = new Set(['up']);

/**
 * Every metric name the bundle's alert rules and dashboards use and that a scrape of a running
 * instance (`/metrics` on the metrics port) must therefore show, sorted. Histograms appear with
 * the series suffix the query uses (`_bucket`, `_sum`, `_count`); a labelled metric that has not
 * been observed yet shows only its `# TYPE` line. Prometheus' own `up` is left out.
 */
export async function metricNamesUsedByBundle(): Promise<string[]> {
  const names = new Set<string>();
  for (const q of await bundleQueries()) {
    for (const name of metricNamesInPromQL(q.expr)) if (!SYNTHETIC_METRIC_NAMES.has(name)) names.add(name);
  }
  return [...names].sort();
}
