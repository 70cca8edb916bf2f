// KRM rendering for intents, shared by every sink: a kpt package is a Kptfile plus the
// resources the intent implies. New packages are instantiated from a blueprint (a kpt package
// someone wrote, as in Nephio), and an existing package is changed in the one value the intent
// changes. Both edit the YAML text through the yaml library's source ranges (yaml-edit.ts),
// never by re-serialising, so every comment, quote and indentation stays as it was.
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type { Document, Node, Pair } from 'yaml';
import { ConductorError, type ConductorErrorOptions } from '../errors.ts';
import type { Intent } from './types.ts';
import { UneditableYaml, applyEdits, insertKey, isPlainSwap, keyOf, scalarText, setScalar, type TextEdit } from './yaml-edit.ts';
import { rememberWritten, writtenText, type DeploymentName, type WrittenText } from './written-texts.ts';

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

/** Words the core schema reads as null or a boolean rather than as a string. */
const CORE_WORDS = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;

/**
 * What a plain scalar's text reads as (the core schema, as a document without directives). A
 * token that starts with a letter can only be a null, a boolean or a string there (numbers start
 * with a digit, a sign or a dot), so a name is answered without running the parser.
 */
export function readsBack(text: string): unknown {
  if (/^[A-Za-z][-A-Za-z0-9._/]*$/.test(text) && !CORE_WORDS.test(text)) return text;
  return yaml().parse(text) as unknown;
}

export const KPTFILE = 'Kptfile';
export const DEPLOYMENT_FILE = 'deployment.yaml';
/**
 * Names the intent a PackageRevision was made for (the Porch sink's record). Deployments do not
 * carry it: the sink's own record (the commit trailer, the PackageRevision annotation) is the one
 * source of which intent set a package's replicas, and a second copy in the Deployment would
 * make every intent a two-line change.
 */
export const INTENT_ID_ANNOTATION = 'conductor.nephio.org/intent-id';

// Shared objects (the labels) are written out in full: anchors and aliases surprise KRM tools.
const DOCUMENT_OPTIONS = { aliasDuplicateObjects: false } as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** File name → file content, in the package's own relative paths. */
export type PackageFiles = Record<string, string>;

/**
 * The package an intent addresses: `constraints.kpt_package_name`, else the target. It names the
 * package directory and the Kptfile alike, so it must be a DNS-1123 label (the intent schema
 * says so too; this holds it for pipelines without schema validation, since it becomes a path).
 */
export function packageNameOf(intent: Intent): string {
  const name = intent.constraints?.kpt_package_name ?? intent.target;
  if (typeof name !== 'string' || name.length > 63 || !DNS_LABEL.test(name)) {
    const field = intent.constraints?.kpt_package_name === undefined ? 'target' : 'constraints.kpt_package_name';
    const message = `${field} ${JSON.stringify(name)} is not a DNS-1123 label, so it cannot name a kpt package`;
    throw new ConductorError('CND_ERR_INTENT_INVALID', message, { details: { field } });
  }
  return name;
}

export function renderKptfile(name: string, intent: Intent): string {
  const doc = new (yaml().Document)(
    {
      apiVersion: 'kpt.dev/v1',
      kind: 'Kptfile',
      metadata: { name, annotations: { 'config.kubernetes.io/local-config': 'true' } },
      info: { description: `${intent.target} in ${intent.namespace}, managed by Conductor intents` },
    },
    DOCUMENT_OPTIONS,
  );
  return doc.toString();
}

/**
 * The bare Deployment an intent implies: name, namespace, labels and replicas, but no image —
 * that belongs to a blueprint. Used where a package has to be described without one (config
 * tests, a package that lacks its Deployment); new packages come from `instantiateBlueprint`.
 */
export function renderDeployment(intent: Intent): string {
  const labels = { 'app.kubernetes.io/name': intent.target, 'app.kubernetes.io/managed-by': 'conductor' };
  const doc = new (yaml().Document)(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: intent.target, namespace: intent.namespace, labels },
      spec: {
        replicas: intent.replicas,
        selector: { matchLabels: { 'app.kubernetes.io/name': intent.target } },
        template: { metadata: { labels }, spec: { containers: [{ name: intent.target }] } },
      },
    },
    DOCUMENT_OPTIONS,
  );
  return doc.toString();
}

