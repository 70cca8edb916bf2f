// Package contents: the files `init` writes, what Porch reads back from the Kptfile, and a
// stand-in for `kpt fn render` (docs/porch.md §Writing resources, §Simulator state, §Simulator endpoints item 10).

import { Document, isMap, parseAllDocuments, parseDocument } from 'yaml';
import type { Condition, JsonObject, Locator } from './types.ts';

export const KPTFILE = 'Kptfile';
const LOCAL_CONFIG = 'config.kubernetes.io/local-config';

/** kpt's YAML writer puts sequence dashes at the parent key's indentation (compact style). */
const KYAML_STYLE = { indentSeq: false, lineWidth: 0 } as const;

export interface InitOptions {
  packageName: string;
  description?: string;
  keywords?: string[];
  site?: string;
}

/** The three files of kpt's default initializer (docs/porch.md §Writing resources). */
export function initFiles(options: InitOptions): Record<string, string> {
  const info: JsonObject = {};
  if (options.description !== undefined && options.description !== '') info['description'] = options.description;
  if (options.keywords !== undefined && options.keywords.length > 0) info['keywords'] = options.keywords;
  if (options.site !== undefined && options.site !== '') info['site'] = options.site;
  const kptfile = new Document({
    apiVersion: 'kpt.dev/v1',
    kind: 'Kptfile',
    metadata: { name: options.packageName, annotations: { [LOCAL_CONFIG]: 'true' } },
    info,
  });
  const readme =
    `# ${options.packageName}\n\n## Description\n${options.description ?? ''}\n\n## Usage\n\n` +
    `### Fetch the package\n\`kpt pkg get REPO_URI[.git]/PKG_PATH[@VERSION] ${options.packageName}\`\n\n` +
    `### Apply the package\n\`\`\`\nkpt live init ${options.packageName}\nkpt live apply ${options.packageName}\n\`\`\`\n`;
  const packageContext =
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n' +
    `    ${LOCAL_CONFIG}: "true"\ndata:\n  name: example\n`;
  return {
    [KPTFILE]: kptfile.toString(KYAML_STYLE),
    'README.md': readme,
    'package-context.yaml': packageContext,
  };
}

/** What Porch surfaces on the PackageRevision from the Kptfile. */
export interface KptfileFacts {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  readinessGates?: Array<{ conditionType: string }>;
  conditions?: Condition[];
  upstreamLock?: Locator;
}

const factsCache = new Map<string, KptfileFacts>();

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as JsonObject)) out[k] = typeof v === 'string' ? v : String(v);
  return Object.keys(out).length === 0 ? undefined : out;
}

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** Read the facts Porch mirrors onto the PackageRevision; an unreadable Kptfile yields none. */
export function kptfileFacts(kptfileText: string | undefined): KptfileFacts {
  if (kptfileText === undefined) return {};
  const cached = factsCache.get(kptfileText);
  if (cached !== undefined) return cached;
  let facts: KptfileFacts = {};
  try {
    const doc = asObject(parseDocument(kptfileText).toJS());
    if (doc !== undefined) facts = factsFrom(doc);
  } catch {
    facts = {};
  }
  if (factsCache.size > 4096) factsCache.clear();
  factsCache.set(kptfileText, facts);
  return facts;
}

