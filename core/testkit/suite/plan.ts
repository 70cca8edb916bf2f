// Conformance, part 5 (sinks): plan() and history(), when the sink offers them. A plan is asked
// as `conductor plan` asks it — on a pipeline built in `check` mode, never started — and must be
// in shape, repeatable and without effect (not a byte of the data directory changes); the intent
// submitted afterwards must come out as the plan said; planned again, it is a duplicate; and
// history() (when offered) then lists it. A sink without plan() is stated, not failed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConductor, type Conductor } from '../../app.ts';
import { resolveConfig } from '../../config/validate.ts';
import { contentHash, intentIdOf } from '../../intent/identity.ts';
import { silentLogger } from '../../log.ts';
import type { PlanOutcome, PlanResult, PluginInstance } from '../../plugin/types.ts';
import { buildPipeline } from '../pipeline.ts';
import { CHECK, type Subject } from './subject.ts';

const OUTCOMES: readonly PlanOutcome[] = ['apply', 'duplicate', 'conflict', 'superseded', 'refused'];
/** The outcome status a submit must end in, for each planned outcome. */
const SETTLES_AS: Record<PlanOutcome, string> = {
  apply: 'succeeded',
  duplicate: 'duplicate',
  conflict: 'failed',
  superseded: 'superseded',
  refused: 'failed',
};

/** What is wrong with a plan's shape (empty when nothing). */
export function planProblems(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return ['plan() must resolve with an object'];
  const plan = result as Partial<PlanResult>;
  const problems: string[] = [];
  if (!OUTCOMES.includes(plan.outcome as PlanOutcome))
    problems.push(`outcome must be one of ${OUTCOMES.join(', ')}, not ${String(plan.outcome)}`);
  if (plan.message !== undefined && typeof plan.message !== 'string') problems.push('message must be a string');
  if (!Array.isArray(plan.files)) return [...problems, 'files must be an array'];
  for (const file of plan.files) {
    if (typeof file?.path !== 'string' || file.path === '') problems.push('every file needs a path');
    if (file?.before !== undefined && typeof file.before !== 'string') problems.push(`${file.path}: before must be a string`);
    if (file?.after !== undefined && typeof file.after !== 'string') problems.push(`${file.path}: after must be a string`);
  }
  if (plan.outcome !== 'apply' && plan.files.length > 0) problems.push(`a plan that would ${plan.outcome} changes no file`);
  return problems;
}

/** Every path under `root` with its type and content hash. */
function treeOf(root: string): Record<string, string> {
  const seen: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) {
        seen[path] = 'dir';
        walk(path);
      } else seen[path] = stats.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'other';
    }
  };
  walk(root);
  return seen;
}

export function planChecks(subject: Subject): void {
  const { definition, name, id, plugins, modules, baseDir, env, startTimeoutMs } = subject;
  // A target of its own (no correlation_id), so that what the running checks submitted does not decide the plan.
  const { correlation_id: _, ...sample } = subject.intent;
  const intent = { ...sample, target: `${sample.target}-plan`.slice(0, 63) };
  describe('plan() and history(), as `conductor plan` and `conductor history` ask them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-conformance-plan-'));
    const dataDir = join(dir, 'data');
    let planner: Conductor | undefined;
    after(async () => {
      await planner?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const file = 'conformance-plan.json';
    const request = (signal: AbortSignal) => ({
      intentId: intentIdOf(file, intent as unknown as Record<string, unknown>),
      file,
      contentHash: contentHash(intent),
      signal,
    });

    it(
      'plans in shape, the same twice, without effect; a submit then comes out as planned, and is a duplicate planned again',
      CHECK,
      async (t) => {
        const resolved = await resolveConfig(
          { dataDir, modules: modules(definition), plugins },
          { source: `conformance of ${name}`, baseDir, env },
        );
        planner = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
        const instance: PluginInstance | undefined = planner.plugins.find((entry) => entry.id === id)?.instance;
        assert.ok(instance !== undefined, 'the plugin was not built');
        if (instance.plan === undefined) {
          // Stated, not failed: `conductor plan` then says this sink cannot plan.
          t.diagnostic('no plan(): `conductor plan` reports that this sink cannot plan');
          return;
        }
        const plan = instance.plan.bind(instance);
        const before = treeOf(dir);
        const first = await plan(intent, request(AbortSignal.timeout(startTimeoutMs)));
        t.diagnostic(`plan: ${first.outcome}${first.message === undefined ? '' : ` (${first.message})`}, ${first.files.length} file(s)`);
        assert.deepEqual(planProblems(first), []);
        const second = await plan(intent, request(AbortSignal.timeout(startTimeoutMs)));
        assert.deepEqual(second, first, 'a second plan of the same intent differs: the first one changed something');
        assert.deepEqual(treeOf(dir), before, 'plan() wrote in the data directory');

        const pipeline = await buildPipeline({
          plugins,
          modules: modules(definition),
          dataDir,
          baseDir,
          env,
          config: { pluginTimeoutMs: startTimeoutMs },
        });
        let status: string | undefined;
        try {
          const fed = await pipeline.feed(file, intent);
          status = fed.outcome?.status;
          assert.equal(status ?? `left for later: ${fed.released.join('; ')}`, SETTLES_AS[first.outcome], `planned "${first.outcome}"`);
        } finally {
          await pipeline.close();
        }
        if (status === 'succeeded') {
          const again = await plan(intent, request(AbortSignal.timeout(startTimeoutMs)));
          assert.equal(again.outcome, 'duplicate', `planned again after it was applied: ${JSON.stringify(again)}`);
          if (instance.history !== undefined) {
            const entries = await instance.history({
              namespace: intent.namespace,
              target: intent.target,
              signal: AbortSignal.timeout(startTimeoutMs),
            });
            assert.ok(
              entries.some(
                (entry) => entry.intentId === request(AbortSignal.timeout(1)).intentId && typeof entry.receipt?.ref === 'string',
              ),
              `history() does not list the intent it applied: ${JSON.stringify(entries)}`,
            );
          } else t.diagnostic('no history(): `conductor history` reports that this sink cannot tell its history');
        }
      },
    );
  });
}