/** The Kptfile and bare Deployment of an intent, for `conductor test` (which runs no sink). */
export function renderPackage(intent: Intent): PackageFiles {
  return {
    [KPTFILE]: renderKptfile(packageNameOf(intent), intent),
    [DEPLOYMENT_FILE]: renderDeployment(intent),
  };
}

interface KrmShape {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown };
  spec?: { replicas?: unknown; selector?: { matchLabels?: unknown } };
}

/** Shapes already read, per document: documents are never changed here (blueprints' are reused). */
const shapes = new WeakMap<Document, KrmShape | null>();

/** A document's data as KRM, read once per document (callers only read it). */
function shapeOf(doc: Document): KrmShape | null {
  let shape = shapes.get(doc);
  if (shape === undefined) {
    const json = doc.toJS() as unknown;
    shape = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as KrmShape) : null;
    shapes.set(doc, shape);
  }
  return shape;
}

function isTargetDeployment(doc: Document, intent: Intent): boolean {
  const json = shapeOf(doc);
  return json?.kind === 'Deployment' && namesTarget({ name: json.metadata?.name, namespace: json.metadata?.namespace }, intent);
}

/** The YAML files of a package that hold resources (the Kptfile is the package's own). */
function resourceFiles(files: PackageFiles): [string, string][] {
  return Object.entries(files)
    .filter(([name]) => /\.ya?ml$/.test(name) && name !== KPTFILE)
    .sort(([a], [b]) => a.localeCompare(b));
}

function parseAll(content: string): Document[] {
  const docs = yaml().parseAllDocuments(content);
  return Array.isArray(docs) ? docs : [];
}

/**
 * A blueprint's files are the same text for every package made from it, so each is parsed once
 * (documents are only read here, never changed). A few blueprints' small files at most: a new
 * text pushes out the oldest, and a large one is parsed each time (its documents would weigh
 * many times its bytes).
 */
const blueprintDocuments = new Map<string, Document[]>();
const BLUEPRINT_TEXTS = 16;
const BLUEPRINT_TEXT_MAX_CHARS = 64 * 1024;

