// `node bench/core-parts.ts [--rounds 3] [--count 30000]` — what each plugin of scenario (a)
// costs: the same pipeline with every default plugin, then with each left out in turn, then with
// none (the core alone), and the bare loop with group commit, each in a fresh process, the order
// turned round every round. Prints the median CPU time per intent of each, and what leaving a
// plugin out saves: the median over the rounds of the saving within a round, since the machine's
// speed can change from one minute to the next and the variants of one round run close together.
// CPU time, not throughput: it depends less on what else the machine runs.
import { parseArgs } from 'node:util';
import { inChild } from './lib/child.ts';
import { holdScratch } from './lib/config.ts';
import { median } from './lib/stats.ts';
import type { CoreArgs, Measured } from './scenarios/core.ts';

const PLUGINS = ['schema-validate', 'sanitize', 'rate-limit', 'audit-log', 'prometheus'];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { rounds: { type: 'string', default: '3' }, count: { type: 'string', default: '30000' }, help: { type: 'boolean' } },
  strict: true,
});
if (values.help) {
  console.log('usage: node bench/core-parts.ts [--rounds N] [--count N]   (about a minute a round)');
  process.exit(0);
}
const rounds = Number(values.rounds);
const count = Number(values.count);
if (!(Number.isInteger(rounds) && rounds > 0 && Number.isInteger(count) && count >= 1000)) {
  console.error('core-parts: --rounds must be a positive integer and --count an integer of at least 1000');
  process.exit(2);
}

interface Variant {
  name: string;
  measure: string;
  args: CoreArgs & { group?: boolean };
}
const base: CoreArgs = { count, warmup: Math.min(5_000, count), concurrency: 32 };
const variants: Variant[] = [
  { name: 'every default plugin', measure: 'measureConductor', args: base },
  ...PLUGINS.map((plugin) => ({ name: `without ${plugin}`, measure: 'measureConductor', args: { ...base, without: [plugin] } })),
  { name: 'the core alone (null sink, no plugin)', measure: 'measureConductor', args: { ...base, without: PLUGINS } },
  { name: 'bare loop (group commit)', measure: 'measureBare', args: { ...base, group: true } },
];

const module = new URL('./scenarios/core.ts', import.meta.url).href;
const cpuPerIntent = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const held = holdScratch();
try {
  for (let round = 0; round < rounds; round += 1) {
    console.error(`round ${round + 1}/${rounds}`);
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const m = await inChild<Measured>(module, variant.measure, variant.args, 'a-parts');
      if (m.ok !== m.count) throw new Error(`${variant.name}: ${m.count - m.ok} of ${m.count} intents did not succeed`);
      cpuPerIntent.get(variant.name)!.push((m.cpuMs * 1000) / m.count);
    }
  }
} finally {
  held.release();
}

const allRuns = cpuPerIntent.get(variants[0]!.name)!;
console.log(`CPU per intent, median of ${rounds} (µs), ${count} intents at concurrency ${base.concurrency}:`);
for (const variant of variants) {
  const runs = cpuPerIntent.get(variant.name)!;
  const saving = variant.name.startsWith('without ') ? `  saves ${median(runs.map((x, i) => allRuns[i]! - x)).toFixed(1)}` : '';
  console.log(
    `  ${variant.name.padEnd(40)} ${median(runs).toFixed(1).padStart(6)}${saving}   (${runs.map((x) => x.toFixed(1)).join(', ')})`,
  );
}
