// Alerts and dashboards: promtool checks and unit-tests the rules, every dashboard query parses,
// and every metric they name is one the app exports.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricNamesUsedByBundle } from './support/index.ts';
import { bundleQueries, EXPORTED_METRIC_NAMES, metricNamesInPromQL } from './support/metrics.ts';
import { formatFindings, nameOf, ofKind } from './support/objects.ts';
import { checkDashboardQueriesParse, checkPrometheusRules } from './support/promtool.ts';
import { renderOverlay } from './support/render.ts';

describe('alert rules', () => {
  it('has the guide alerts', async () => {
    const set = await renderOverlay('production');
    const alerts = ofKind(set, 'PrometheusRule').flatMap((r) =>
      ((r['spec'] as { groups: { rules: { alert?: string }[] }[] }).groups ?? []).flatMap((g) => g.rules.map((x) => x.alert)),
    );
    for (const alert of [
      'ConductorServiceUnavailable',
      'ConductorHighErrorRate',
      'ConductorMemoryGrowth',
      'ConductorSecurityViolations',
      'ConductorQueueBackup',
    ]) {
      assert.ok(alerts.includes(alert), `${alert} is defined`);
    }
  });

  it('pass promtool check rules and promtool test rules', async () => {
    const set = await renderOverlay('production');
    assert.equal(ofKind(set, 'PrometheusRule').map(nameOf).length, 1);
    const findings = await checkPrometheusRules(set);
    assert.equal(findings.length, 0, formatFindings(findings));
  });
});

describe('dashboards', () => {
  it('application performance, security and processing volume are shipped', async () => {
    const set = await renderOverlay('production');
    const [cm] = ofKind(set, 'ConfigMap').filter((c) => nameOf(c) === 'conductor-dashboards');
    assert.ok(cm !== undefined, 'the dashboards ConfigMap is rendered');
    const titles = Object.values(cm['data'] as Record<string, string>)
      .map((t) => (JSON.parse(t) as { title: string }).title)
      .sort();
    assert.deepEqual(titles, ['Conductor / Application performance', 'Conductor / Processing volume', 'Conductor / Security']);
  });

  it('every query parses as PromQL (promtool)', async () => {
    const findings = await checkDashboardQueriesParse(await renderOverlay('production'));
    assert.equal(findings.length, 0, formatFindings(findings));
  });
});

describe('metric names', () => {
  it('every name an alert or dashboard uses is one the app exports', async () => {
    const unknown: string[] = [];
    for (const q of await bundleQueries()) {
      for (const name of metricNamesInPromQL(q.expr)) if (!EXPORTED_METRIC_NAMES.has(name)) unknown.push(`${q.where}: ${name}`);
    }
    assert.deepEqual(unknown, []);
  });

  it('metricNamesUsedByBundle lists what a scrape must show', async () => {
    const names = await metricNamesUsedByBundle();
    for (const name of [
      'conductor_loop_files_processed_total',
      'conductor_loop_processing_duration_seconds_bucket',
      'conductor_loop_queue_depth',
      'conductor_loop_errors_total',
      'conductor_loop_security_events_total',
      'conductor_stage_duration_seconds_bucket',
      'conductor_sink_circuit_state',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(names.includes(name), `${name} is used`);
    }
    assert.ok(!names.includes('up'), 'up is made by Prometheus, not scraped');
    assert.deepEqual(names, [...names].sort());
  });

  it('the PromQL name extractor skips functions, labels, keywords, durations and variables', () => {
    assert.deepEqual(
      metricNamesInPromQL(
        'sum by (namespace, le) (rate(a_total{job="x", b=~"$ns|c"}[$__rate_interval])) / on (job) group_left(pod) b_bytes offset 5m > bool 1e3 and max without (x) (c_seconds_bucket)',
      ),
      ['a_total', 'b_bytes', 'c_seconds_bucket'],
    );
    assert.deepEqual(metricNamesInPromQL('{__name__="d_total", job="x"}'), ['d_total']);
    assert.deepEqual(metricNamesInPromQL('absent(up{job="conductor"}) or vector(0)'), ['up']);
  });
});
