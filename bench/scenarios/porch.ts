// (b) Files → the Porch simulator (no added latency), approve on: every intent becomes a
// Published PackageRevision through the full flow (list, create, read resources, write them,
// propose, list, approve — 7 requests). Conductor runs as the real CLI (`conductor once`); the
// simulator runs in a process of its own. The bare loop makes 7 requests too, with undici at the
// same concurrency (same per-target ordering), with the ledger rows and audit line of bare.ts;
// the naive peer does them one file at a time with fetch.
//
// Round trips: the sink's flow alone, one intent at a time, against the simulator with 20 ms
// added to every request (a remote apiserver): requests per intent by kind, and the p50/p99 time
// per intent, for new packages (cloned from the blueprint) and new revisions of existing ones.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { CircuitBreaker, INTENT_ID_ANNOTATION, applyIntentToPackage, type Intent } from '../../core/index.ts';
import { intentIdOf } from '../../core/intent/identity.ts';
import { silentLogger } from '../../core/log.ts';
import { KubeClient, type RequestOptions } from '../../plugins/porch-sink/client.ts';
import { BlueprintCache, runFlow } from '../../plugins/porch-sink/flow.ts';
import { PorchApi } from '../../plugins/porch-sink/porch-api.ts';
import { BareAudit, BareLedger, intentValidator, parseAndValidate, pool } from '../lib/bare.ts';
import { inChild, profileArgs } from '../lib/child.ts';
import { auditTimes, runCli, steadyRate } from '../lib/cli.ts';
import { benchConfig, REPO_ROOT, scratch, writeConfig } from '../lib/config.ts';
import { benchIntent, fileName, writeBacklog } from '../lib/intents.ts';
import { PORCH_BLUEPRINT, PORCH_NAMESPACE, PORCH_REPOSITORY, requestKind } from '../lib/porch-sim-server.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { percentile } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';

const SIM_SERVER = fileURLToPath(new URL('../lib/porch-sim-server.ts', import.meta.url));
const CONCURRENCY = 16;
const API = `/apis/porch.kpt.dev/v1alpha1/namespaces/${PORCH_NAMESPACE}`;

interface Held {
  published: number;
  requests: number;
  byKind: Record<string, number>;
}

interface Sim {
  url: string;
  /** Stops it; resolves with what it holds. */
  stop(): Promise<Held>;
}

async function startSim(latencyMs = 0): Promise<Sim> {
  const args = [...profileArgs('b-simulator'), SIM_SERVER, '--latency-ms', String(latencyMs)];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error('the Porch simulator exited before it started');
  const { url } = JSON.parse(first.value) as { url: string };
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const last = await iterator.next();
      lines.close();
      return last.done ? { published: Number.NaN, requests: Number.NaN, byKind: {} } : (JSON.parse(last.value) as Held);
    },
  };
}

interface PorchMeasured {
  count: number;
  published: number;
  requests: number;
  wallMs: number;
  steadyRate: number;
}

export async function measureConductor(count: number, usageDir: string): Promise<PorchMeasured> {
  const dir = scratch('porch');
  const sim = await startSim();
  try {
    writeBacklog(join(dir.dir, 'handoff'), count, 'porch');
    const config = writeConfig(
      dir.dir,
      benchConfig({
        dataDir: dir.dir,
        concurrency: CONCURRENCY,
        sink: {
          'porch-sink': {
            server: sim.url,
            namespace: PORCH_NAMESPACE,
            repository: PORCH_REPOSITORY,
            blueprint: PORCH_BLUEPRINT,
            approve: true,
            concurrency: CONCURRENCY,
          },
        },
      }),
    );
    const run = await runCli(['once', '--config', config], { label: 'b-conductor', usageDir });
    if (run.code !== 0) throw new Error(`conductor once exited ${String(run.code)}: ${run.stderr.slice(-1500)}`);
    const { published, requests } = await sim.stop();
    return { count, published, requests, wallMs: run.wallMs, steadyRate: steadyRate(auditTimes(dir.dir)) };
  } catch (error) {
    await sim.stop().catch(() => undefined);
    throw error;
  } finally {
    dir.remove();
  }
}