function factsFrom(doc: JsonObject): KptfileFacts {
  const facts: KptfileFacts = {};
  const metadata = asObject(doc['metadata']);
  const labels = stringMap(metadata?.['labels']);
  const annotations = stringMap(metadata?.['annotations']);
  if (labels !== undefined) facts.labels = labels;
  if (annotations !== undefined) facts.annotations = annotations;
  const gates = asObject(doc['info'])?.['readinessGates'];
  if (Array.isArray(gates) && gates.length > 0) {
    facts.readinessGates = gates
      .map((g) => asObject(g)?.['conditionType'])
      .filter((t): t is string => typeof t === 'string')
      .map((conditionType) => ({ conditionType }));
  }
  const conditions = asObject(doc['status'])?.['conditions'];
  if (Array.isArray(conditions) && conditions.length > 0) {
    // PackageRevision conditions carry no lastTransitionTime (docs/porch.md §PackageRevision, §Sharp edges item 12).
    facts.conditions = conditions.flatMap((c) => {
      const o = asObject(c);
      if (o === undefined || typeof o['type'] !== 'string') return [];
      const condition: Condition = { type: o['type'], status: typeof o['status'] === 'string' ? o['status'] : 'Unknown' };
      if (typeof o['reason'] === 'string' && o['reason'] !== '') condition.reason = o['reason'];
      if (typeof o['message'] === 'string' && o['message'] !== '') condition.message = o['message'];
      return [condition];
    });
  }
  const lock = asObject(doc['upstreamLock']);
  if (lock !== undefined) {
    const locator: Locator = {};
    if (typeof lock['type'] === 'string') locator.type = lock['type'];
    const git = asObject(lock['git']);
    if (git !== undefined) {
      locator.git = {};
      for (const key of ['repo', 'directory', 'ref', 'commit'] as const) {
        const v = git[key];
        if (typeof v === 'string' && v !== '') locator.git[key] = v;
      }
    }
    facts.upstreamLock = locator;
  }
  return facts;
}

