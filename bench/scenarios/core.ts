// (a) The core: an in-memory source feeding envelopes straight into the pipeline (acquire →
// process), every default stage on (schema-validate, sanitize, rate-limit not binding), a null
// sink, audit-log and prometheus on. Compared, in the same run and at the same concurrency, with
// the bare loop (bare.ts: parse, validate, ledger row before and after, audit line), with the
// checked bare loop (the bare loop plus the product's required work, still no framework) and with
// the compute-only floor (parse and validate, nothing durable).
import { join } from 'node:path';
import { contentHash } from '../../core/intent/identity.ts';
import { benchConfig, buildConductor, scratch } from '../lib/config.ts';
import { BareAudit, BareLedger, BareMetrics, intentValidator, parseAndValidate, pool, sanitized } from '../lib/bare.ts';
import { inChild } from '../lib/child.ts';
import { encodedIntents, type Item } from '../lib/intents.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { NULL_SINK, nullSink } from '../lib/sinks.ts';
import { median } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';
import type { Envelope } from '../../core/index.ts';

export interface CoreArgs {
  count: number;
  warmup: number;
  concurrency: number;
  /** Plugins left out (to see what the core alone costs). */
  without?: string[];
}

export interface Measured {
  count: number;
  elapsedMs: number;
  /** User + system CPU of the process over the measured part. */
  cpuMs: number;
  ok: number;
}

async function timed(count: number, run: () => Promise<number>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const ok = await run();
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { count, elapsedMs, cpuMs: (used.user + used.system) / 1000, ok };
}

/**
 * Runs `each` over the warm-up intents, then times it over the measured ones, `concurrency` at a
 * time. An intent that fails ends the run (the pool rejects), so a finished run did them all.
 */
async function warmedUp(args: CoreArgs, each: (item: Item) => Promise<void>): Promise<Measured> {
  const run = async (items: Item[]) => {
    await pool(items, args.concurrency, each);
    return items.length;
  };
  await run(encodedIntents(args.warmup, 'warmup'));
  const items = encodedIntents(args.count, 'measured');
  return timed(args.count, () => run(items));
}

/** Conductor: the real pipeline, fed in memory. */
export async function measureConductor(args: CoreArgs): Promise<Measured> {
  const dir = scratch('core');
  try {
    const config = benchConfig({
      dataDir: dir.dir,
      concurrency: args.concurrency,
      fsSource: false,
      sink: { [NULL_SINK]: {} },
      modules: { [NULL_SINK]: nullSink },
    });
    const plugins = config['plugins'] as Record<string, unknown>;
    for (const name of args.without ?? []) delete plugins[name];
    const conductor = await buildConductor(config, 'once');
    await conductor.start();
    const feed = async (items: Item[]): Promise<number> => {
      let ok = 0;
      let settled = 0;
      let allSettled!: () => void;
      const done = new Promise<void>((resolve) => (allSettled = resolve));
      const onOutcome = (status: string | undefined) => {
        if (status === 'succeeded') ok += 1;
        if (++settled === items.length) allSettled();
      };
      for (const item of items) {
        const slot = await conductor.pipeline.acquire();
        const envelope: Envelope = {
          file: item.file,
          source: 'bench',
          bytes: item.bytes,
          receivedAt: Date.now(),
          ack: async () => undefined,
          release: () => undefined,
        };
        slot.process(envelope).then(
          (o) => onOutcome(o?.status),
          () => onOutcome(undefined),
        );
      }
      await done;
      return ok;
    };
    await feed(encodedIntents(args.warmup, 'warmup'));
    const items = encodedIntents(args.count, 'measured');
    const result = await timed(args.count, () => feed(items));
    await conductor.stop();
    return result;
  } finally {
    dir.remove();
  }
}