interface Revision {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; resourceVersion?: string };
  spec: {
    packageName?: string;
    repository?: string;
    workspaceName?: string;
    lifecycle?: string;
    revision?: number;
    resources?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** The Porch flow for one intent, with no resume logic (the bare loop assumes a clean server). */
export async function porchFlow(
  call: (method: string, path: string, body?: unknown) => Promise<unknown>,
  intent: Intent,
  id: string,
): Promise<string> {
  const packageName = intent.target;
  const workspace = `intent-${id}`;
  const selector = encodeURIComponent(`spec.repository=${PORCH_REPOSITORY},spec.packageName=${packageName}`);
  const list = (await call('GET', `${API}/packagerevisions?fieldSelector=${selector}`)) as { items?: Revision[] | null };
  let latest: Revision | undefined;
  for (const r of list.items ?? []) {
    if (
      r.spec.lifecycle === 'Published' &&
      (r.spec.revision ?? 0) > 0 &&
      (latest === undefined || (r.spec.revision ?? 0) > (latest.spec.revision ?? 0))
    )
      latest = r;
  }
  const task =
    latest === undefined
      ? { type: 'init', init: { description: `${intent.target} in ${intent.namespace}`, keywords: ['conductor'] } }
      : { type: 'edit', edit: { sourceRef: { name: latest.metadata.name } } };
  const created = (await call('POST', `${API}/packagerevisions`, {
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: PORCH_NAMESPACE, annotations: { [INTENT_ID_ANNOTATION]: id } },
    spec: { packageName, repository: PORCH_REPOSITORY, workspaceName: workspace, lifecycle: 'Draft', tasks: [task] },
  })) as Revision;
  const name = created.metadata.name;
  const resources = (await call('GET', `${API}/packagerevisionresources/${name}`)) as Revision;
  const { files } = applyIntentToPackage(resources.spec.resources ?? {}, intent, id);
  await call('PUT', `${API}/packagerevisionresources/${name}`, { ...resources, spec: { ...resources.spec, resources: files } });
  const fresh = (await call('GET', `${API}/packagerevisions/${name}`)) as Revision;
  const proposed = (await call('PUT', `${API}/packagerevisions/${name}`, {
    ...fresh,
    spec: { ...fresh.spec, lifecycle: 'Proposed' },
  })) as Revision;
  await call('PUT', `${API}/packagerevisions/${name}/approval`, { ...proposed, spec: { ...proposed.spec, lifecycle: 'Published' } });
  return name;
}

/** Runs work for one key at a time (the same per-target ordering the pipeline keeps). */
function keyedSerial(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (key, work) => {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return run;
  };
}

async function drainBare(
  handoff: string,
  processed: string,
  dir: string,
  concurrency: number,
  call: (method: string, path: string, body?: unknown) => Promise<unknown>,
): Promise<number> {
  const validate = intentValidator();
  const ledger = new BareLedger(join(dir, 'ledger.sqlite'));
  const audit = new BareAudit(join(dir, 'audit.log'));
  const serial = keyedSerial();
  const started = performance.now();
  const names = readdirSync(handoff).filter((n) => n.startsWith('intent-') && n.endsWith('.json'));
  await pool(names, concurrency, async (name) => {
    const bytes = await fs.readFile(join(handoff, name));
    const { intent, id } = parseAndValidate(validate, name, bytes);
    ledger.put(id, name, 'submitting');
    const revision = await serial(String(intent['target']), () => porchFlow(call, intent as unknown as Intent, id));
    ledger.put(id, name, 'succeeded', revision);
    audit.write({ intentId: id, file: name, outcome: 'succeeded', receipt: revision });
    await fs.rename(join(handoff, name), join(processed, name));
  });
  const wallMs = performance.now() - started;
  ledger.close();
  audit.close();
  return wallMs;
}

