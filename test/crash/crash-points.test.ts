// Crash-point exploration in `npm test`, the short sweep: each crash point once (its first hit)
// on the workload whose sink reaches it — the git sink for the core, source and git points, the
// Porch simulator for the Porch points and the ledger step before a submission. Each case runs
// the real CLI twice (crashed, then restarted), so a failure names the point and the broken
// invariant. The full sweep (every hit of every point, both workloads) runs outside:
// `npm run crash-sweep`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRASH_POINTS, explore, type CrashPointName, type WorkloadName } from './harness.ts';
import { parseCrashSpec } from '../../core/delivery/crash-points.ts';
import { REPO_ROOT } from '../support/cli.ts';

/** Source files of the delivery path, with the crash points they name. */
function crashPointsInCode(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(join(REPO_ROOT, path), 'utf8').matchAll(/crashPoint(?:\(|: )'([^']+)'/g))
          found.set(m[1]!, [...(found.get(m[1]!) ?? []), path]);
      }
    }
  };
  walk('core');
  walk('plugins');
  return found;
}

test('every crash point in the catalogue is placed in the code exactly once, and none outside it', () => {
  const inCode = crashPointsInCode();
  for (const point of CRASH_POINTS)
    assert.equal(inCode.get(point)?.length, 1, `${point} is placed once (found in ${inCode.get(point)?.join(', ') ?? 'nothing'})`);
  assert.deepEqual(
    [...inCode.keys()].filter((p) => !(CRASH_POINTS as readonly string[]).includes(p)),
    [],
  );
});

test('CONDUCTOR_CRASH_AT is read as point[:nth]; anything else crashes nowhere', () => {
  assert.deepEqual(parseCrashSpec('git.ref-updated'), { point: 'git.ref-updated', nth: 1 });
  assert.deepEqual(parseCrashSpec('ledger.before-commit:3'), { point: 'ledger.before-commit', nth: 3 });
  for (const bad of [undefined, '', ':2', 'git.ref-updated:0', 'git.ref-updated:x', 'Git.Ref'])
    assert.equal(parseCrashSpec(bad), undefined, String(bad));
});

/** The short sweep: each point on the one workload that exercises it best (the full sweep does both). */
const SHORT_SWEEP: [WorkloadName, CrashPointName][] = CRASH_POINTS.map((point) => [point.startsWith('porch.') ? 'porch' : 'git', point]);
SHORT_SWEEP.push(['porch', 'delivery.before-submit'], ['porch', 'delivery.succeeded-recorded']);

for (const [workload, point] of SHORT_SWEEP) {
  test(
    `crash harness (${workload}): killed at ${point}, restarted: exactly once, newest wins, repository whole, nothing left behind`,
    { timeout: 120_000 },
    async () => {
      const result = await explore(workload, point, 1);
      assert.ok(result.reached, `the ${workload} workload reaches ${point}`);
      assert.deepEqual(result.violations, [], `invariants after a crash at ${point} (${workload})`);
    },
  );
}