/** The bare loop: steps 1–7 of bare.ts with no sink action (`group`: with group commit). */
export async function measureBare(args: CoreArgs & { group?: boolean }): Promise<Measured> {
  const dir = scratch('core-bare');
  const validate = intentValidator();
  const ledger = new BareLedger(join(dir.dir, 'ledger.sqlite'), { group: args.group ?? false });
  const audit = new BareAudit(join(dir.dir, 'audit.log'));
  try {
    return await warmedUp(args, async (item) => {
      const { id } = parseAndValidate(validate, item.file, item.bytes);
      ledger.put(id, item.file, 'submitting');
      await ledger.flush();
      await undefined; // the sink call (none), still an asynchronous boundary as any sink is
      ledger.put(id, item.file, 'succeeded', '{"sink":"none"}');
      await ledger.flush();
      audit.write({ intentId: id, file: item.file, outcome: 'succeeded' });
    });
  } finally {
    ledger.close();
    audit.close();
    dir.remove();
  }
}

/**
 * The checked bare loop: steps 1–7 and 9–13 of bare.ts, with group commit — the bare loop plus
 * the work the product is required to do (sanitizing, content hash, duplicate lookup, row
 * checksums, chained audit, metrics), still with no framework. Conductor against it is what the
 * framework itself costs.
 */
export async function measureBareChecked(args: CoreArgs): Promise<Measured> {
  const dir = scratch('core-bare-checked');
  const validate = intentValidator();
  const ledger = new BareLedger(join(dir.dir, 'ledger.sqlite'), { group: true, checked: true });
  const audit = new BareAudit(join(dir.dir, 'audit.log'), { chained: true });
  const metrics = new BareMetrics();
  try {
    return await warmedUp(args, async (item) => {
      const receivedAt = Date.now();
      const marks = [performance.now()];
      const { intent, id } = parseAndValidate(validate, item.file, item.bytes);
      marks.push(performance.now());
      const content = contentHash(sanitized(intent)); // step 10
      marks.push(performance.now());
      if (ledger.get(id) === 'succeeded') throw new Error(`${item.file}: a duplicate in the benchmark's own intents`);
      marks.push(performance.now());
      ledger.put(id, item.file, 'submitting');
      await ledger.flush();
      await undefined; // the sink call (none), still an asynchronous boundary as any sink is
      ledger.put(id, item.file, 'succeeded', `{"sink":"none","content":"${content}"}`);
      await ledger.flush();
      marks.push(performance.now());
      audit.write({ intentId: id, file: item.file, outcome: 'succeeded', content });
      marks.push(performance.now());
      metrics.record(marks, receivedAt);
    });
  } finally {
    ledger.close();
    audit.close();
    dir.remove();
  }
}

/** The floor: steps 1–3 only (nothing durable). */
export async function measureCompute(args: CoreArgs): Promise<Measured> {
  const validate = intentValidator();
  return warmedUp(args, async (item) => {
    parseAndValidate(validate, item.file, item.bytes);
    await undefined;
  });
}

