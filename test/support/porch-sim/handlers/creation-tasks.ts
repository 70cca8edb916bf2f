// What the engine does with the single creation task of a new PackageRevision
// (docs/porch.md §PackageRevision, §Creating, §Errors, §Simulator endpoints item 2).
// Every failure here is an engine error, so it reaches the client as 500 InternalError.

import type { HandlerContext } from '../context.ts';
import type { DecodedRevision } from '../decode.ts';
import { internalError } from '../k8s-status.ts';
import { KPTFILE, applyMetadataToKptfile, initFiles, renderPackage, withUpstream } from '../kptfile.ts';
import { revisionNameError, splitPackagePath } from '../naming.ts';
import { isPublishedLifecycle } from '../types.ts';
import type { JsonObject, Locator, RepositoryRecord, RevisionRecord } from '../types.ts';

export interface CreatedContent {
  task: JsonObject;
  files: Record<string, string>;
  clonedFrom?: string;
}

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function stringField(obj: JsonObject | undefined, key: string): string {
  const v = obj?.[key];
  return typeof v === 'string' ? v : '';
}

/** Two package paths overlap when one is a directory prefix of the other (packages cannot nest). */
function pathsOverlap(a: string, b: string): boolean {
  if (a === b) return false;
  return `${b}/`.startsWith(`${a}/`) || `${a}/`.startsWith(`${b}/`);
}

/**
 * The engine's checks and task application, in the real order: task count, default task, object
 * name, workspace uniqueness, clone into an existing package, init of an existing or nested
 * package, then the task itself, the Kptfile metadata, and the render.
 */
export function buildNewRevisionContent(
  ctx: HandlerContext,
  namespace: string,
  repo: RepositoryRecord,
  decoded: DecodedRevision,
): CreatedContent {
  const spec = decoded.spec;
  const tasks = spec.tasks ?? [];
  if (tasks.length > 1) throw internalError('task list must not contain more than one task');
  // No task at all: the engine inserts an init task (docs/porch.md §PackageRevision, §Sharp edges item 18).
  const task: JsonObject = tasks[0] ?? { type: 'init', init: { description: `${spec.packageName} description` } };

  const { path, leaf } = splitPackagePath(spec.packageName);
  const nameError = revisionNameError({ repository: repo.name, path, leaf, workspaceName: spec.workspaceName });
  if (nameError !== undefined) throw internalError(`failed to create packagerevision: ${nameError}`);

  const samePackage = ctx.store.revisionsOfPackage(namespace, repo.name, spec.packageName);
  if (samePackage.some((r) => r.workspaceName === spec.workspaceName)) {
    throw internalError(
      `package revision workspaceNames must be unique; package revision with name ${spec.packageName} in repo ${repo.name} with workspaceName ${spec.workspaceName} already exists`,
    );
  }
  const type = stringField(task, 'type');
  if (type === 'clone' && samePackage.length > 0) {
    throw internalError(
      `\`clone\` cannot create a new revision for package "${spec.packageName}" that already exists in repo "${repo.name}"; make subsequent revisions using \`copy\``,
    );
  }
  if (type === 'init' || type === 'clone') checkPackageCreation(ctx, namespace, repo, spec.packageName, samePackage.length > 0);

  const applied = applyTask(ctx, namespace, repo, decoded, task, type);

  let files = applied.files;
  const kptfile = files[KPTFILE];
  if (kptfile !== undefined) {
    const patched = applyMetadataToKptfile(
      kptfile,
      {
        ...(spec.packageMetadata?.labels === undefined ? {} : { labels: spec.packageMetadata.labels }),
        ...(spec.packageMetadata?.annotations === undefined ? {} : { annotations: spec.packageMetadata.annotations }),
        ...(spec.readinessGates === undefined ? {} : { readinessGates: spec.readinessGates }),
      },
      false,
    );
    if (patched !== undefined) files = { ...files, [KPTFILE]: patched };
  }
  const rendered = renderPackage(files, ctx.store.compat.renderedCondition);
  if (!rendered.ok) throw internalError(rendered.error);
  return { ...applied, task, files: rendered.files };
}

function checkPackageCreation(ctx: HandlerContext, namespace: string, repo: RepositoryRecord, packageName: string, exists: boolean): void {
  // From v1.5.6 an init of an existing package is refused (docs/porch.md §Versions, §Sharp edges item 14).
  if (exists && ctx.store.compat.rejectInitOfExistingPackage) {
    throw internalError(`package "${packageName}" already exists in repository "${repo.name}"`);
  }
  const existing = new Set(ctx.store.revisionsOfRepository(namespace, repo.name).map((r) => r.packageName));
  for (const other of existing) {
    if (pathsOverlap(packageName, other)) {
      throw internalError(`package path "${packageName}" conflicts with existing package "${other}": packages cannot be nested`);
    }
  }
}