function parseBlueprintText(content: string): Document[] {
  if (content.length > BLUEPRINT_TEXT_MAX_CHARS) return parseAll(content);
  let docs = blueprintDocuments.get(content);
  if (docs === undefined) {
    docs = parseAll(content);
    if (blueprintDocuments.size >= BLUEPRINT_TEXTS) blueprintDocuments.delete(blueprintDocuments.keys().next().value!);
    blueprintDocuments.set(content, docs);
  }
  return docs;
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
 * of every file as it was — an absent `spec.replicas` is one inserted line. A package without
 * that Deployment gains `deployment.yaml`. A Deployment whose replicas cannot be set without
 * rewriting more than that (no `spec`, a block scalar) is refused, permanently: the package
 * needs a person, not a retry.
 */
export function applyIntentToPackage(existing: PackageFiles, intent: Intent, intentId: string): ApplyResult {
  for (const [name, content] of resourceFiles(existing)) {
    const known = writtenText(content);
    if (known !== undefined) {
      const found = known.deployments.findIndex((d) => namesTarget(d, intent));
      if (found === -1) continue;
      // Another Deployment of the text is the target, or the new value cannot be swapped in: parse.
      if (found === known.edited) {
        if (known.replicas.value === intent.replicas) return { files: { ...existing }, changedFile: name, changed: false };
        const updated = swapReplicas(content, known, intent.replicas);
        if (updated !== undefined) return { files: { ...existing, [name]: updated }, changedFile: name, changed: true };
      }
    }
    const docs = parseAll(content);
    const index = docs.findIndex((doc) => doc.errors.length === 0 && isTargetDeployment(doc, intent));
    if (index === -1) continue;
    const doc = docs[index]!;
    if (doc.getIn(['spec', 'replicas']) === intent.replicas) {
      return { files: { ...existing }, changedFile: name, changed: false };
    }
    let updated: string;
    try {
      let replicas: TextEdit;
      updated = editDocument(
        content,
        docs,
        index,
        (edits) => edits.push((replicas = replicasEdit(content, doc, intent.replicas))),
        (json) => {
          (json.spec as Record<string, unknown>)['replicas'] = intent.replicas;
        },
        (text, edits) => rememberSwapped(text, docs, index, edits, replicas, intent.replicas),
      );
    } catch (error) {
      if (!(error instanceof UneditableYaml)) throw error;
      const message = `cannot set spec.replicas of Deployment ${intent.target} in ${name}: ${error.message}`;
      throw new ConductorError('CND_ERR_SUBMIT_PERMANENT', message, { intentId, details: { file: name } });
    }
    return { files: { ...existing, [name]: updated }, changedFile: name, changed: true };
  }
  const files = { ...existing };
  files[KPTFILE] ??= renderKptfile(packageNameOf(intent), intent);
  const file = existing[DEPLOYMENT_FILE] === undefined ? DEPLOYMENT_FILE : `${intent.target}-deployment.yaml`;
  files[file] = renderDeployment(intent);
  return { files, changedFile: file, changed: true };
}

/** The edit that sets `spec.replicas`: its scalar's bytes, or one line added to `spec`. */
function replicasEdit(content: string, doc: Document, replicas: number): TextEdit {
  const node = doc.getIn(['spec', 'replicas'], true);
  if (yaml().isScalar(node)) return setScalar(content, node, replicas, readsBack);
  if (node !== undefined) throw new UneditableYaml('spec.replicas is not a scalar');
  const spec = pairOf(doc.contents, 'spec');
  if (spec === undefined || !yaml().isMap(spec.value)) throw new UneditableYaml('the Deployment has no spec map');
  return insertKey(content, spec.value, 'replicas', String(replicas), keyEnd(spec));
}

function pairOf(map: unknown, key: string): Pair<Node, unknown> | undefined {
  if (!yaml().isMap(map)) return undefined;
  return map.items.find((pair) => keyOf(pair) === key) as Pair<Node, unknown> | undefined;
}

function keyEnd(pair: Pair<Node, unknown>): number {
  const range = pair.key?.range;
  if (!range) throw new UneditableYaml('a key has no source position');
  return range[1];
}

/**
 * Edits one document of a (possibly multi-document) YAML text by byte ranges, then proves the
 * result: it must parse without errors into the same documents, the edited one equal to
 * `expect` applied to the original's data. Anything else is refused (UneditableYaml) rather than
 * written. Edits that only swap scalar tokens (`setScalar`) in documents that parsed whole, under
 * the core schema and without anchors, are proven as they are made: each sets the value of the
 * node `expect` names and the lexer reads every other byte as before, so parsing the text again
 * would find what `expect` says (a property test holds the two proofs to the same verdicts).
 */
function editDocument(
  content: string,
  docs: Document[],
  index: number,
  plan: (edits: TextEdit[]) => void,
  expect: (json: Record<string, any>) => void,
  swapped?: (updated: string, edits: readonly TextEdit[]) => void,
): string {
  const edits: TextEdit[] = [];
  plan(edits);
  const updated = applyEdits(content, edits);
  if (swapsProveThemselves(content, docs, index, edits)) {
    swapped?.(updated, edits);
    return updated;
  }
  const after = parseAll(updated);
  const wanted = docs.map((doc) => doc.toJS() as unknown);
  expect(wanted[index] as Record<string, any>);
  const same = after.length === docs.length && after.every((doc) => doc.errors.length === 0);
  if (
    !same ||
    !isDeepStrictEqual(
      after.map((doc) => doc.toJS() as unknown),
      wanted,
    )
  ) {
    throw new UneditableYaml('an in-place edit would change more than the values it sets');
  }
  return updated;
}

/**
 * Whether a Deployment so named is the intent's target: its name, and its namespace unless it
 * has none. One rule for parsed documents and remembered texts alike.
 */
function namesTarget(deployment: DeploymentName, intent: Intent): boolean {
  return deployment.name === intent.target && (deployment.namespace === undefined || deployment.namespace === intent.namespace);
}

/**
 * Notes what the next intent for this text needs (written-texts.ts): its Deployments, in order,
 * and where the edited one's replicas token now is — the swaps before it moved it by the
 * lengths they changed. `renamed` is what the edited Deployment is called now.
 */
function rememberSwapped(
  updated: string,
  docs: readonly Document[],
  index: number,
  edits: readonly TextEdit[],
  replicas: TextEdit,
  value: number,
  renamed?: DeploymentName,
): void {
  const deployments: DeploymentName[] = [];
  let edited = -1;
  docs.forEach((doc, i) => {
    const json = shapeOf(doc);
    if (json?.kind !== 'Deployment') return;
    if (i === index) edited = deployments.length;
    deployments.push(i === index && renamed !== undefined ? renamed : { name: json.metadata?.name, namespace: json.metadata?.namespace });
  });
  if (edited === -1) return;
  let start = replicas.start;
  for (const edit of edits) if (edit !== replicas && edit.end <= replicas.start) start += edit.text.length - (edit.end - edit.start);
  rememberWritten(updated, { deployments, edited, replicas: { start, end: start + replicas.text.length, value } });
}

/** The text with the remembered replicas token swapped for `replicas` (undefined: it cannot be, parse instead). */
function swapReplicas(content: string, known: WrittenText, replicas: number): string | undefined {
  const text = String(replicas);
  if (!isPlainSwap(text, replicas, readsBack)) return undefined;
  const { start, end } = known.replicas;
  const updated = content.slice(0, start) + text + content.slice(end);
  rememberWritten(updated, { ...known, replicas: { start, end: start + text.length, value: replicas } });
  return updated;
}

/**
 * Whether `edits` of `docs[index]` prove themselves: each swaps one scalar token (`setScalar`),
 * every document of the text parsed without errors, the edited one reads plain scalars by the
 * core schema (no `%YAML 1.1`), and the text has no anchor, so that no alias repeats an edited
 * value elsewhere (an `&` anywhere, even in a string or a comment, sends them to the full proof).
 */
export function swapsProveThemselves(content: string, docs: readonly Document[], index: number, edits: readonly TextEdit[]): boolean {
  return (
    edits.every((edit) => edit.tokenSwap === true) &&
    docs[index]!.schema.name === 'core' &&
    docs.every((doc) => doc.errors.length === 0) &&
    !content.includes('&')
  );
}

export interface InstantiateOptions {
  /** Where the blueprint came from (a directory, an upstream package), for error messages. */
  source?: string;
  /** Attached to errors, for the intent that asked for the new package. */
  intentId?: string;
  /** The plugin instance that instantiates it, attached to errors. */
  plugin?: string;
}

/**
 * A new package for an intent from a blueprint — what `kpt pkg get` plus the usual setters do,
 * sink-neutral (the git sink copies a directory; a Porch sink may apply it to a clone):
 *
 * - the Kptfile's `metadata.name` becomes the package name (`packageNameOf(intent)`);
 * - the blueprint's one Deployment is renamed to the target and put in the intent's namespace;
 *   a label that carried the old name in its selector (`app: nginx`, `app.kubernetes.io/name`)
 *   is renamed with it in the metadata, selector and pod template labels, so they stay
 *   consistent;
 * - its `spec.replicas` becomes the intent's.
 *
 * Every other byte of every file is kept (values are edited in place). A blueprint without a
 * Kptfile, or without exactly one Deployment, is refused with `CND_ERR_BLUEPRINT`.
 */
export function instantiateBlueprint(blueprint: PackageFiles, intent: Intent, options: InstantiateOptions = {}): PackageFiles {
  const where = options.source === undefined ? 'the blueprint' : `blueprint ${options.source}`;
  const errorOptions: ConductorErrorOptions = {
    ...(options.intentId === undefined ? {} : { intentId: options.intentId }),
    ...(options.plugin === undefined ? {} : { plugin: options.plugin }),
    ...(options.source === undefined ? {} : { details: { blueprint: options.source } }),
  };
  const refuse = (message: string, cause?: unknown) =>
    new ConductorError('CND_ERR_BLUEPRINT', `${where}: ${message}`, { ...errorOptions, ...(cause === undefined ? {} : { cause }) });

  const kptfile = blueprint[KPTFILE];
  if (kptfile === undefined) throw refuse('has no Kptfile (a blueprint is a kpt package)');
  let packageName: string;
  try {
    packageName = packageNameOf(intent);
  } catch (error) {
    if (error instanceof ConductorError) {
      error.intentId ??= options.intentId;
      error.plugin ??= options.plugin;
    }
    throw error;
  }
  const files: PackageFiles = { ...blueprint };
  try {
    files[KPTFILE] = setKptfileName(kptfile, packageName);
  } catch (error) {
    if (error instanceof UneditableYaml) throw refuse(`Kptfile: ${error.message}`, error);
    throw error;
  }

  const deployments: { file: string; docs: Document[]; index: number }[] = [];
  for (const [file, content] of resourceFiles(blueprint)) {
    const docs = parseBlueprintText(content);
    const broken = docs.find((doc) => doc.errors.length > 0);
    if (broken) throw refuse(`${file}: ${broken.errors[0]!.message}`);
    docs.forEach((doc, index) => {
      if (shapeOf(doc)?.kind === 'Deployment') deployments.push({ file, docs, index });
    });
  }
  if (deployments.length !== 1) {
    const found = deployments.length === 0 ? 'none' : deployments.map((d) => `${d.file}#${d.index + 1}`).join(', ');
    throw refuse(`needs exactly one Deployment (the target's workload), found ${found}`);
  }
  const { file, docs, index } = deployments[0]!;
  try {
    files[file] = renameDeployment(blueprint[file]!, docs, index, intent);
  } catch (error) {
    if (error instanceof UneditableYaml) throw refuse(`${file}: ${error.message}`, error);
    throw error;
  }
  return files;
}

function setKptfileName(content: string, name: string): string {
  const docs = parseBlueprintText(content);
  if (docs.length !== 1 || docs[0]!.errors.length > 0 || shapeOf(docs[0]!)?.kind !== 'Kptfile') {
    throw new UneditableYaml('not one valid Kptfile document');
  }
  const doc = docs[0]!;
  return editDocument(
    content,
    docs,
    0,
    (edits) => edits.push(setOrInsert(content, doc, 'metadata', 'name', name)),
    (json) => {
      json['metadata'] = { ...json['metadata'], name };
    },
  );
}

/** Sets `<parent>.<key>` of a document (a top-level map): the scalar in place, or one new line. */
function setOrInsert(content: string, doc: Document, parent: string, key: string, value: string | number, after?: string): TextEdit {
  const node = doc.getIn([parent, key], true);
  if (yaml().isScalar(node)) return setScalar(content, node, value, readsBack);
  if (node !== undefined) throw new UneditableYaml(`${parent}.${key} is not a scalar`);
  const pair = pairOf(doc.contents, parent);
  if (pair === undefined || !yaml().isMap(pair.value)) throw new UneditableYaml(`there is no ${parent} map`);
  return insertKey(content, pair.value, key, scalarText(value, readsBack), keyEnd(pair), after);
}

function renameDeployment(content: string, docs: Document[], index: number, intent: Intent): string {
  const doc = docs[index]!;
  const json = shapeOf(doc)!;
  const oldName = json.metadata?.name;
  if (typeof oldName !== 'string') throw new UneditableYaml('the Deployment has no metadata.name');
  // The labels that carry the workload's name: those the selector matches on the old name.
  const matchLabels = json.spec?.selector?.matchLabels;
  const nameLabels = new Set(
    Object.entries(matchLabels !== null && typeof matchLabels === 'object' ? matchLabels : {})
      .filter(([, value]) => value === oldName)
      .map(([key]) => key),
  );
  const labelMaps = [
    ['metadata', 'labels'],
    ['spec', 'selector', 'matchLabels'],
    ['spec', 'template', 'metadata', 'labels'],
  ];
  let replicas: TextEdit;
  return editDocument(
    content,
    docs,
    index,
    (edits) => {
      edits.push(setOrInsert(content, doc, 'metadata', 'name', intent.target));
      edits.push(setOrInsert(content, doc, 'metadata', 'namespace', intent.namespace, 'name'));
      edits.push((replicas = replicasEdit(content, doc, intent.replicas)));
      if (oldName === intent.target) return;
      for (const path of labelMaps) {
        const map = doc.getIn(path, true);
        if (!yaml().isMap(map)) continue;
        for (const pair of map.items) {
          const key = keyOf(pair);
          if (key === undefined || !nameLabels.has(key) || !yaml().isScalar(pair.value) || pair.value.value !== oldName) continue;
          edits.push(setScalar(content, pair.value, intent.target, readsBack));
        }
      }
    },
    (expected) => {
      expected['metadata'] = { ...expected['metadata'], name: intent.target, namespace: intent.namespace };
      expected['spec'] = { ...expected['spec'], replicas: intent.replicas };
      for (const path of labelMaps) {
        let labels: any = expected;
        for (const part of path) labels = labels?.[part];
        if (labels === null || typeof labels !== 'object') continue;
        for (const key of nameLabels) if (labels[key] === oldName) labels[key] = intent.target;
      }
    },
    (text, edits) =>
      rememberSwapped(text, docs, index, edits, replicas, intent.replicas, { name: intent.target, namespace: intent.namespace }),
  );
}
