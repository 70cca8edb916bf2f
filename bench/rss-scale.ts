// `node bench/rss-scale.ts [--counts 5000,50000] [--runs 3]` — the peak-RSS part of scenario (c)
// on its own (about ten minutes a round on two loaded cores, most of it the 50,000 run):
// `conductor once` under the image's memory bounds with N intents in one namespace (5,000
// packages, then edited over and over; grouped commits), the runs interleaved, and the median
// peak RSS of each size with the ratio of the largest to the smallest.
import { parseArgs } from 'node:util';
import { imageEnv } from './lib/cli.ts';
import { holdScratch, scratch } from './lib/config.ts';
import { median } from './lib/stats.ts';
import { measureConductor } from './scenarios/git.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { counts: { type: 'string', default: '5000,50000' }, runs: { type: 'string', default: '1' } },
  strict: true,
});
const counts = values.counts.split(',').map(Number);
const runs = Number(values.runs);
const held = holdScratch();
const usage = scratch('rss-usage');
const peaks = new Map<number, number[]>(counts.map((n) => [n, []]));
try {
  for (let round = 0; round < runs; round += 1) {
    for (const count of round % 2 === 0 ? counts : [...counts].reverse()) {
      const m = await measureConductor({ count, namespaces: 1, packages: 5_000, concurrency: 64, group: 64, env: imageEnv() }, usage.dir);
      peaks.get(count)!.push(m.maxRssMiB);
      console.log(`${count} intents: peak RSS ${m.maxRssMiB.toFixed(1)} MiB, ${(m.wallMs / 1000).toFixed(1)} s, ${m.commits} commits`);
    }
  }
} finally {
  usage.remove();
  held.release();
}
const medians = counts.map((n) => median(peaks.get(n)!));
for (const [i, n] of counts.entries())
  console.log(
    `${n}: median peak RSS ${medians[i]!.toFixed(1)} MiB (${peaks
      .get(n)!
      .map((x) => x.toFixed(1))
      .join(', ')})`,
  );
if (counts.length > 1) console.log(`ratio ${counts.at(-1)}/${counts[0]}: ${(medians.at(-1)! / medians[0]!).toFixed(2)}×`);
