// The conformance suite a plugin runs in one line (in the manner of the OTel Collector's
// generated component tests): `runConformance(plugin, { options })` in a node:test file.
//
// It checks the contract of docs/architecture.md §Plugin contract and docs/plugins.md in four parts:
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
//                report idle in `once`;
//   plan       — sinks: plan() (when offered) in shape, repeatable and without effect, a submit
//                that comes out as planned, then a duplicate; history() lists what was applied.
// A plugin that cannot start in this environment gives `cannotStart` with the reason: the
// running part is then replaced by one test that states it, and everything else still runs.
// Each part is a module of suite/; this one assembles them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Intent } from '../intent/types.ts';
import type { PluginDefinition } from '../plugin/types.ts';
import { kindsOf } from './checks.ts';
import { sampleIntent } from './intents.ts';
import { definitionChecks } from './suite/definition.ts';
import { factoryChecks } from './suite/factory.ts';
import { runningChecks, sourceChecks } from './suite/running.ts';
import { planChecks } from './suite/plan.ts';
import { CHECK, type Subject } from './suite/subject.ts';
import { timeoutChecks } from './suite/timeouts.ts';

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

export function runConformance(definition: PluginDefinition<any>, settings: ConformanceOptions = {}): void {
  const name = typeof definition?.name === 'string' ? definition.name : '(unnamed)';
  const companions = settings.companions ?? {};
  const id = `${name}/conformance`;
  const subject: Subject = {
    definition,
    name,
    id,
    kinds: definition === undefined ? [] : kindsOf(definition),
    plugins: { [id]: settings.options ?? {}, ...companions },
    companions,
    companionModules: settings.modules ?? {},
    modules: (under) => ({ ...settings.modules, [name]: under }),
    env: settings.env ?? process.env,
    baseDir: settings.baseDir ?? process.cwd(),
    intent: settings.intent ?? sampleIntent(),
    startTimeoutMs: settings.startTimeoutMs ?? 5_000,
    createTimeoutMs: settings.createTimeoutMs ?? 2_000,
  };

  describe(settings.title ?? `conformance: ${name}`, () => {
    definitionChecks(subject);
    factoryChecks(subject);
    timeoutChecks(subject);
    if (settings.cannotStart !== undefined) {
      const reason = settings.cannotStart;
      it(`in a running pipeline: not started in this environment (${reason})`, CHECK, () => {
        // Stated, not skipped: the reason is part of the suite's output.
        assert.ok(reason.trim().length >= 10, 'cannotStart needs a real reason');
      });
      return;
    }
    runningChecks(subject);
    if (subject.kinds.includes('source')) sourceChecks(subject);
    if (subject.kinds.includes('submit')) planChecks(subject);
  });
}
