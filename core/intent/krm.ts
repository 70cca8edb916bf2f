// KRM rendering for intents, shared by every sink: a kpt package is a Kptfile plus the
// resources the intent implies. Built with the yaml library's document model, never by string
// templating, so that an existing package can be changed in the one value the intent changes
// while every comment and other field stays as it was.
import { createRequire } from 'node:module';
import type { Document } from 'yaml';
import type { Intent } from './types.ts';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

/**
 * The yaml library, loaded when a package is first rendered: every plugin imports the core, and
 * loading yaml (72 modules) at start cost a tenth of the start time of pipelines that render
 * nothing until an intent arrives (or never do).
 */
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

export const KPTFILE = 'Kptfile';
export const DEPLOYMENT_FILE = 'deployment.yaml';
export const INTENT_ID_ANNOTATION = 'conductor.nephio.org/intent-id';

// Shared objects (the labels) are written out in full: anchors and aliases surprise KRM tools.
const DOCUMENT_OPTIONS = { aliasDuplicateObjects: false } as const;

/** File name → file content, in the package's own relative paths. */
export type PackageFiles = Record<string, string>;

export function packageNameOf(intent: Intent): string {
  return intent.constraints?.kpt_package_name ?? intent.target;
}

export function renderKptfile(name: string, intent: Intent): string {
  const doc = new (yaml().Document)({
    apiVersion: 'kpt.dev/v1',
    kind: 'Kptfile',
    metadata: { name, annotations: { 'config.kubernetes.io/local-config': 'true' } },
    info: { description: `${intent.target} in ${intent.namespace}, managed by Conductor intents` },
  }, DOCUMENT_OPTIONS);
  return doc.toString();
}

export function renderDeployment(intent: Intent, intentId: string): string {
  const labels = { 'app.kubernetes.io/name': intent.target, 'app.kubernetes.io/managed-by': 'conductor' };
  const doc = new (yaml().Document)({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: intent.target,
      namespace: intent.namespace,
      labels,
      annotations: { [INTENT_ID_ANNOTATION]: intentId },
    },
    spec: {
      replicas: intent.replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': intent.target } },
      // The image is left to the blueprint or an upstream kpt function; an intent only scales.
      template: { metadata: { labels }, spec: { containers: [{ name: intent.target }] } },
    },
  }, DOCUMENT_OPTIONS);
  return doc.toString();
}

/** A complete new package for an intent. */
export function renderPackage(intent: Intent, intentId: string): PackageFiles {
  return {
    [KPTFILE]: renderKptfile(packageNameOf(intent), intent),
    [DEPLOYMENT_FILE]: renderDeployment(intent, intentId),
  };
}

function isTargetDeployment(doc: Document, intent: Intent): boolean {
  const json = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  if (json === null || typeof json !== 'object' || json.kind !== 'Deployment') return false;
  if (json.metadata?.name !== intent.target) return false;
  const namespace = json.metadata?.namespace;
  return namespace === undefined || namespace === intent.namespace;
}

export interface ApplyResult {
  files: PackageFiles;
  /** The package-relative file that holds the Deployment the intent changed (or created). */
  changedFile: string;
  /** False when the package already held the intent's value. */
  changed: boolean;
}

/**
 * Applies an intent to an existing package: finds the Deployment named like the target (in any
 * YAML file, multi-document files included) and sets `spec.replicas`, leaving every other byte
 * of every file as it was. A package without that Deployment gains `deployment.yaml`.
 */
export function applyIntentToPackage(existing: PackageFiles, intent: Intent, intentId: string): ApplyResult {
  for (const [name, content] of Object.entries(existing).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/\.ya?ml$/.test(name) || name === KPTFILE) continue;
    const docs = yaml().parseAllDocuments(content);
    if (!Array.isArray(docs)) continue;
    const index = docs.findIndex((doc) => doc.errors.length === 0 && isTargetDeployment(doc, intent));
    if (index === -1) continue;
    const doc = docs[index]!;
    if (doc.getIn(['spec', 'replicas']) === intent.replicas) {
      return { files: { ...existing }, changedFile: name, changed: false };
    }
    return { files: { ...existing, [name]: setReplicas(content, docs, index, intent.replicas) }, changedFile: name, changed: true };
  }
  const files = { ...existing };
  files[KPTFILE] ??= renderKptfile(packageNameOf(intent), intent);
  const file = existing[DEPLOYMENT_FILE] === undefined ? DEPLOYMENT_FILE : `${intent.target}-deployment.yaml`;
  files[file] = renderDeployment(intent, intentId);
  return { files, changedFile: file, changed: true };
}

/**
 * Changes `spec.replicas` of one document in a (possibly multi-document) YAML text. When the
 * value is present, only the bytes of that scalar are replaced, so comments, quoting and key
 * order everywhere else stay exactly as they were. When it is absent, that one document is
 * re-serialised through the document model and spliced back by its source range.
 */
function setReplicas(content: string, docs: Document[], index: number, replicas: number): string {
  const doc = docs[index]!;
  const node = doc.getIn(['spec', 'replicas'], true);
  if (yaml().isScalar(node) && node.range) {
    const [start, valueEnd] = node.range;
    return content.slice(0, start) + String(replicas) + content.slice(valueEnd);
  }
  doc.setIn(['spec', 'replicas'], replicas);
  const contents = doc.contents;
  if (contents === null || !(yaml().isMap(contents) || yaml().isSeq(contents)) || !contents.range) {
    return docs.map((d) => d.toString()).join('');
  }
  const [start, , end] = contents.range;
  const rendered = doc.toString({ lineWidth: 0 }).replace(/^---\n/, '').replace(/\n$/, '');
  const trailingNewline = content.slice(start, end).endsWith('\n') ? '\n' : '';
  return content.slice(0, start) + rendered + trailingNewline + content.slice(end);
}
