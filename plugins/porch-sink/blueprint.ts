// A new target's package is a clone of a blueprint (Nephio's way: a generic upstream package,
// specialised for each downstream). Porch's `clone` copies the blueprint's files and records the
// upstream in the Kptfile (docs/porch.md §porchctl); this module decides whether a blueprint can serve
// a target and makes the one specialisation an intent needs: the blueprint's Deployment takes
// the target's name (and namespace), so that later intents for the target find it by name and
// change only its replicas. Its image, ports, labels and every other file stay the blueprint's.
import YAML, { type Document } from 'yaml';
import type { Intent, PackageFiles } from '../../core/index.ts';

type Usable<T> = ({ ok: true } & T) | { ok: false; reason: string };

interface DeploymentAt {
  file: string;
  index: number;
  name: unknown;
  namespace: unknown;
  containers: unknown;
}

interface KrmObject {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
  spec?: { template?: { spec?: { containers?: unknown } } };
}

function deploymentsIn(files: PackageFiles): DeploymentAt[] {
  const found: DeploymentAt[] = [];
  for (const [file, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/\.ya?ml$/.test(file) || file === 'Kptfile' || file.endsWith('/Kptfile')) continue;
    YAML.parseAllDocuments(content).forEach((doc, index) => {
      if (doc.errors.length > 0) return;
      const json = doc.toJS() as KrmObject | null;
      if (json === null || typeof json !== 'object' || json.kind !== 'Deployment') return;
      const { name, namespace } = json.metadata ?? {};
      found.push({ file, index, name, namespace, containers: json.spec?.template?.spec?.containers });
    });
  }
  return found;
}

function isTarget(deployment: DeploymentAt, intent: Intent): boolean {
  return deployment.name === intent.target && (deployment.namespace === undefined || deployment.namespace === intent.namespace);
}

/**
 * The Deployment of the blueprint that will become the target's: one named like the target, or
 * else the blueprint's only Deployment. Returns why the blueprint cannot serve, or the choice.
 */
export function blueprintDeployment(files: PackageFiles, intent: Intent): Usable<{ file: string; index: number }> {
  const deployments = deploymentsIn(files);
  const chosen = deployments.find((d) => isTarget(d, intent)) ?? (deployments.length === 1 ? deployments[0] : undefined);
  if (chosen === undefined) {
    return {
      ok: false,
      reason:
        deployments.length === 0
          ? 'it holds no Deployment'
          : `it holds ${deployments.length} Deployments and none is named ${intent.target}`,
    };
  }
  // The point of a blueprint: what an intent does not say (the image above all) comes from it.
  const containers = Array.isArray(chosen.containers) ? (chosen.containers as { name?: unknown; image?: unknown }[]) : [];
  const imageless = containers.filter((c) => typeof c?.image !== 'string' || c.image === '').map((c) => String(c?.name ?? '?'));
  if (containers.length === 0) return { ok: false, reason: `its Deployment in ${chosen.file} has no containers` };
  if (imageless.length > 0) {
    return { ok: false, reason: `its Deployment in ${chosen.file} has container(s) without an image: ${imageless.join(', ')}` };
  }
  return { ok: true, file: chosen.file, index: chosen.index };
}

/**
 * A freshly cloned blueprint, specialised for the target: its Deployment renamed to the target
 * and put into the intent's namespace. Only those scalars change (a missing namespace becomes
 * one line under the name); every other byte stays. A file already holding the target's
 * Deployment comes back unchanged.
 */
export function specialiseBlueprint(files: PackageFiles, intent: Intent): Usable<{ files: PackageFiles }> {
  const choice = blueprintDeployment(files, intent);
  if (!choice.ok) return choice;
  const content = files[choice.file]!;
  const docs = YAML.parseAllDocuments(content);
  const doc = docs[choice.index]!;
  // The target lives in the intent's namespace, as the git sink's Deployments do.
  const edits = [
    { path: ['metadata', 'name'], value: intent.target },
    { path: ['metadata', 'namespace'], value: intent.namespace },
  ].filter((edit) => doc.getIn(edit.path) !== edit.value);
  const splices: { start: number; end: number; value: string }[] = [];
  for (const edit of edits) {
    const node = doc.getIn(edit.path, true);
    const splice = YAML.isScalar(node) && node.range ? { start: node.range[0], end: node.range[1], value: edit.value } : undefined;
    const added = node === undefined && edit.path[1] === 'namespace' ? lineUnderName(content, doc, `namespace: ${edit.value}`) : undefined;
    if (splice === undefined && added === undefined) {
      return { ok: true, files: { ...files, [choice.file]: reserialised(docs, doc, edits) } };
    }
    splices.push((splice ?? added)!);
  }
  // Later offsets first, so earlier ones stay valid.
  let text = content;
  for (const { start, end, value } of splices.sort((a, b) => b.start - a.start)) {
    text = text.slice(0, start) + value + text.slice(end);
  }
  return { ok: true, files: { ...files, [choice.file]: text } };
}

/** Where a line beside `metadata.name` (same indentation, on the next line) goes, in a block map. */
function lineUnderName(text: string, doc: Document, line: string): { start: number; end: number; value: string } | undefined {
  const metadata = doc.get('metadata', true);
  if (!YAML.isMap(metadata) || metadata.flow) return undefined;
  const pair = metadata.items.find((item) => YAML.isScalar(item.key) && item.key.value === 'name');
  const key = pair?.key;
  const value = pair?.value;
  if (!YAML.isScalar(key) || !key.range || !YAML.isScalar(value) || !value.range) return undefined;
  const lineStart = text.lastIndexOf('\n', key.range[0] - 1) + 1;
  const indent = text.slice(lineStart, key.range[0]);
  const lineEnd = text.indexOf('\n', value.range[1]);
  if (!/^ *$/.test(indent) || lineEnd === -1) return undefined;
  return { start: lineEnd + 1, end: lineEnd + 1, value: `${indent}${line}\n` };
}

/** The fallback for a field that is no plain scalar: set it, and write the file out through the document model. */
function reserialised(docs: Document[], doc: Document, edits: { path: string[]; value: string }[]): string {
  for (const edit of edits) doc.setIn(edit.path, edit.value);
  return docs.map((d) => d.toString()).join('');
}
