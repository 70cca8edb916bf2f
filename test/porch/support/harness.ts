// Shared set-up for the porch-sink tests: a simulator with the sink's repository, a data
// directory with intents in handoff/, and the real pipeline (fs-source → schema-validate →
// porch-sink) built in-process from a config, exactly as the CLI builds it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { createConductor, type Conductor } from '../../../core/app.ts';
import { resolveConfig } from '../../../core/config/validate.ts';
import { silentLogger, type Logger } from '../../../core/log.ts';
import { INTENT_ID_ANNOTATION, type Intent } from '../../../core/index.ts';
import { intentIdOf } from '../../../core/intent/identity.ts';
import { startPorchSim, type PorchSim, type PorchSimOptions } from '../../support/porch-sim/index.ts';
import { dropIntent, list, makeDataDir, scaling } from '../../support/data-dir.ts';

export const NAMESPACE = 'porch-demo';
export const REPOSITORY = 'deployments';

/** Issue 3 acceptance 1: 20% 5xx, 10% 429 with Retry-After, 10% of writes applied and then answered 504. */
export const NOISY_PORCH = { error5xxRate: 0.2, error5xxStatus: 503, rate429: 0.1, applyThenFailRate: 0.1 } as const;

/** Where new targets' packages come from (issue 18 defect 6): a blueprint in a repository of its own. */
export const BLUEPRINT_REPOSITORY = 'blueprints';
export const BLUEPRINT_PACKAGE = 'app-blueprint';
export const BLUEPRINT_IMAGE = 'registry.example/app:1.0.0';
export const BLUEPRINT = { repository: BLUEPRINT_REPOSITORY, package: BLUEPRINT_PACKAGE } as const;

/** A blueprint as Nephio keeps them: a generic Deployment (its name and namespace are the downstream's to set). */
export function blueprintResources(image = BLUEPRINT_IMAGE): Record<string, string> {
  return {
    Kptfile:
      `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${BLUEPRINT_PACKAGE}\n  annotations:\n` +
      '    config.kubernetes.io/local-config: "true"\ninfo:\n  description: a scalable app\n',
    'deployment.yaml': [
      '# the app, as every target starts',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: app',
      '  labels:',
      '    app: app',
      'spec:',
      '  replicas: 1',
      '  selector:',
      '    matchLabels:',
      '      app: app',
      '  template:',
      '    metadata:',
      '      labels:',
      '        app: app',
      '    spec:',
      '      containers:',
      '      - name: app',
      `        image: ${image}`,
      '',
    ].join('\n'),
  };
}

/**
 * A simulator in the sink's default namespace, with its default repository and the blueprint
 * repository holding one Published blueprint (kept whatever repositories and packages a test adds).
 */
export function startSim(options: PorchSimOptions = {}): Promise<PorchSim> {
  const repositories = options.repositories ?? [{ name: REPOSITORY }];
  const blueprint = {
    repository: BLUEPRINT_REPOSITORY,
    namespace: NAMESPACE,
    packageName: BLUEPRINT_PACKAGE,
    resources: blueprintResources(),
  };
  return startPorchSim({
    namespace: NAMESPACE,
    ...options,
    repositories: repositories.some((r) => r.name === BLUEPRINT_REPOSITORY)
      ? repositories
      : [...repositories, { name: BLUEPRINT_REPOSITORY }],
    packages: [blueprint, ...(options.packages ?? [])],
  });
}

export interface TestDataDir {
  root: string;
  handoff: string;
  cleanup(): void;
}

export function dataDirectory(): TestDataDir {
  return makeDataDir();
}

/**
 * The pipeline config for the porch tests: no debounce, no pacing, generous quick retries, and
 * the harness's blueprint for new targets (`blueprint: undefined` in `sink` leaves it out).
 */
export function porchConfig(dataDir: string, sink: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const sinkOptions = Object.fromEntries(Object.entries({ blueprint: BLUEPRINT, ...sink }).filter(([, value]) => value !== undefined));
  return {
    dataDir,
    logLevel: 'warn',
    concurrency: 16,
    requeueDelayMs: 50,
    retry: { maxAttempts: 0, initialDelayMs: 5, maxDelayMs: 100, budgetMs: 60_000 },
    plugins: {
      'fs-source': { debounceMs: 0 },
      'schema-validate': {},
      'porch-sink': sinkOptions,
    },
    ...extra,
  };
}

