// Issue 5, acceptance 1: a scrape of a running instance after real traffic passes
// `promtool check metrics` for every metric Conductor defines, and carries the five names the
// guide promises, with figures that match what happened and labels that stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get } from './support/http.ts';
import { freePort } from '../support/ports.ts';
import { familyNames, keepFamilies, parseSamples, sampleSum, sampleValue } from './support/metrics-text.ts';
import { dropIntent, FAST, makeDataDir, openPipeline, readStatusFiles, scaling, startAndSettle } from './support/pipeline.ts';
import { promtoolCheckMetrics } from '../support/promtool.ts';
import { flakySink, heldSink } from './support/test-plugins.ts';
import { waitFor } from '../support/wait.ts';
import { BLUEPRINT } from '../support/data-dir.ts';

const GUIDE_NAMES = [
  'conductor_loop_files_processed_total',
  'conductor_loop_processing_duration_seconds',
  'conductor_loop_queue_depth',
  'conductor_loop_errors_total',
  'conductor_loop_security_events_total',
];

test('after traffic, promtool accepts every conductor metric and the guide names carry the figures', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const port = await freePort();
  const flaky = flakySink(['flaky-target']);
  dropIntent(dir.handoff, 'intent-a.json', scaling('app-a', 2, { correlation_id: 'corr-a' }));
  dropIntent(dir.handoff, 'intent-flaky.json', scaling('flaky-target', 3));
  dropIntent(dir.handoff, 'intent-c.json', scaling('app-c', 1));
  dropIntent(dir.handoff, 'intent-bad.json', scaling('Not A Label!', 1));
  dropIntent(dir.handoff, 'intent-garbled.json', '{"intent_type": "scaling", ');
  writeFileSync(join(dir.root, 'elsewhere.json'), JSON.stringify(scaling('app-x', 1)));
  symlinkSync(join(dir.root, 'elsewhere.json'), join(dir.handoff, 'intent-link.json'));

  const conductor = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    modules: { 'flaky-sink': flaky.definition },
    plugins: {
      'fs-source': { debounceMs: 0 },
      'schema-validate': {},
      'rate-limit': { requestsPerMinute: 6000, burst: 100 },
      'flaky-sink': {},
      'git-sink': { blueprint: BLUEPRINT },
      'audit-log': {},
      prometheus: { port, host: '127.0.0.1' },
    },
  });
  t.after(() => conductor.stop());
  const settled = await startAndSettle(conductor, 6);
  // The second copy of corr-a arrives once the first has settled: a duplicate.
  dropIntent(dir.handoff, 'intent-a-again.json', scaling('app-a', 2, { correlation_id: 'corr-a' }));
  await waitFor('the duplicate to settle', () => settled() === 7);
  const scrape = await get(`http://127.0.0.1:${port}/metrics`);

  assert.equal(scrape.status, 200);
  assert.match(scrape.contentType, /^text\/plain; version=0\.0\.4/);
  const text = scrape.text;
  for (const name of GUIDE_NAMES) assert.ok(familyNames(text).includes(name), `${name} is exported`);

  const processed = (outcome: string) => sampleValue(text, 'conductor_loop_files_processed_total', { outcome });
  assert.deepEqual([processed('succeeded'), processed('duplicate'), processed('failed')], [3, 1, 3]);
  assert.equal(sampleValue(text, 'conductor_loop_processing_duration_seconds_count', { outcome: 'succeeded' }), 3);
  assert.equal(sampleValue(text, 'conductor_loop_queue_depth'), 0);
  const errors = (type: string) => sampleValue(text, 'conductor_loop_errors_total', { type });
  assert.deepEqual(
    [errors('CND_ERR_INTENT_INVALID'), errors('CND_ERR_INTENT_PARSE'), errors('CND_ERR_FILE_REJECTED'), errors('CND_ERR_SUBMIT_TRANSIENT')],
    [1, 1, 1, 1],
  );
  assert.equal(sampleValue(text, 'conductor_loop_security_events_total', { type: 'schema' }), 1);
  assert.equal(sampleValue(text, 'conductor_loop_security_events_total', { type: 'symlink' }), 1);
  assert.equal(sampleValue(text, 'conductor_sink_retries_total', { plugin: 'flaky-sink' }), 1);
  // Per plugin: git-sink committed three intents; flaky-sink was called once more, and failed once.
  assert.equal(sampleValue(text, 'conductor_stage_duration_seconds_count', { stage: 'submit', plugin: 'git-sink' }), 3);
  assert.equal(sampleValue(text, 'conductor_stage_calls_total', { stage: 'submit', plugin: 'flaky-sink', result: 'error' }), 1);
  // Rate-limiter waits are the rate-limit stage's durations.
  assert.equal(sampleValue(text, 'conductor_stage_duration_seconds_count', { stage: 'rate-limit', plugin: 'rate-limit' }), 3);
  // The validate stage ran for the five intents that parsed (one of them was rejected there).
  assert.equal(sampleSum(text, 'conductor_pipeline_stage_duration_seconds_count', { stage: 'validate' }), 5);
  assert.equal(sampleValue(text, 'conductor_ledger_records', { status: 'succeeded' }), 3);
  assert.equal(sampleValue(text, 'conductor_config_reloads_total', { result: 'success' }), 0);
  assert.equal(sampleValue(text, 'conductor_plugin_ready', { plugin: 'git-sink' }), 1);
  assert.ok((sampleValue(text, 'process_resident_memory_bytes') ?? 0) > 0, 'the process metrics are there');

  // Bounded labels: no file name, stem or intent id appears as a label value.
  const statuses = readStatusFiles(dir.root);
  assert.equal(statuses.length, 7);
  const forbidden = new Set(statuses.flatMap((s) => [s.file, s.file.replace(/\.json$/, ''), s.intentId]));
  for (const sample of parseSamples(text)) {
    for (const value of Object.values(sample.labels))
      assert.ok(!forbidden.has(value), `${sample.name} has the unbounded label value ${value}`);
  }

  // promtool: every metric Conductor defines passes on its own ...
  const ours = await promtoolCheckMetrics(keepFamilies(text, (name) => name.startsWith('conductor_')));
  assert.equal(ours.code, 0, ours.output);
  assert.equal(ours.output, '');
  // ... and on the whole scrape it finds fault only with prom-client's own process metrics.
  const whole = await promtoolCheckMetrics(text);
  const complaints = whole.output.split('\n').filter(Boolean);
  for (const line of complaints) assert.match(line, /^(nodejs|process)_\S+ /, `promtool complains about a conductor metric: ${line}`);
  t.diagnostic(`promtool on the whole scrape: exit ${whole.code}; ${complaints.length === 0 ? 'no complaints' : complaints.join(' | ')}`);
});

