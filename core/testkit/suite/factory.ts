// Conformance, part 2: the factory, built as `conductor validate` builds it (mode `check`,
// never started) — no I/O, nothing left running, taps under the instance id, status() and
// stop() before start, validate/sanitize taps working without start.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConductor, type Conductor } from '../../app.ts';
import { resolveConfig } from '../../config/validate.ts';
import { silentLogger } from '../../log.ts';
import type { PluginInstance } from '../../plugin/types.ts';
import { instanceProblems, statusProblems } from '../checks.ts';
import { activeHandles, grownHandles, trapIo } from '../io-trap.ts';
import { within } from './helpers.ts';
import { CHECK, type Subject } from './subject.ts';

export function factoryChecks(subject: Subject): void {
  const { definition, name, id, kinds, plugins, modules, baseDir, env, intent, startTimeoutMs, createTimeoutMs } = subject;
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

    it('create() does no I/O, opens no handle and returns quickly', CHECK, async () => {
      dir = mkdtempSync(join(tmpdir(), 'conductor-conformance-'));
      // Not created: in check mode nothing may create it, the core included.
      const dataDir = join(dir, 'data');
      // Resolved outside the trap: resolving imports the companions' modules.
      const resolved = await resolveConfig(
        { dataDir, modules: modules(definition), plugins },
        { source: `conformance of ${name}`, baseDir, env },
      );
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
        ...(tookMs > createTimeoutMs ? [`it took ${tookMs} ms`] : []),
        ...(existsSync(dataDir) ? ['building in check mode created the data directory'] : []),
        ...instanceProblems(instance),
      ];
      assert.deepEqual(problems, []);
    });

    it('adds every tap under its instance id, so errors and metrics name it', CHECK, () => {
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

    it('answers status() before start with {ready: boolean}', CHECK, (t) => {
      const { instance } = built();
      if (instance.status === undefined) {
        t.diagnostic('no status(): readiness counts this plugin as ready');
        return;
      }
      assert.deepEqual(statusProblems(instance.status(), 'before start'), []);
    });

    if (kinds.includes('validate') || kinds.includes('sanitize')) {
      it('checks an intent without being started (conductor validate FILE)', CHECK, async () => {
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

    it('survives stop() before start() and stop() twice', CHECK, async () => {
      const { instance } = built();
      await within(startTimeoutMs, 'the first stop() before start()', (signal) => instance.stop?.(signal));
      await within(startTimeoutMs, 'the second stop()', (signal) => instance.stop?.(signal));
    });
  });
}

function prefixed(events: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(events).map(([key, hook]) => [`events.${key}`, hook]));
}