const rate = (m: Measured) => (m.count / m.elapsedMs) * 1000;
const cpuPer = (m: Measured) => (m.cpuMs * 1000) / m.count;

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const args: CoreArgs = { count: ctx.quick ? 6_000 : 30_000, warmup: ctx.quick ? 2_000 : 5_000, concurrency: 32 };
  const self = import.meta.url;
  const conductor: Measured[] = [];
  const bare: Measured[] = [];
  const grouped: Measured[] = [];
  const compute: Measured[] = [];
  const checked: Measured[] = [];
  const coreOnly: Measured[] = [];
  const without = ['schema-validate', 'sanitize', 'rate-limit', 'audit-log', 'prometheus'];
  for (let i = 0; i < ctx.runs; i += 1) {
    ctx.log(`(a) run ${i + 1}/${ctx.runs}`);
    // Alternating the order spreads any drift in the machine's load over both sides.
    const order = i % 2 === 0 ? (['c', 'b', 'g', 'k', 'f'] as const) : (['b', 'g', 'k', 'f', 'c'] as const);
    for (const which of order) {
      if (which === 'c') conductor.push(await inChild<Measured>(self, 'measureConductor', args, 'a-conductor'));
      if (which === 'b') bare.push(await inChild<Measured>(self, 'measureBare', args, 'a-bare'));
      if (which === 'g') grouped.push(await inChild<Measured>(self, 'measureBare', { ...args, group: true }, 'a-bare-group'));
      if (which === 'k') checked.push(await inChild<Measured>(self, 'measureBareChecked', args, 'a-bare-checked'));
      if (which === 'f') compute.push(await inChild<Measured>(self, 'measureCompute', args, 'a-compute'));
    }
    coreOnly.push(await inChild<Measured>(self, 'measureConductor', { ...args, without }, 'a-core-only'));
  }
  const failures = conductor.filter((m) => m.ok !== m.count).length;
  // The bare limit is the grouped loop: the ledger commits the writes of one turn together too.
  const ratios = conductor.map((c, i) => rate(grouped[i]!) / rate(c));
  const cpuRatios = conductor.map((c, i) => cpuPer(c) / cpuPer(grouped[i]!));
  const checkedRatios = conductor.map((c, i) => rate(checked[i]!) / rate(c));
  return {
    id: 'a',
    title: 'core: in-memory source → all default stages → null sink (audit + metrics on)',
    status: 'ok',
    setup: { ...args, runs: ctx.runs, sink: 'null (bench plugin)', source: 'in-memory (pipeline.acquire/slot.process)' },
    figures: [
      figure('throughput', 'conductor throughput', 'intents/s', conductor.map(rate), { op: '>=', value: 20_000 }),
      figure('bareGroupThroughput', 'bare loop (group commit, as the ledger): the bare limit', 'intents/s', grouped.map(rate)),
      figure('ratio', 'conductor/bare time per intent', '×', ratios, { op: '<=', value: 1.5 }),
      figure('bareThroughput', 'bare loop with one transaction per write', 'intents/s', bare.map(rate)),
      figure('computeThroughput', 'compute-only floor (parse+validate)', 'intents/s', compute.map(rate)),
      figure('cpuPerIntent', 'conductor CPU per intent', 'µs', conductor.map(cpuPer)),
      figure('bareCpuPerIntent', 'bare CPU per intent (group commit)', 'µs', grouped.map(cpuPer)),
      figure('cpuRatio', 'conductor/bare CPU per intent', '×', cpuRatios),
      figure(
        'checkedCpuPerIntent',
        'checked bare loop CPU per intent (+ sanitize, content hash, lookup, row checksums, chained audit, metrics)',
        'µs',
        checked.map(cpuPer),
      ),
      figure(
        'checkedOverBare',
        'checked bare loop/bare time per intent: the required work alone',
        '×',
        checked.map((k, i) => rate(grouped[i]!) / rate(k)),
      ),
      figure('checkedRatio', 'conductor/checked bare loop time per intent: the framework', '×', checkedRatios),
      figure(
        'coreOnlyThroughput',
        'core alone (null sink; no validate, sanitize, rate-limit, audit, metrics plugins)',
        'intents/s',
        coreOnly.map(rate),
      ),
      figure('coreOnlyCpuPerIntent', 'core alone: CPU per intent', 'µs', coreOnly.map(cpuPer)),
    ],
    notes: [
      `bare = parse + validate (same schema) + ledger row before and after (SQLite WAL, the writes of one turn in one transaction) + one audit line, at concurrency ${args.concurrency}`,
      'checked bare loop = the bare loop + what the product is required to do besides (bench/lib/bare.ts steps 9–13), still no framework',
      ...(failures > 0 ? [`${failures} run(s) had intents that did not succeed`] : []),
      `median wall time per run: conductor ${median(conductor.map((m) => m.elapsedMs)).toFixed(0)} ms, bare ${median(grouped.map((m) => m.elapsedMs)).toFixed(0)} ms`,
    ],
  };
}
