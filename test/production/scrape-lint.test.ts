// Issue 14, acceptance 6 (second half): `promtool check metrics` passes on a whole scrape —
// conductor's metrics and prom-client's process and runtime metrics alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from '../observability/support/http.ts';
import { freePort } from '../support/ports.ts';
import { familyNames } from '../observability/support/metrics-text.ts';
import { dropIntent, FAST, makeDataDir, openPipeline, scaling, startAndSettle } from '../observability/support/pipeline.ts';
import { promtoolCheckMetrics } from '../support/promtool.ts';

test('promtool check metrics exits 0 on a full scrape, default metrics included', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const port = await freePort();
  dropIntent(dir.handoff, 'intent-a.json', scaling('app-a', 2));
  dropIntent(dir.handoff, 'intent-bad.json', scaling('Not A Label!', 1));
  const conductor = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    plugins: {
      'fs-source': { debounceMs: 0 },
      'schema-validate': {},
      'git-sink': {},
      prometheus: { port, host: '127.0.0.1' },
    },
  });
  t.after(() => conductor.stop());
  await startAndSettle(conductor, 2);
  const scrape = await get(`http://127.0.0.1:${port}/metrics`);
  assert.equal(scrape.status, 200);
  const families = familyNames(scrape.text);
  assert.ok(families.includes('nodejs_active_handles'), 'the runtime metrics are there');
  assert.ok(families.includes('process_cpu_seconds_total'), 'the process metrics are there');
  const result = await promtoolCheckMetrics(scrape.text);
  assert.equal(result.output, '', 'no complaint');
  assert.equal(result.code, 0);
  t.diagnostic(`promtool check metrics on ${families.length} families: exit ${result.code}`);
});
