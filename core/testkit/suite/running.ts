// Conformance, part 4: the plugin started in a real pipeline between one do-nothing landmark
// plugin per stage — order, status, an intent through its taps, injected tap faults,
// preflight and claims, stop, and nothing left running. Sources also report idle in `once`.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { STAGE_OF_HOOK, type StageHooks, type TapEndEvent } from '../../bus/hooks.ts';
import type { ConductorConfig } from '../../config/types.ts';
import { ConductorError } from '../../errors.ts';
import type { PluginInstance } from '../../plugin/types.ts';
import { isErrorCode, orderProblems, preflightProblems, statusProblems, tapErrorProblems } from '../checks.ts';
import { activeHandles } from '../io-trap.ts';
import { buildPipeline, type TestPipeline } from '../pipeline.ts';
import { faultFileFor, probeName, probePlugins, withFaultyTaps, withJournal } from '../wrappers.ts';
import { handlesGrownSince, within } from './helpers.ts';
import { CHECK, type Subject } from './subject.ts';

/** How long closed handles may take to leave the event loop after stop() resolved. */
const LINGER_MS = 2_000;
const DATA_STAGES = ['validate', 'sanitize', 'rate-limit', 'submit', 'audit'];

/** What the checks of one running pipeline share: it is built once, before them. */
interface RunningState {
  journal: string[];
  tapEnds: TapEndEvent[];
  pipeline?: TestPipeline;
  instance?: PluginInstance;
  /** The stages the plugin taps. */
  tapped: string[];
  handlesBefore: Map<string, number>;
}

export function runningChecks(subject: Subject): void {
  const { id, startTimeoutMs } = subject;
  describe('in a running pipeline, between landmark plugins of every stage', () => {
    const state: RunningState = { journal: [], tapEnds: [], tapped: [], handlesBefore: new Map() };
    before(() => buildBetweenLandmarks(subject, state));
    after(() => state.pipeline?.close());

    it(`starts within ${startTimeoutMs} ms, after every stage downstream of it`, CHECK, async () => {
      const { pipeline } = running(state);
      await pipeline.start();
      assert.deepEqual(orderProblems(state.journal, id, subject.kinds, probeName, 'start'), []);
    });
    it('answers status() once started with {ready: boolean}', CHECK, (t) => {
      const { instance } = running(state);
      if (instance.status === undefined) {
        t.diagnostic('no status(): readiness counts this plugin as ready');
        return;
      }
      const status = instance.status();
      t.diagnostic(`status: ${JSON.stringify(status)}`);
      assert.deepEqual(statusProblems(status, 'after start'), []);
    });
    it('takes an intent through the stages it serves; what its taps throw is classified and names it', CHECK, (t) =>
      takesAnIntent(subject, state, t),
    );
    it('errors thrown in its taps are attributed to it and leave the intent for later, never failed', CHECK, (t) =>
      faultsLeaveIntentForLater(subject, state, t),
    );
    it('answers preflight() and claims (when it has them) in shape', CHECK, (t) => preflightAndClaims(subject, state, t));
    it(
      `stops within ${startTimeoutMs} ms, before every stage downstream of it; stop() again is harmless; status() still answers`,
      CHECK,
      () => stopsInOrder(subject, state),
    );
    it('leaves no timer, socket, server or watcher running once stopped', CHECK, async () => {
      running(state);
      const leaked = await handlesGrownSince(state.handlesBefore, LINGER_MS);
      // A leaked handle also keeps this test process from exiting: say what it is first.
      assert.deepEqual(leaked, [], 'stop() must release what start() acquired');
    });
  });
}

function running(state: RunningState): { pipeline: TestPipeline; instance: PluginInstance } {
  const { pipeline, instance } = state;
  assert.ok(pipeline !== undefined && instance !== undefined, 'the pipeline was not built');
  return { pipeline, instance };
}

/** The plugin (its taps journaled and made faulty on demand) between one landmark plugin per stage. */
async function buildBetweenLandmarks(subject: Subject, state: RunningState): Promise<void> {
  const { definition, id, plugins, modules, env, baseDir, startTimeoutMs } = subject;
  state.handlesBefore = activeHandles();
  const landmarks = probePlugins(state.journal);
  const pipeline = await buildPipeline({
    plugins: { ...Object.fromEntries(Object.keys(landmarks).map((probe) => [probe, {}])), ...plugins },
    modules: { ...landmarks, ...modules(withJournal(withFaultyTaps(definition, STAGE_OF_HOOK), state.journal)) },
    config: {
      concurrency: 2,
      pluginTimeoutMs: startTimeoutMs,
      shutdownTimeoutMs: 2_000,
      retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 10, budgetMs: 2_000 },
    } satisfies Omit<ConductorConfig, 'plugins'>,
    mode: 'run',
    start: false,
    env,
    baseDir,
  });
  state.pipeline = pipeline;
  pipeline.conductor.events.tapEnd.tap('conformance', (event) => void state.tapEnds.push(event));
  state.instance = pipeline.conductor.plugins.find((entry) => entry.id === id)?.instance;
  state.tapped = (Object.keys(pipeline.conductor.stages) as (keyof StageHooks)[])
    .filter((key) => pipeline.conductor.stages[key].taps.some((tap) => tap.name === id))
    .map((key) => STAGE_OF_HOOK[key]);
}