export async function buildConductor(
  config: Record<string, unknown>,
  mode: 'once' | 'run' = 'once',
  log: Logger = silentLogger(),
): Promise<Conductor> {
  const resolved = await resolveConfig(config, { source: 'porch test', baseDir: String(config['dataDir']) });
  return createConductor(resolved, { log, mode });
}

/** A logger that keeps its JSON records in memory, for asserting on warnings. */
export function capturingLogger(): { log: Logger; records(): { level: number; msg: string; [key: string]: unknown }[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { log, records: () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }) };
}

/** `conductor once` in-process: start, wait until the backlog is settled or released, stop. */
export async function runOnce(config: Record<string, unknown>, log?: Logger): Promise<Conductor> {
  const conductor = await buildConductor(config, 'once', log);
  await conductor.start();
  try {
    await conductor.idle();
  } finally {
    await conductor.stop();
  }
  return conductor;
}

export interface Dropped {
  file: string;
  intent: Intent;
  intentId: string;
}

/** Writes `count` scaling intents, each for its own target, with replicas 1..9. */
export function dropScalingIntents(handoff: string, count: number, prefix = 'nf'): Dropped[] {
  const dropped: Dropped[] = [];
  for (let i = 0; i < count; i += 1) {
    const file = `intent-${prefix}-${String(i).padStart(4, '0')}.json`;
    const intent = scaling(`${prefix}-${i}`, (i % 9) + 1);
    dropIntent(handoff, file, intent, { atomic: true });
    dropped.push({ file, intent, intentId: intentIdOf(file, intent as unknown as Record<string, unknown>) });
  }
  return dropped;
}

export function filesIn(root: string, dir: 'handoff' | 'processed' | 'failed'): string[] {
  return list(join(root, dir)).filter((name) => name.endsWith('.json') && !name.endsWith('.error.json'));
}

/** The error.json records of failed/ (for messages in assertion failures). */
export function failedReasons(root: string): string[] {
  const dir = join(root, 'failed');
  return list(dir)
    .filter((n) => n.endsWith('.error.json'))
    .map((n) => readFileSync(join(dir, n), 'utf8'));
}

export function removeAll(...paths: string[]): void {
  for (const path of paths) rmSync(path, { recursive: true, force: true });
}

/**
 * Acceptance (1) of issue 3, as assertions: every intent has exactly one PackageRevision, in
 * its deterministic workspace, created once, annotated with its id, in the expected lifecycle,
 * whose Deployment carries the intent's replicas; and nothing else exists in the repository.
 */
export function assertDeliveredExactlyOnce(sim: PorchSim, dropped: Dropped[], lifecycle: 'Published' | 'Proposed', createsEach = 1): void {
  const perWorkspace = sim.revisionsPerWorkspace({ repository: REPOSITORY });
  const creates = sim.writesPerWorkspace('create');
  assert.equal(perWorkspace.size, dropped.length, 'one workspace per intent, no strays');
  for (const { intent, intentId } of dropped) {
    const key = `${REPOSITORY}/${intent.target}/intent-${intentId}`;
    assert.equal(perWorkspace.get(key), 1, `exactly one revision in ${key}`);
    assert.equal(creates.get(key) ?? 0, createsEach, `exactly ${createsEach} applied create(s) for ${key}`);
    const [revision] = sim.listRevisions({ repository: REPOSITORY, packageName: intent.target, workspaceName: `intent-${intentId}` });
    const { metadata, spec } = revision!;
    assert.equal(spec.lifecycle, lifecycle, `${metadata.name} is ${lifecycle}`);
    assert.equal(metadata.annotations?.[INTENT_ID_ANNOTATION], intentId, `${metadata.name} names its intent`);
    assert.equal(
      replicasIn(sim.getResources(metadata.name, NAMESPACE)!, intent.target),
      intent.replicas,
      `${metadata.name} has the intent's replicas`,
    );
  }
}

/** spec.replicas of the Deployment named `target` in a package's files. */
export function replicasIn(files: Record<string, string>, target: string): number | undefined {
  for (const [name, text] of Object.entries(files)) {
    if (!/\.ya?ml$/.test(name)) continue;
    for (const doc of YAML.parseAllDocuments(text)) {
      const object = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { replicas?: number } } | null;
      if (object?.kind === 'Deployment' && object.metadata?.name === target) return object.spec?.replicas;
    }
  }
  return undefined;
}
