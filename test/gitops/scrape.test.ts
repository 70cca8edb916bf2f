// Issue 6: every metric an alert rule or a dashboard query names appears in a scrape of a
// running instance — the real CLI, with the production overlay's plugins that need no cluster,
// after some traffic — and the contract list the other gitops checks use agrees with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/ports.ts';
import { startCli } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
import { EXPORTED_METRIC_NAMES, SYNTHETIC_METRIC_NAMES, metricNamesUsedByBundle } from './support/metrics.ts';

/** Series names a scrape offers: each family, and a histogram's _bucket/_sum/_count series. */
function scrapedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

test('every metric the alerts and dashboards use is in a scrape of a running instance', { timeout: 120_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const port = await freePort();
  const config = fastConfig(dir.root, { prometheus: { port, host: '127.0.0.1' } });
  const running = startCli(['run', '--config', writeJsonConfig(dir.root, { ...config, logLevel: 'info' })]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('started', () => running.output().stdout.includes('conductor started'), 30_000);
  dropIntent(dir.handoff, 'intent-good.json', scaling('cu-cp', 2), { atomic: true });
  dropIntent(dir.handoff, 'intent-bad.json', '{"not": "an intent"', { atomic: true });
  dropIntent(dir.handoff, 'intent-hostile.json', scaling('cu-up', 2, { reason: '$(reboot)' }), { atomic: true });
  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await waitFor(
    'traffic counted',
    async () => /conductor_loop_files_processed_total\{outcome="failed"\} 2/.test(await scrape()),
    30_000,
    50,
  );
  const exported = scrapedNames(await scrape());

  const used = await metricNamesUsedByBundle();
  assert.ok(used.length >= 5, `the bundle uses ${used.length} metric names`);
  const missing = used.filter((name) => !exported.has(name));
  assert.deepEqual(missing, [], 'names used by alerts or dashboards but absent from the scrape');
  for (const guide of [
    'conductor_loop_files_processed_total',
    'conductor_loop_processing_duration_seconds',
    'conductor_loop_queue_depth',
    'conductor_loop_errors_total',
    'conductor_loop_security_events_total',
  ]) {
    assert.ok(exported.has(guide), `${guide} is exported`);
  }
  const contractDrift = [...EXPORTED_METRIC_NAMES].filter((name) => !SYNTHETIC_METRIC_NAMES.has(name) && !exported.has(name));
  assert.deepEqual(contractDrift, [], 'the contract list the gitops checks use names only exported metrics');
  assert.ok(!exported.has('conductor_loop_queue_size'), 'a name nobody exports is not found (the check can fail)');

  running.child.kill('SIGTERM');
  assert.equal((await running.exited).code, 0);
  t.diagnostic(`bundle uses ${used.length} names; the scrape offers ${exported.size}`);
});