function applyTask(
  ctx: HandlerContext,
  namespace: string,
  repo: RepositoryRecord,
  decoded: DecodedRevision,
  task: JsonObject,
  type: string,
): { files: Record<string, string>; clonedFrom?: string } {
  const spec = decoded.spec;
  switch (type) {
    case 'init': {
      const init = asObject(task['init']);
      if (init === undefined) throw internalError(`init not set for task of type "init"`);
      const keywords = Array.isArray(init['keywords']) ? init['keywords'].filter((k): k is string => typeof k === 'string') : [];
      return {
        files: initFiles({
          packageName: spec.packageName,
          description: stringField(init, 'description'),
          keywords,
          site: stringField(init, 'site'),
        }),
      };
    }
    case 'edit':
      return { files: copyFromSource(ctx, namespace, repo, spec.packageName, asObject(task['edit'])) };
    case 'clone':
      return cloneFromUpstream(ctx, namespace, spec.packageName, asObject(task['clone']));
    case 'upgrade':
      if (asObject(task['upgrade']) === undefined) throw internalError(`upgrade field not set for task of type "upgrade"`);
      // A three-way merge is out of the simulator's scope; say so instead of pretending.
      throw internalError('porch-sim: upgrade tasks are not simulated');
    default:
      throw internalError(`task of type "${type}" not supported`);
  }
}

/** `edit` (porchctl copy): same package, Published source, not the placeholder (docs/porch.md §porchctl). */
function copyFromSource(
  ctx: HandlerContext,
  namespace: string,
  repo: RepositoryRecord,
  packageName: string,
  edit: JsonObject | undefined,
): Record<string, string> {
  if (edit === undefined) throw internalError(`edit not set for task of type "edit"`);
  const sourceName = stringField(asObject(edit['sourceRef']), 'name');
  const source = ctx.store.getRevision(namespace, sourceName);
  if (source === undefined) {
    throw internalError(`failed to fetch package "${sourceName}": packagerevisions.porch.kpt.dev "${sourceName}" not found`);
  }
  if (source.packageName !== packageName || source.repository !== repo.name) {
    throw internalError(`source revision must be from same package ${repo.name}/${packageName}`);
  }
  if (source.placeholder) {
    throw internalError(`source revision may not be the placeholder package revision ${source.repository}/${source.name}`);
  }
  if (!isPublishedLifecycle(source.lifecycle)) throw internalError('source revision must be published');
  return { ...source.files };
}

/** `clone` from another registered PackageRevision; git and OCI upstreams cannot be reached here. */
function cloneFromUpstream(
  ctx: HandlerContext,
  namespace: string,
  packageName: string,
  clone: JsonObject | undefined,
): { files: Record<string, string>; clonedFrom: string } {
  if (clone === undefined) throw internalError(`clone not set for task of type "clone"`);
  const upstream = asObject(clone['upstreamRef']);
  const ref = asObject(upstream?.['upstreamRef']);
  if (ref === undefined) {
    if (asObject(upstream?.['git']) !== undefined) throw internalError('cannot clone Git repository: porch-sim has no git upstreams');
    if (asObject(upstream?.['oci']) !== undefined) throw internalError('cannot clone OCI package: porch-sim has no OCI upstreams');
    throw internalError('invalid clone source (neither of git, oci, nor upstream were specified)');
  }
  const sourceName = stringField(ref, 'name');
  if (sourceName === '') throw internalError('upstreamRef.name is required');
  const source: RevisionRecord | undefined = ctx.store.getRevision(namespace, sourceName);
  if (source === undefined) {
    throw internalError(`failed to fetch package revision "${sourceName}": packagerevisions.porch.kpt.dev "${sourceName}" not found`);
  }
  if (source.placeholder) {
    throw internalError(`upstream revision may not be the placeholder package revision ${source.repository}/${source.name}`);
  }
  const upstreamRepo = ctx.store.getRepository(namespace, source.repository);
  const ref_ = source.revision > 0 ? `${source.packageName}/v${source.revision}` : `drafts/${source.packageName}/${source.workspaceName}`;
  const git = { repo: upstreamRepo?.gitRepo ?? '', directory: source.packageName, ref: ref_ };
  const lock: Locator = { type: 'git', git: { ...git, commit: source.resourceVersion } };
  const files = { ...source.files };
  const kptfile = files[KPTFILE];
  if (kptfile !== undefined)
    files[KPTFILE] = withUpstream(kptfile, packageName, { type: 'git', git, updateStrategy: 'resource-merge' }, lock);
  return { files, clonedFrom: source.name };
}
