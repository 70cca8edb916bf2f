// The crash-point sweep outside `npm test`: every point × every workload, and with --full every
// hit of every point (the 1st, 2nd, … time the process reaches it, until a run no longer
// reaches it). Prints one line per exploration and the points × workloads matrix; exits 1 when
// any invariant is violated.
//
//   node test/crash/sweep.ts [--full] [--workload git|porch] [--point <name>] [--max-nth N]
//   npm run crash-sweep                 (the same as --full)
import { parseArgs } from 'node:util';
import { CRASH_POINTS, WORKLOADS, explore, pointsFor, type CrashPointName, type Exploration, type WorkloadName } from './harness.ts';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    workload: { type: 'string', multiple: true },
    point: { type: 'string', multiple: true },
    'max-nth': { type: 'string', default: '64' },
  },
});
const workloads = (values.workload ?? [...WORKLOADS]) as WorkloadName[];
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`--workload: unknown workload ${w} (${WORKLOADS.join(', ')})`);
for (const p of values.point ?? [])
  if (!(CRASH_POINTS as readonly string[]).includes(p)) throw new Error(`--point: unknown crash point ${p}`);
const maxNth = Number(values['max-nth']);

const results: Exploration[] = [];
for (const workload of workloads) {
  const points = pointsFor(workload).filter((p) => values.point === undefined || values.point.includes(p));
  for (const point of points) {
    for (let nth = 1; nth <= (values.full ? maxNth : 1); nth += 1) {
      const result = await explore(workload, point as CrashPointName, nth);
      results.push(result);
      const verdict = !result.reached ? 'not reached' : result.violations.length === 0 ? 'ok' : 'VIOLATED';
      console.log(`${workload.padEnd(6)} ${`${point}:${nth}`.padEnd(34)} ${verdict}`);
      for (const v of result.violations) console.log(`         - ${v}`);
      for (const n of result.notes) console.log(`         (note) ${n}`);
      if (!result.reached) break;
    }
  }
}

console.log('\npoints × workloads (hits explored, violations)');
console.log(`${'point'.padEnd(30)} ${workloads.map((w) => w.padEnd(16)).join(' ')}`);
for (const point of CRASH_POINTS) {
  const cells = workloads.map((w) => {
    const mine = results.filter((r) => r.workload === w && r.point === point);
    if (mine.length === 0) return '-'.padEnd(16);
    const reached = mine.filter((r) => r.reached);
    const bad = mine.filter((r) => r.violations.length > 0);
    return (reached.length === 0 ? 'not reached' : `${reached.length} hit(s), ${bad.length} bad`).padEnd(16);
  });
  console.log(`${point.padEnd(30)} ${cells.join(' ')}`);
}
const reached = results.filter((r) => r.reached).length;
const violated = results.filter((r) => r.violations.length > 0);
console.log(`\n${results.length} explorations, ${reached} crashed at their point, ${violated.length} with violations`);
process.exitCode = violated.length === 0 ? 0 : 1;