/** The parts of a PackageRevision that Porch writes back into the Kptfile. */
export interface KptfileMetadataPatch {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  readinessGates?: Array<{ conditionType: string }>;
  conditions?: Condition[];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Upsert (create) or replace (update) Kptfile labels/annotations/readiness gates/conditions from
 * the PackageRevision (docs/porch.md §Simulator state, §Simulator endpoints item 6). Returns the new text, or undefined
 * when
 * nothing changed. Comments and unrelated fields are kept.
 */
export function applyMetadataToKptfile(kptfileText: string, patch: KptfileMetadataPatch, replace: boolean): string | undefined {
  const doc = parseDocument(kptfileText);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  let changed = false;
  const setMap = (path: string[], desired: Record<string, string> | undefined) => {
    if (desired === undefined) return;
    const current = stringMap(getPlain(doc, path)) ?? {};
    const next = replace ? { ...desired } : { ...current, ...desired };
    if (sameJson(current, next)) return;
    changed = true;
    if (Object.keys(next).length === 0) doc.deleteIn(path);
    else doc.setIn(path, doc.createNode(next));
  };
  setMap(['metadata', 'labels'], patch.labels);
  setMap(['metadata', 'annotations'], patch.annotations);
  if (patch.readinessGates !== undefined) {
    const current = getPlain(doc, ['info', 'readinessGates']) ?? [];
    if (!sameJson(current, patch.readinessGates)) {
      changed = true;
      if (patch.readinessGates.length === 0) doc.deleteIn(['info', 'readinessGates']);
      else doc.setIn(['info', 'readinessGates'], doc.createNode(patch.readinessGates));
    }
  }
  if (patch.conditions !== undefined) {
    const current = (getPlain(doc, ['status', 'conditions']) as Condition[] | undefined) ?? [];
    const desired = new Map(patch.conditions.map((c) => [c.type, c]));
    // Existing conditions that are still desired keep their place; the others are dropped.
    const next: Condition[] = [];
    for (const existing of current) {
      const wanted = desired.get(existing.type);
      if (wanted === undefined) continue;
      next.push(compactCondition(wanted));
      desired.delete(existing.type);
    }
    for (const added of desired.values()) next.push(compactCondition(added));
    if (!sameJson(current, next)) {
      changed = true;
      doc.setIn(['status', 'conditions'], doc.createNode(next));
    }
  }
  return changed ? doc.toString(KYAML_STYLE) : undefined;
}

function compactCondition(c: Condition): Condition {
  const out: Condition = { type: c.type, status: c.status };
  if (c.reason !== undefined && c.reason !== '') out.reason = c.reason;
  if (c.message !== undefined && c.message !== '') out.message = c.message;
  return out;
}

function getPlain(doc: Document, path: string[]): unknown {
  let node: unknown = doc.toJS();
  for (const key of path) {
    const o = asObject(node);
    if (o === undefined) return undefined;
    node = o[key];
  }
  return node;
}

/** Text of a Kptfile with an upstream pointing at another package revision (used by `clone`). */
export function withUpstream(kptfileText: string, packageName: string, upstream: JsonObject, lock: Locator): string {
  const doc = parseDocument(kptfileText);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return kptfileText;
  doc.setIn(['metadata', 'name'], packageName);
  doc.setIn(['upstream'], doc.createNode(upstream));
  doc.setIn(['upstreamLock'], doc.createNode(lock));
  return doc.toString(KYAML_STYLE);
}

type Reserialised = { ok: true; text: string } | { ok: false; error: string };

/** Packages repeat the same files over and over; caching keeps a long flow fast. */
const reserialiseCache = new Map<string, Reserialised>();

function reserialise(text: string): Reserialised {
  const cached = reserialiseCache.get(text);
  if (cached !== undefined) return cached;
  let result: Reserialised;
  const docs = [...parseAllDocuments(text)];
  const failed = docs.flatMap((d) => d.errors)[0];
  if (failed !== undefined) result = { ok: false, error: failed.message.split('\n')[0] ?? failed.message };
  // An empty stream has nothing to re-serialise.
  else result = { ok: true, text: docs.length === 0 ? text : docs.map((d) => d.toString(KYAML_STYLE)).join('') };
  if (reserialiseCache.size > 2048) reserialiseCache.clear();
  reserialiseCache.set(text, result);
  return result;
}

const kptfileCache = new Map<string, Reserialised>();

/** The root Kptfile must be a Kptfile; render records its success as the Rendered condition. */
function renderedKptfile(text: string, renderedCondition: boolean): Reserialised {
  const key = `${renderedCondition ? 1 : 0}${text}`;
  const cached = kptfileCache.get(key);
  if (cached !== undefined) return cached;
  let result: Reserialised = { ok: true, text };
  const kptfile = parseDocument(text);
  const root = asObject(kptfile.toJS());
  if (root === undefined || root['kind'] !== 'Kptfile') {
    result = { ok: false, error: 'error reading Kptfile: the root Kptfile is not a kpt.dev/v1 Kptfile' };
  } else if (renderedCondition) {
    const current = (getPlain(kptfile, ['status', 'conditions']) as Condition[] | undefined) ?? [];
    const rendered: Condition = { type: 'Rendered', status: 'True', reason: 'RenderSuccess' };
    const next = current.filter((c) => c.type !== 'Rendered');
    const at = current.findIndex((c) => c.type === 'Rendered');
    if (at >= 0) next.splice(at, 0, rendered);
    else next.push(rendered);
    if (!sameJson(current, next)) {
      kptfile.setIn(['status', 'conditions'], kptfile.createNode(next));
      result = { ok: true, text: kptfile.toString(KYAML_STYLE) };
    }
  }
  if (kptfileCache.size > 2048) kptfileCache.clear();
  kptfileCache.set(key, result);
  return result;
}

export type RenderResult = { ok: true; files: Record<string, string> } | { ok: false; error: string };

function isYamlFile(path: string): boolean {
  return path === KPTFILE || path.endsWith('/Kptfile') || path.endsWith('.yaml') || path.endsWith('.yml');
}

/**
 * A stand-in for `kpt fn render`: every Kptfile and YAML file must parse, the root Kptfile must
 * exist and be a Kptfile; YAML is re-serialised the way kpt writes it (so stored text may differ
 * from what was sent, docs/porch.md §Sharp edges item 7), and the Kptfile gets the Rendered condition when
 * `renderedCondition` is on. Pipeline functions are not run.
 */
export function renderPackage(files: Record<string, string>, renderedCondition: boolean): RenderResult {
  const kptfileText = files[KPTFILE];
  if (kptfileText === undefined) {
    return { ok: false, error: 'error reading Kptfile: no Kptfile found at the package root' };
  }
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(files)) {
    if (!isYamlFile(path)) {
      out[path] = text;
      continue;
    }
    const result = reserialise(text);
    if (!result.ok) return { ok: false, error: `failed to parse "${path}": ${result.error}` };
    out[path] = result.text;
  }
  const kptfile = renderedKptfile(out[KPTFILE] ?? '', renderedCondition);
  if (!kptfile.ok) return kptfile;
  out[KPTFILE] = kptfile.text;
  return { ok: true, files: out };
}