async function takesAnIntent({ id, intent }: Subject, state: RunningState, t: TestContext): Promise<void> {
  const { pipeline } = running(state);
  const file = 'conformance-sample.json';
  const result = await pipeline.feed(file, intent);
  t.diagnostic(`outcome: ${result.outcome?.status ?? `left for later: ${result.released.join('; ')}`}`);
  const mine = state.tapEnds.filter((event) => event.ctx.file === file && event.plugin === id);
  const problems = mine.flatMap((event) => (event.error === undefined ? [] : tapErrorProblems(event.error, id, { classified: true })));
  if (result.outcome?.status === 'succeeded') {
    for (const stage of state.tapped.filter((s) => DATA_STAGES.includes(s))) {
      if (!mine.some((event) => event.stage === stage)) problems.push(`its ${stage} tap did not run`);
    }
  }
  for (const reason of result.released) if (!/^CND_ERR_[A-Z_]+: /.test(reason)) problems.push(`released without a code: ${reason}`);
  assert.deepEqual([...new Set(problems)], []);
}

async function faultsLeaveIntentForLater({ id, intent }: Subject, state: RunningState, t: TestContext): Promise<void> {
  const { pipeline } = running(state);
  const stages = state.tapped.filter((stage) => DATA_STAGES.includes(stage));
  if (stages.length === 0) t.diagnostic('it taps no pipeline stage');
  const { correlation_id: _, ...anonymous } = intent;
  for (const stage of stages) {
    await t.test(stage, async () => {
      const file = faultFileFor(stage);
      const result = await pipeline.feed(file, { ...anonymous, target: `conformance-${stage}` });
      const errors = state.tapEnds.filter(
        (event) => event.ctx.file === file && event.plugin === id && event.stage === stage && event.error !== undefined,
      );
      assert.ok(errors.length > 0, `the fault injected at its ${stage} tap was not reported on tapEnd`);
      assert.deepEqual(
        errors.flatMap((event) => tapErrorProblems(event.error!, id, { classified: false })),
        [],
      );
      if (stage === 'audit') {
        assert.ok(result.outcome !== undefined, 'a failing audit tap must not change the outcome');
      } else {
        assert.equal(result.outcome, undefined, `a plugin fault failed the intent: ${JSON.stringify(result.outcome)}`);
        assert.match(result.released[0] ?? '', /^CND_ERR_[A-Z_]+: /);
      }
    });
  }
}

async function preflightAndClaims({ startTimeoutMs }: Subject, state: RunningState, t: TestContext): Promise<void> {
  const { pipeline, instance } = running(state);
  if (instance.preflight === undefined && !state.tapped.includes('claim')) t.diagnostic('no preflight(), no claim tap');
  if (instance.preflight !== undefined) {
    const preflight = instance.preflight.bind(instance);
    await t.test('preflight()', async () => {
      const checks = await within(startTimeoutMs, 'preflight()', (signal) => preflight(signal));
      t.diagnostic(`preflight: ${JSON.stringify(checks)}`);
      assert.deepEqual(preflightProblems(checks), []);
    });
  }
  if (state.tapped.includes('claim')) {
    await t.test('claim', async () => {
      const claim = await pipeline.conductor.pipeline.claim('conformance-claim.json').catch((error: unknown) => {
        assert.ok(
          error instanceof ConductorError && isErrorCode(error.code),
          `a claim failed with an unclassified error: ${String(error)}`,
        );
        return undefined;
      });
      assert.ok(claim !== undefined, 'the claim on a fresh key was not granted');
      await claim.release();
    });
  }
}

async function stopsInOrder({ id, kinds, startTimeoutMs }: Subject, state: RunningState): Promise<void> {
  const { pipeline, instance } = running(state);
  await pipeline.conductor.stop();
  const failures = pipeline.logs.filter((record) => record.plugin === id && /^CND_ERR_PLUGIN_(STOP|TIMEOUT)$/.test(record.err?.code ?? ''));
  assert.deepEqual(
    failures.map((record) => record.msg),
    [],
    'stop() failed or timed out',
  );
  assert.deepEqual(orderProblems(state.journal, id, kinds, probeName, 'stop'), []);
  await within(startTimeoutMs, 'stop() after stop()', (signal) => instance.stop?.(signal));
  if (instance.status !== undefined) assert.deepEqual(statusProblems(instance.status(), 'after stop'), []);
}

export function sourceChecks(subject: Subject): void {
  const { definition, id, plugins, modules, env, baseDir, startTimeoutMs } = subject;
  it('as a source in `once` mode, reports idle when there is nothing to offer', CHECK, async () => {
    const pipeline = await buildPipeline({ plugins, modules: modules(definition), mode: 'once', env, baseDir });
    try {
      assert.ok(
        typeof pipeline.conductor.plugins.find((entry) => entry.id === id)?.instance.idle === 'function',
        'a source must have idle()',
      );
      await within(startTimeoutMs, 'idle()', () => pipeline.conductor.idle());
    } finally {
      await pipeline.close();
    }
  });
}