test('conductor_loop_queue_depth is read at scrape time: backlog plus intents in flight', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const port = await freePort();
  const held = heldSink();
  for (let i = 0; i < 5; i += 1) dropIntent(dir.handoff, `intent-${i}.json`, scaling(`app-${i}`, 1));
  const conductor = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    concurrency: 2,
    modules: { 'held-sink': held.definition },
    plugins: { 'fs-source': { debounceMs: 0 }, 'held-sink': {}, prometheus: { port, host: '127.0.0.1' } },
  });
  await conductor.start();
  t.after(() => conductor.stop());
  const depth = async () => sampleValue((await get(`http://127.0.0.1:${port}/metrics`)).text, 'conductor_loop_queue_depth');

  // Two in flight (held by the sink), the rest waiting on disk: the gauge is computed from the
  // host's figures when scraped. (fs-source does not count the file it holds while waiting
  // for a free place, so its backlog reads 2 here, not 3.)
  const stats = await waitFor('two intents held in flight', () => {
    const now = conductor.pipeline.stats();
    return now.inFlight === 2 && now.backlog >= 2 ? now : undefined;
  });
  assert.equal(await depth(), stats.backlog + stats.inFlight);
  held.release();
  await waitFor(
    'all five settled and the gauge back at 0',
    async () => conductor.pipeline.stats().succeeded === 5 && (await depth()) === 0,
  );
});
