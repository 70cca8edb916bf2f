// Conformance, part 3: the limits the core enforces, with this plugin's name. Wrappers make
// its start or stop never return (wrappers.ts) — the only way to make any plugin hang on
// demand — so what is checked is how the core reports this plugin, not its own start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConductorError } from '../../errors.ts';
import { buildPipeline } from '../pipeline.ts';
import { probeName, probePlugins, withHangingStart, withHangingStop } from '../wrappers.ts';
import { escapedForRegExp, inertCompanions } from './helpers.ts';
import { CHECK, type Subject } from './subject.ts';

/** The core's time limit here: short, since nothing real starts. */
const HANG_LIMIT_MS = 150;

export function timeoutChecks(subject: Subject): void {
  const { definition, name, id, plugins, companions, companionModules, env, baseDir } = subject;
  describe('timeouts, as the core enforces them with this plugin', () => {
    it('a start() that does not return fails with CND_ERR_PLUGIN_TIMEOUT naming the plugin', CHECK, async () => {
      const pipeline = await buildPipeline({
        plugins,
        modules: { ...(await inertCompanions(companions, companionModules, baseDir)), [name]: withHangingStart(definition) },
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
          assert.match(error.message, new RegExp(escapedForRegExp(id)));
          return true;
        });
      } finally {
        await pipeline.close();
      }
    });

    it(
      'a stop() that does not return is cut off, logged with CND_ERR_PLUGIN_TIMEOUT and its name, and the rest still stop',
      CHECK,
      async () => {
        const journal: string[] = [];
        const landmarks = probePlugins(journal);
        const service = probeName('service');
        const pipeline = await buildPipeline({
          // The landmark first: of equal rank, it starts first and so stops last.
          plugins: { [service]: {}, ...plugins },
          modules: {
            ...(await inertCompanions(companions, companionModules, baseDir)),
            [service]: landmarks[service]!,
            [name]: withHangingStop(definition),
          },
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
      },
    );
  });
}
