// Renders kustomizations with `kubectl kustomize` (kubectl >= 1.27 embeds kustomize v5).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { isKObject, type KObject, type RenderedSet } from './objects.ts';

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const KUSTOMIZE_DIR = join(REPO_ROOT, 'kustomize');
export const BASE_DIR = join(KUSTOMIZE_DIR, 'base');
export const COMPONENTS_DIR = join(KUSTOMIZE_DIR, 'components');
export const OVERLAYS_DIR = join(KUSTOMIZE_DIR, 'overlays');
export const BUNDLES_DIR = join(REPO_ROOT, 'bundles');

export const OVERLAYS = ['dev', 'staging', 'production'] as const;

/** The kubectl to run: $KUBECTL, else kubectl on PATH. */
export function kubectlBinary(): string {
  return process.env['KUBECTL'] ?? 'kubectl';
}

/** Parses a multi-document YAML stream into Kubernetes objects; refuses anything else. */
export function parseManifests(text: string, source: string): KObject[] {
  const objects: KObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isKObject(value)) throw new Error(`${source}: a document is not a Kubernetes object`);
    objects.push(value);
  }
  return objects;
}

const cache = new Map<string, Promise<RenderedSet>>();

/** `kubectl kustomize <dir>`, parsed. Results are cached per directory for this process. */
export function renderDir(dir: string, name = relative(REPO_ROOT, dir)): Promise<RenderedSet> {
  const key = resolve(dir);
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = renderUncached(key, name);
    cache.set(key, pending);
  }
  return pending;
}

async function renderUncached(dir: string, name: string): Promise<RenderedSet> {
  if (!existsSync(dir)) throw new Error(`${name}: ${dir} does not exist`);
  try {
    const { stdout } = await run(kubectlBinary(), ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 });
    return { name, objects: parseManifests(stdout, name) };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl kustomize ${name} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

export function renderOverlay(overlay: string): Promise<RenderedSet> {
  return renderDir(join(OVERLAYS_DIR, overlay), `overlay ${overlay}`);
}

/** The component names under kustomize/components, read from disk so new ones are covered. */
export async function listComponents(): Promise<string[]> {
  const entries = await readdir(COMPONENTS_DIR, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(COMPONENTS_DIR, e.name, 'kustomization.yaml')))
    .map((e) => e.name)
    .sort();
}

/** Every subset of the given names (the empty one included), smallest first. */
export function subsets<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 0; mask < 1 << items.length; mask++) {
    out.push(items.filter((_, i) => (mask & (1 << i)) !== 0));
  }
  return out.sort((a, b) => a.length - b.length);
}

/**
 * Renders the base with the given components through a throwaway kustomization (each component
 * applies its own config patch); with `configText`, that text replaces the base's
 * conductor.config.json.
 */
export async function renderCombination(components: readonly string[], configText?: string): Promise<RenderedSet> {
  const name = ['base', ...components].join(' + ');
  const dir = await mkdtemp(join(tmpdir(), 'conductor-gitops-'));
  try {
    // kustomize refuses absolute resource paths, so point at the repo relatively.
    const kustomization: Record<string, unknown> = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(dir, BASE_DIR)],
      components: components.map((c) => relative(dir, join(COMPONENTS_DIR, c))),
    };
    if (configText !== undefined) {
      await writeFile(join(dir, 'conductor.config.json'), configText);
      kustomization['configMapGenerator'] = [
        { name: 'conductor-config', namespace: 'conductor', behavior: 'replace', files: ['conductor.config.json'] },
      ];
    }
    await writeFile(join(dir, 'kustomization.yaml'), stringify(kustomization));
    return await renderUncached(dir, name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the jobs with at most `limit` in flight, keeping their order in the result. */
export async function inParallel<T, R>(items: readonly T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
