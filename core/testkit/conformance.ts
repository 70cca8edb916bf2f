// The conformance suite a plugin runs in one line (in the manner of the OTel Collector's
// generated component tests): `runConformance(plugin, { options })` in a node:test file.
//
// It checks the contract of DESIGN §2.2 and docs/plugins.md in four parts:
//   definition — metadata, an options schema that compiles strictly and is closed, defaults
//                that validate with the given options (through the core's own resolveConfig);
//   factory    — built as `conductor validate` builds it: create() does no I/O, opens no
//                handle, returns quickly; taps carry the instance id; status() and stop()
//                work before start; validate/sanitize taps work without start;
//   timeouts   — a start or stop that never returns is cut off by the core with
//                CND_ERR_PLUGIN_TIMEOUT naming the plugin (through wrappers, see wrappers.ts);
//   running    — in a real pipeline between one landmark plugin per stage: start and stop in
//                stage order within the time limit, status() in shape, an intent through its
//                taps with classified errors, injected tap faults attributed to it, preflight()
//                and claims in shape, a second stop() harmless, status() after stop; sources
//                report idle in `once`.
// A plugin that cannot start in this environment gives `cannotStart` with the reason: the
// running part is then replaced by one test that states it, and everything else still runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConductor, type Conductor } from '../app.ts';
import { STAGE_OF_HOOK, type StageHooks, type TapEndEvent } from '../bus/hooks.ts';
import { resolveConfig } from '../config/validate.ts';
import type { ConductorConfig } from '../config/types.ts';
import { ConductorError } from '../errors.ts';
import type { Intent } from '../intent/types.ts';
import { silentLogger } from '../log.ts';
import { pluginNameOf, resolvePluginDefinition } from '../plugin/resolve.ts';
import type { PluginDefinition, PluginInstance } from '../plugin/types.ts';
import {
  definitionProblems,
  instanceProblems,
  isErrorCode,
  kindsOf,
  orderProblems,
  preflightProblems,
  schemaProblems,
  statusProblems,
  tapErrorProblems,
} from './checks.ts';
import { sampleIntent } from './intents.ts';
import { activeHandles, grownHandles, trapIo } from './io-trap.ts';
import { buildPipeline, type TestPipeline } from './pipeline.ts';
import { faultFileFor, inert, probeName, probePlugins, withFaultyTaps, withHangingStart, withHangingStop, withJournal } from './wrappers.ts';

export interface ConformanceOptions {
  /** The plugin's options, over its defaults (a port of 0, the URL of a test server, …). */
  options?: Record<string, unknown>;
  /** Environment for `${env:NAME}` in the options (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Plugins the pipeline must also have (this plugin's dependencies): id → options. */
  companions?: Record<string, Record<string, unknown>>;
  /** Definitions (or module specifiers) of companions that are not built in. */
  modules?: Record<string, PluginDefinition<any> | string>;
  /** Where relative module specifiers are taken from (default: the working directory). */
  baseDir?: string;
  /**
   * Why this plugin cannot be started in this environment (it needs a server that is not
   * here). The checks that need it started are then not run; one test says so, with this
   * reason. Everything that needs no start still runs.
   */
  cannotStart?: string;
  /** The intent sent through the running pipeline (default: testkit's sampleIntent()). */
  intent?: Intent;
  /** How long its start() and stop() may take in the running pipeline (default 5000 ms). */
  startTimeoutMs?: number;
  /** How long its factory may take (default 2000 ms; it does no I/O, so this is generous). */
  createTimeoutMs?: number;
  /** The suite's title (default `conformance: <name>`). */
  title?: string;
}

/** The plugin under test runs as an instance of its own, so a hard-coded name shows. */
const INSTANCE = 'conformance';
/** The core's time limit in the timeout checks: short, since nothing real starts there. */
const HANG_LIMIT_MS = 150;
/** A backstop so a plugin that hangs where no limit applies fails its test, not the run. */
const TEST_TIMEOUT_MS = 60_000;
const DATA_STAGES = ['validate', 'sanitize', 'rate-limit', 'submit', 'audit'];