async function measureWith(
  count: number,
  label: string,
  concurrency: number,
  makeCall: (url: string) => { call: (method: string, path: string, body?: unknown) => Promise<unknown>; close(): Promise<void> },
): Promise<PorchMeasured> {
  const dir = scratch(label);
  const sim = await startSim();
  try {
    const handoff = join(dir.dir, 'handoff');
    const processed = join(dir.dir, 'processed');
    writeBacklog(handoff, count, 'porch');
    mkdirSync(processed, { recursive: true });
    const client = makeCall(sim.url);
    const wallMs = await drainBare(handoff, processed, dir.dir, concurrency, client.call);
    await client.close();
    const { published, requests } = await sim.stop();
    return { count, published, requests, wallMs, steadyRate: (count / wallMs) * 1000 };
  } catch (error) {
    await sim.stop().catch(() => undefined);
    throw error;
  } finally {
    dir.remove();
  }
}

/** The bare loop: undici Pool with as many connections as the sink uses. */
export function measureBare(count: number): Promise<PorchMeasured> {
  return measureWith(count, 'porch-bare', CONCURRENCY, (url) => {
    const client = new Pool(url, { connections: CONCURRENCY });
    return {
      async call(method, path, body) {
        const response = await client.request({
          method: method as 'GET',
          path,
          headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.body.text();
        if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 300)}`);
        return JSON.parse(text) as unknown;
      },
      close: () => client.close(),
    };
  });
}

/** The naive peer: one file at a time, global fetch. */
export function measureNaive(count: number): Promise<PorchMeasured> {
  return measureWith(count, 'porch-naive', 1, (url) => ({
    async call(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as unknown;
    },
    close: async () => undefined,
  }));
}

/** Added to every request in the round-trip measurement: a remote apiserver's round trip. */
export const ROUND_TRIP_LATENCY_MS = 20;
/** As the sink keeps what the blueprint resolved to (plugins/porch-sink/index.ts). */
const BLUEPRINT_CACHE_MS = 10_000;

/** The sink's client, counting the requests the flow sends by kind on their way out. */
class CountingClient extends KubeClient {
  counts: Record<string, number> = {};

  override request<T>(options: RequestOptions): Promise<T> {
    const kind = requestKind(options.method, options.path);
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return super.request<T>(options);
  }
}

interface Pass {
  /** Time of each intent's flow, in ms. */
  ms: number[];
  /** Requests the flow sent in the pass, by kind. */
  requests: Record<string, number>;
}

export interface RoundTrips {
  /** One intent per target, each a new package (a clone of the blueprint). */
  newPackage: Pass;
  /** One more intent per target: a new revision (a copy of the latest) of an existing package. */
  newRevision: Pass;
  /** What the simulator received in all (cross-checks the client-side count). */
  serverRequests: number;
}

/**
 * The sink's flow (runFlow, with its real client) for `targets` new packages and then one new
 * revision of each, one intent at a time against the simulator with ROUND_TRIP_LATENCY_MS added
 * to every request, so that an intent's time is its round trips and nothing queued before it.
 */
export async function measureRoundTrips(targets: number): Promise<RoundTrips> {
  const sim = await startSim(ROUND_TRIP_LATENCY_MS);
  const tls = { rejectUnauthorized: true };
  const connection = { origin: sim.url, basePath: '', tls, token: undefined, source: 'bench', warnings: [] };
  const breaker = new CircuitBreaker({ name: 'porch-sink', failureThreshold: 1_000 });
  const client = new CountingClient({ connection, timeoutMs: 30_000, concurrency: CONCURRENCY, breaker });
  const api = new PorchApi(client);
  const blueprints = new BlueprintCache(BLUEPRINT_CACHE_MS);
  const pass = async (order: number): Promise<Pass> => {
    client.counts = {};
    const ms: number[] = [];
    for (let i = 0; i < targets; i += 1) {
      const started = performance.now();
      await oneIntent(api, blueprints, i, order, targets);
      ms.push(performance.now() - started);
    }
    return { ms, requests: client.counts };
  };
  try {
    const newPackage = await pass(1);
    const newRevision = await pass(2);
    await client.close();
    const { requests } = await sim.stop();
    return { newPackage, newRevision, serverRequests: requests };
  } catch (error) {
    await client.close();
    await sim.stop().catch(() => undefined);
    throw error;
  }
}

/** Intent `i` of pass `order` through the flow, as the sink runs it; it must end Published. */
async function oneIntent(api: PorchApi, blueprints: BlueprintCache, i: number, order: number, targets: number): Promise<void> {
  // The second pass changes every target's replicas, so that each intent writes a revision.
  const intent = { ...benchIntent(i, 'round-trips'), replicas: ((i + order) % 9) + 1 };
  const file = fileName(i + order * targets, 'round-trips');
  const intentId = intentIdOf(file, intent as unknown as Record<string, unknown>);
  const result = await runFlow(api, {
    intent,
    intentId,
    contentHash: `${intentId}-content`,
    order,
    at: { namespace: PORCH_NAMESPACE, repository: PORCH_REPOSITORY, packageName: intent.target },
    approve: true,
    blueprint: PORCH_BLUEPRINT,
    blueprints,
    signal: new AbortController().signal,
    traceparent: undefined,
    log: silentLogger(),
    plugin: 'porch-sink',
  });
  if (result.lifecycle !== 'Published') throw new Error(`${intent.target}: ${result.lifecycle}, not Published`);
}

function perIntent(pass: Pass): number {
  return Object.values(pass.requests).reduce((a, b) => a + b, 0) / pass.ms.length;
}

function byKind(pass: Pass): string {
  const count = pass.ms.length;
  return Object.entries(pass.requests)
    .map(([kind, n]) => `${kind} ${Math.round((n / count) * 100) / 100}`)
    .join(', ');
}

/** Whether the porch sink loads at all (it is being written elsewhere): the reason when not. */
async function unavailable(): Promise<string | undefined> {
  try {
    const module = (await import('../../plugins/porch-sink/index.ts')) as { default?: { name?: string } };
    if (module.default?.name !== 'porch-sink') return 'plugins/porch-sink does not export the porch-sink plugin';
    await import('../../test/support/porch-sim/index.ts');
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/** What the runs measured: the CLI, the bare loop, the naive peer, and the sink's round trips. */
interface PorchRuns {
  conductor: PorchMeasured[];
  bare: PorchMeasured[];
  naive: PorchMeasured[];
  roundTrips: RoundTrips[];
}

/** How much each run measures. */
interface PorchSizes {
  count: number;
  naiveCount: number;
  roundTripTargets: number;
}

/** Every run measures each step once, in reverse order every other run (neither always goes first). */
async function measureRuns(ctx: BenchContext, sizes: PorchSizes): Promise<PorchRuns> {
  const measured: PorchRuns = { conductor: [], bare: [], naive: [], roundTrips: [] };
  const usage = scratch('porch-usage');
  try {
    for (let i = 0; i < ctx.runs; i += 1) {
      ctx.log(`(b) run ${i + 1}/${ctx.runs}`);
      const steps = [
        async () => measured.conductor.push(await measureConductor(sizes.count, usage.dir)),
        async () => measured.bare.push(await inChild<PorchMeasured>(import.meta.url, 'measureBare', sizes.count, 'b-bare')),
        async () => measured.naive.push(await inChild<PorchMeasured>(import.meta.url, 'measureNaive', sizes.naiveCount, 'b-naive')),
        async () => {
          measured.roundTrips.push(await inChild<RoundTrips>(import.meta.url, 'measureRoundTrips', sizes.roundTripTargets, 'b-rtt'));
        },
      ];
      for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step();
    }
  } finally {
    usage.remove();
  }
  return measured;
}

function porchFigures({ conductor, bare, naive, roundTrips }: PorchRuns): ReturnType<typeof figure>[] {
  return [
    figure(
      'throughput',
      'conductor throughput (first → last settle)',
      'intents/s',
      conductor.map((m) => m.steadyRate),
      { op: '>=', value: 500 },
    ),
    figure(
      'bareThroughput',
      'bare loop throughput (undici, same requests)',
      'intents/s',
      bare.map((m) => m.steadyRate),
    ),
    figure(
      'ratio',
      'conductor/bare time per intent',
      '×',
      conductor.map((m, i) => bare[i]!.steadyRate / m.steadyRate),
      { op: '<=', value: 1.25 },
    ),
    figure(
      'naiveThroughput',
      'naive peer (one at a time, fetch)',
      'intents/s',
      naive.map((m) => m.steadyRate),
    ),
    figure(
      'requestsPerIntent',
      'requests per intent (conductor)',
      '',
      conductor.map((m) => m.requests / m.count),
    ),
    ...roundTripFigures(roundTrips),
  ];
}

function porchNotes({ conductor, bare, roundTrips }: PorchRuns): string[] {
  const short = conductor.filter((m) => m.published !== m.count).length;
  return [
    ...(short > 0 ? [`${short} conductor run(s) published fewer revisions than intents`] : []),
    `published per run: conductor ${conductor.map((m) => m.published).join(', ')}; bare ${bare.map((m) => m.published).join(', ')}`,
    ...roundTripNotes(roundTrips),
  ];
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const count = ctx.quick ? 100 : 500;
  const title = 'files → Porch simulator, full flow with approval (real CLI, `conductor once`)';
  const reason = await unavailable();
  if (reason !== undefined) {
    return { id: 'b', title, status: `not available: ${reason}`, setup: {}, figures: [], notes: [] };
  }
  const sizes: PorchSizes = { count, naiveCount: Math.round(count / 5), roundTripTargets: ctx.quick ? 20 : 60 };
  let measured: PorchRuns;
  try {
    measured = await measureRuns(ctx, sizes);
  } catch (error) {
    return {
      id: 'b',
      title,
      status: `failed: ${(error as Error).message.slice(0, 300)}`,
      setup: { intents: count },
      figures: [],
      notes: [],
    };
  }
  return {
    id: 'b',
    title,
    status: 'ok',
    setup: {
      intents: count,
      naiveIntents: sizes.naiveCount,
      roundTripTargets: sizes.roundTripTargets,
      roundTripLatencyMs: ROUND_TRIP_LATENCY_MS,
      concurrency: CONCURRENCY,
      sinkConcurrency: CONCURRENCY,
      approve: true,
      runs: ctx.runs,
      requestsPerIntent: 7,
    },
    figures: porchFigures(measured),
    notes: porchNotes(measured),
  };
}

function roundTripFigures(runs: RoundTrips[]): ReturnType<typeof figure>[] {
  const at = `${ROUND_TRIP_LATENCY_MS} ms per request`;
  const p = (pass: (r: RoundTrips) => Pass, q: number) =>
    runs.map((r) =>
      percentile(
        [...pass(r).ms].sort((a, b) => a - b),
        q,
      ),
    );
  const newRevisionRequests = runs.map((r) => perIntent(r.newRevision));
  const newPackageRequests = runs.map((r) => perIntent(r.newPackage));
  return [
    figure('requestsPerNewRevision', 'requests per intent, new revision of a package', '', newRevisionRequests),
    figure('requestsPerNewPackage', 'requests per intent, new package (blueprint reads too)', '', newPackageRequests),
    figure(
      'newRevisionP50',
      `time per intent, new revision, p50 (${at})`,
      'ms',
      p((r) => r.newRevision, 50),
    ),
    figure(
      'newRevisionP99',
      `time per intent, new revision, p99 (${at})`,
      'ms',
      p((r) => r.newRevision, 99),
    ),
    figure(
      'newPackageP50',
      `time per intent, new package, p50 (${at})`,
      'ms',
      p((r) => r.newPackage, 50),
    ),
    figure(
      'newPackageP99',
      `time per intent, new package, p99 (${at})`,
      'ms',
      p((r) => r.newPackage, 99),
    ),
  ];
}

function roundTripNotes(runs: RoundTrips[]): string[] {
  const last = runs.at(-1);
  if (last === undefined) return [];
  const total = (pass: Pass) => Object.values(pass.requests).reduce((a, b) => a + b, 0);
  const sent = total(last.newPackage) + total(last.newRevision);
  return [
    `round trips by kind, per intent: new revision: ${byKind(last.newRevision)}; ` + `new package: ${byKind(last.newPackage)}`,
    `round trips: the flow sent ${sent} requests, the simulator received ${last.serverRequests}`,
  ];
}