export function runConformance(definition: PluginDefinition<any>, settings: ConformanceOptions = {}): void {
  const name = typeof definition?.name === 'string' ? definition.name : '(unnamed)';
  const id = `${name}/${INSTANCE}`;
  const kinds = definition === undefined ? [] : kindsOf(definition);
  const startTimeoutMs = settings.startTimeoutMs ?? 5_000;
  const env = settings.env ?? process.env;
  const baseDir = settings.baseDir ?? process.cwd();
  const companions = settings.companions ?? {};
  const plugins = { [id]: settings.options ?? {}, ...companions };
  const modules = (under: PluginDefinition<any>) => ({ ...settings.modules, [name]: under });
  const intent = settings.intent ?? sampleIntent();
  const test = { timeout: TEST_TIMEOUT_MS };

  describe(settings.title ?? `conformance: ${name}`, () => {
    describe('definition', () => {
      it('is declared with definePlugin, with valid metadata', test, () => {
        assert.deepEqual(definitionProblems(definition), []);
      });

      it('has an options schema that compiles in ajv strict mode and closes every object', test, () => {
        assert.deepEqual(schemaProblems(definition.optionsSchema), []);
      });

      it('accepts its defaults merged with the given options, as the config resolver does', test, async () => {
        await resolveConfig(
          { dataDir: join(tmpdir(), 'conductor-conformance-unused'), modules: modules(definition), plugins },
          { source: `conformance of ${name}`, baseDir, env },
        ).catch((error: unknown) => assert.fail((error as Error).message));
      });
    });

    describe('factory, as `conductor validate` builds it (created, never started)', () => {
      let dir: string | undefined;
      let conductor: Conductor | undefined;
      let instance: PluginInstance | undefined;
      const built = () => {
        assert.ok(conductor !== undefined && instance !== undefined, 'the plugin was not built (see the first test)');
        return { conductor, instance };
      };
      after(async () => {
        await conductor?.stop();
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      });

      it('create() does no I/O, opens no handle and returns quickly', test, async () => {
        dir = mkdtempSync(join(tmpdir(), 'conductor-conformance-'));
        // Not created: in check mode nothing may create it, the core included.
        const dataDir = join(dir, 'data');
        // Resolved outside the trap: resolving imports the companions' modules.
        const resolved = await resolveConfig({ dataDir, modules: modules(definition), plugins }, { source: `conformance of ${name}`, baseDir, env });
        const handlesBefore = activeHandles();
        const began = performance.now();
        const { value, calls } = await trapIo(() => createConductor(resolved, { log: silentLogger(), mode: 'check' }));
        const tookMs = Math.round(performance.now() - began);
        const grown = grownHandles(handlesBefore, activeHandles());
        conductor = value;
        instance = value.plugins.find((entry) => entry.id === id)?.instance;

        // Every problem at once, so one run shows the author all there is to fix.
        const problems = [
          ...calls.map((call) => `it did I/O: ${call.what}(${call.target ?? ''}) — move it into start()`),
          ...grown.map((handle) => `it left a handle running: ${handle} — start timers, sockets and watchers in start()`),
          ...(tookMs > (settings.createTimeoutMs ?? 2_000) ? [`it took ${tookMs} ms`] : []),
          ...(existsSync(dataDir) ? ['building in check mode created the data directory'] : []),
          ...instanceProblems(instance),
        ];
        assert.deepEqual(problems, []);
      });

      it('adds every tap under its instance id, so errors and metrics name it', test, () => {
        const { conductor } = built();
        const ids = new Set(conductor.plugins.map((entry) => entry.id));
        const problems: string[] = [];
        const hooks = { ...conductor.stages, ...prefixed(conductor.events) };
        for (const [hookName, hook] of Object.entries(hooks)) {
          for (const tap of (hook as { taps: { name: string }[] }).taps) {
            if (!ids.has(tap.name)) problems.push(`${hookName} is tapped as "${tap.name}"; use context.id ("${id}" here)`);
          }
        }
        assert.deepEqual(problems, []);
      });

      it('answers status() before start with {ready: boolean}', test, (t) => {
        const { instance } = built();
        if (instance.status === undefined) {
          t.diagnostic('no status(): readiness counts this plugin as ready');
          return;
        }
        assert.deepEqual(statusProblems(instance.status(), 'before start'), []);
      });

      if (kinds.includes('validate') || kinds.includes('sanitize')) {
        it('checks an intent without being started (conductor validate FILE)', test, async () => {
          const { conductor } = built();
          const result = await conductor.pipeline.check({
            file: 'conformance-check.json',
            source: 'conformance',
            bytes: new TextEncoder().encode(JSON.stringify(intent)),
            receivedAt: Date.now(),
            ack: async () => undefined,
            release: () => undefined,
          });
          if (result.error !== undefined) {
            assert.match(result.error.code, /^CND_ERR_INTENT_/, `without start it failed with ${result.error.code}: ${result.error.message}`);
          }
        });
      }

      it('survives stop() before start() and stop() twice', test, async () => {
        const { instance } = built();
        await within(startTimeoutMs, 'the first stop() before start()', (signal) => instance.stop?.(signal));
        await within(startTimeoutMs, 'the second stop()', (signal) => instance.stop?.(signal));
      });
    });

    describe('timeouts, as the core enforces them with this plugin', () => {
      it('a start() that does not return fails with CND_ERR_PLUGIN_TIMEOUT naming the plugin', test, async () => {
        const pipeline = await buildPipeline({
          plugins,
          modules: { ...(await inertCompanions(companions, settings.modules ?? {}, baseDir)), [name]: withHangingStart(definition) },
          config: { pluginTimeoutMs: HANG_LIMIT_MS },
          mode: 'run',
          start: false,
          env,
          baseDir,
        });
        try {
          await assert.rejects(pipeline.start(), (error: unknown) => {
            assert.ok(error instanceof ConductorError, `not a ConductorError: ${String(error)}`);
            assert.equal(error.code, 'CND_ERR_PLUGIN_TIMEOUT');
            assert.equal(error.plugin, id);
            assert.match(error.message, new RegExp(escaped(id)));
            return true;
          });
        } finally {
          await pipeline.close();
        }
      });

      it('a stop() that does not return is cut off, logged with CND_ERR_PLUGIN_TIMEOUT and its name, and the rest still stop', test, async () => {
        const journal: string[] = [];
        const landmarks = probePlugins(journal);
        const service = probeName('service');
        const pipeline = await buildPipeline({
          // The landmark first: of equal rank, it starts first and so stops last.
          plugins: { [service]: {}, ...plugins },
          modules: { ...(await inertCompanions(companions, settings.modules ?? {}, baseDir)), [service]: landmarks[service]!, [name]: withHangingStop(definition) },
          config: { pluginTimeoutMs: HANG_LIMIT_MS },
          mode: 'run',
          env,
          baseDir,
        });
        await pipeline.close();
        const logged = pipeline.logs.find((record) => record.plugin === id && record.err?.code === 'CND_ERR_PLUGIN_TIMEOUT');
        assert.ok(logged !== undefined, `no CND_ERR_PLUGIN_TIMEOUT logged for ${id}`);
        assert.equal(logged.err?.plugin, id);
        assert.ok(journal.includes(`stop ${service}`), 'the plugins after it were not stopped');
      });
    });

    if (settings.cannotStart !== undefined) {
      const reason = settings.cannotStart;
      it(`in a running pipeline: not started in this environment (${reason})`, test, () => {
        // Stated, not skipped: the reason is part of the suite's output.
        assert.ok(reason.trim().length >= 10, 'cannotStart needs a real reason');
      });
      return;
    }

    describe('in a running pipeline, between landmark plugins of every stage', () => {
      const journal: string[] = [];
      const tapEnds: TapEndEvent[] = [];
      let pipeline: TestPipeline | undefined;
      let instance: PluginInstance | undefined;
      let tapped: string[] = [];
      const running = () => {
        assert.ok(pipeline !== undefined && instance !== undefined, 'the pipeline was not built');
        return { pipeline, instance };
      };

      before(async () => {
        const landmarks = probePlugins(journal);
        pipeline = await buildPipeline({
          plugins: { ...Object.fromEntries(Object.keys(landmarks).map((probe) => [probe, {}])), ...plugins },
          modules: { ...landmarks, ...modules(withJournal(withFaultyTaps(definition, STAGE_OF_HOOK), journal)) },
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
        pipeline.conductor.events.tapEnd.tap('conformance', (event) => void tapEnds.push(event));
        instance = pipeline.conductor.plugins.find((entry) => entry.id === id)?.instance;
        tapped = (Object.keys(pipeline.conductor.stages) as (keyof StageHooks)[])
          .filter((key) => pipeline!.conductor.stages[key].taps.some((tap) => tap.name === id))
          .map((key) => STAGE_OF_HOOK[key]);
      });
      after(() => pipeline?.close());

      it(`starts within ${startTimeoutMs} ms, after every stage downstream of it`, test, async () => {
        const { pipeline } = running();
        await pipeline.start();
        assert.deepEqual(orderProblems(journal, id, kinds, probeName, 'start'), []);
      });

      it('answers status() once started with {ready: boolean}', test, (t) => {
        const { instance } = running();
        if (instance.status === undefined) {
          t.diagnostic('no status(): readiness counts this plugin as ready');
          return;
        }
        const status = instance.status();
        t.diagnostic(`status: ${JSON.stringify(status)}`);
        assert.deepEqual(statusProblems(status, 'after start'), []);
      });

      it('takes an intent through the stages it serves; what its taps throw is classified and names it', test, async (t) => {
        const { pipeline } = running();
        const file = 'conformance-sample.json';
        const result = await pipeline.feed(file, intent);
        t.diagnostic(`outcome: ${result.outcome?.status ?? `left for later: ${result.released.join('; ')}`}`);
        const mine = tapEnds.filter((event) => event.ctx.file === file && event.plugin === id);
        const problems = mine.flatMap((event) => (event.error === undefined ? [] : tapErrorProblems(event.error, id, { classified: true })));
        if (result.outcome?.status === 'succeeded') {
          for (const stage of tapped.filter((s) => DATA_STAGES.includes(s))) {
            if (!mine.some((event) => event.stage === stage)) problems.push(`its ${stage} tap did not run`);
          }
        }
        for (const reason of result.released) if (!/^CND_ERR_[A-Z_]+: /.test(reason)) problems.push(`released without a code: ${reason}`);
        assert.deepEqual([...new Set(problems)], []);
      });

      it('errors thrown in its taps are attributed to it and leave the intent for later, never failed', test, async (t) => {
        const { pipeline } = running();
        const stages = tapped.filter((stage) => DATA_STAGES.includes(stage));
        if (stages.length === 0) t.diagnostic('it taps no pipeline stage');
        const { correlation_id: _, ...anonymous } = intent;
        for (const stage of stages) {
          await t.test(stage, async () => {
            const file = faultFileFor(stage);
            const result = await pipeline.feed(file, { ...anonymous, target: `conformance-${stage}` });
            const errors = tapEnds.filter((event) => event.ctx.file === file && event.plugin === id && event.stage === stage && event.error !== undefined);
            assert.ok(errors.length > 0, `the fault injected at its ${stage} tap was not reported on tapEnd`);
            assert.deepEqual(errors.flatMap((event) => tapErrorProblems(event.error!, id, { classified: false })), []);
            if (stage === 'audit') {
              assert.ok(result.outcome !== undefined, 'a failing audit tap must not change the outcome');
            } else {
              assert.equal(result.outcome, undefined, `a plugin fault failed the intent: ${JSON.stringify(result.outcome)}`);
              assert.match(result.released[0] ?? '', /^CND_ERR_[A-Z_]+: /);
            }
          });
        }
      });

      it('answers preflight() and claims (when it has them) in shape', test, async (t) => {
        const { pipeline, instance } = running();
        if (instance.preflight === undefined && !tapped.includes('claim')) t.diagnostic('no preflight(), no claim tap');
        if (instance.preflight !== undefined) {
          const preflight = instance.preflight.bind(instance);
          await t.test('preflight()', async () => {
            const checks = await within(startTimeoutMs, 'preflight()', (signal) => preflight(signal));
            t.diagnostic(`preflight: ${JSON.stringify(checks)}`);
            assert.deepEqual(preflightProblems(checks), []);
          });
        }
        if (tapped.includes('claim')) {
          await t.test('claim', async () => {
            const claim = await pipeline.conductor.pipeline.claim('conformance-claim.json').catch((error: unknown) => {
              assert.ok(error instanceof ConductorError && isErrorCode(error.code), `a claim failed with an unclassified error: ${String(error)}`);
              return undefined;
            });
            assert.ok(claim !== undefined, 'the claim on a fresh key was not granted');
            await claim.release();
          });
        }
      });

      it(`stops within ${startTimeoutMs} ms, before every stage downstream of it; stop() again is harmless; status() still answers`, test, async () => {
        const { pipeline, instance } = running();
        await pipeline.conductor.stop();
        const failures = pipeline.logs.filter((record) => record.plugin === id && /^CND_ERR_PLUGIN_(STOP|TIMEOUT)$/.test(record.err?.code ?? ''));
        assert.deepEqual(failures.map((record) => record.msg), [], 'stop() failed or timed out');
        assert.deepEqual(orderProblems(journal, id, kinds, probeName, 'stop'), []);
        await within(startTimeoutMs, 'stop() after stop()', (signal) => instance.stop?.(signal));
        if (instance.status !== undefined) assert.deepEqual(statusProblems(instance.status(), 'after stop'), []);
      });
    });

    if (kinds.includes('source')) {
      it('as a source in `once` mode, reports idle when there is nothing to offer', test, async () => {
        const pipeline = await buildPipeline({ plugins, modules: modules(definition), mode: 'once', env, baseDir });
        try {
          assert.ok(typeof pipeline.conductor.plugins.find((entry) => entry.id === id)?.instance.idle === 'function', 'a source must have idle()');
          await within(startTimeoutMs, 'idle()', () => pipeline.conductor.idle());
        } finally {
          await pipeline.close();
        }
      });
    }
  });
}

/** Companions for the timeout checks: configured (dependencies hold) but never really started. */
async function inertCompanions(
  companions: Record<string, Record<string, unknown>>,
  modules: Record<string, PluginDefinition<any> | string>,
  baseDir: string,
): Promise<Record<string, PluginDefinition<any>>> {
  const names = [...new Set(Object.keys(companions).map(pluginNameOf))];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, inert(await resolvePluginDefinition(name, modules, baseDir))])));
}

/** Runs `work` with an abort signal; fails with `what` when it takes longer than `ms`. */
async function within<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T> | T): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what} did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function prefixed(events: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(events).map(([key, hook]) => [`events.${key}`, hook]));
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
