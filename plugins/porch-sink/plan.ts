// `conductor plan` and `conductor history` for the Porch sink, with read-only requests only
// (lists of PackageRevisions, reads of their resources): the same look the flow takes before its
// first step (flow.ts), and the decision it would make, without taking the step.
import YAML from 'yaml';
import {
  INTENT_ID_ANNOTATION,
  applyIntentToPackage,
  isConductorError,
  type HistoryEntry,
  type Intent,
  type PlanRequest,
  type PlanResult,
} from '../../core/index.ts';
import { specialiseBlueprint } from './blueprint.ts';
import { CONTENT_HASH_ANNOTATION, isDelivered, observe, orderOf, resolveBlueprint, workspaceOf } from './flow.ts';
import type { BlueprintOptions } from './options.ts';
import type { CallOptions, Coordinates, PorchApi } from './porch-api.ts';

export interface PlanInput extends PlanRequest {
  intent: Intent;
  at: Coordinates;
  blueprint: BlueprintOptions | undefined;
}

/**
 * What the flow would do with this intent, decided as its first round decides: the intent's own
 * revision (published: a duplicate; other content: a conflict), a newer Published intent
 * (superseded), else the latest Published revision's files with the intent applied — or, for a
 * new package, the blueprint's, specialised for the target.
 */
export async function planFlow(api: PorchApi, input: PlanInput): Promise<PlanResult> {
  const { at, intent, intentId } = input;
  const options: CallOptions = { signal: input.signal };
  const view = await observe(api, at, workspaceOf(intentId), options);
  const where = `${at.repository}/${at.packageName}`;
  const mine = view.mine;
  if (mine !== undefined) {
    const name = mine.metadata.name!;
    const owner = mine.metadata.annotations?.[INTENT_ID_ANNOTATION];
    if (owner !== undefined && owner !== intentId) {
      return {
        outcome: 'refused',
        message: `PackageRevision ${name} in workspace ${mine.spec.workspaceName} is annotated for intent ${owner}`,
        files: [],
      };
    }
    const recorded = mine.metadata.annotations?.[CONTENT_HASH_ANNOTATION];
    if (recorded !== undefined && recorded !== input.contentHash) {
      return {
        outcome: 'conflict',
        message: `PackageRevision ${name} was made for intent ${intentId} with other content (content hash ${recorded})`,
        files: [],
      };
    }
    if (mine.spec.lifecycle === 'Published' || mine.spec.lifecycle === 'DeletionProposed') {
      return {
        outcome: 'duplicate',
        message: `already ${mine.spec.lifecycle} as ${name} (revision ${mine.spec.revision ?? '?'})`,
        files: [],
      };
    }
  }
  if (input.order !== undefined && view.newestOrder !== undefined && view.newestOrder.order > input.order) {
    const message = `${where} already holds a newer intent (order ${view.newestOrder.order} in ${view.newestOrder.name}) than this one (order ${input.order})`;
    return { outcome: 'superseded', message, files: [] };
  }
  const latest = view.latest;
  try {
    if (latest !== undefined) {
      const before = (await api.getResources(at.namespace, latest.metadata.name!, options)).spec.resources ?? {};
      const after = applyIntentToPackage(before, intent, intentId).files;
      return { outcome: 'apply', files: changed(where, before, after), base: latest.metadata.name! };
    }
    if (view.packageExists) {
      return {
        outcome: 'apply',
        message: `${where} has revisions but none Published to copy: the intent would wait until one is`,
        files: [],
      };
    }
    if (input.blueprint === undefined) {
      return {
        outcome: 'refused',
        message: `${where} has no package yet, and no blueprint is configured to create it from (option blueprint)`,
        files: [],
      };
    }
    const blueprint = input.blueprint;
    const resolved = await resolveBlueprint(api, at.namespace, blueprint, options);
    const named = `blueprint ${blueprint.repository}/${blueprint.package}`;
    if (resolved === undefined)
      return { outcome: 'refused', message: `${named} has no Published revision to create ${where} from`, files: [] };
    const specialised = specialiseBlueprint(resolved.files, intent);
    if (!specialised.ok)
      return { outcome: 'refused', message: `${named} (${resolved.name}) cannot create ${where}: ${specialised.reason}`, files: [] };
    const after = applyIntentToPackage(specialised.files, intent, intentId).files;
    return { outcome: 'apply', files: changed(where, {}, after), base: `${resolved.name} (blueprint)` };
  } catch (error) {
    if (isConductorError(error) && !error.retryable) return { outcome: 'refused', message: `${error.code}: ${error.message}`, files: [] };
    throw error;
  }
}

function changed(where: string, before: Record<string, string>, after: Record<string, string>): PlanResult['files'] {
  return Object.keys(after)
    .sort()
    .filter((name) => before[name] !== after[name])
    .map((name) => ({ path: `${where}/${name}`, ...(before[name] === undefined ? {} : { before: before[name] }), after: after[name]! }));
}

/**
 * The intents published to a package, oldest first: every delivered revision annotated with an
 * intent id, with its content hash, order and the replicas its Deployment holds.
 */
export async function packageHistory(api: PorchApi, at: Coordinates, target: string, signal: AbortSignal): Promise<HistoryEntry[]> {
  const options: CallOptions = { signal };
  const revisions = (await api.listPackageRevisions(at, options))
    .filter((r) => isDelivered(r) && r.metadata.annotations?.[INTENT_ID_ANNOTATION] !== undefined)
    .sort((a, b) => (a.spec.revision ?? 0) - (b.spec.revision ?? 0));
  const entries: HistoryEntry[] = [];
  for (const revision of revisions) {
    const annotations = revision.metadata.annotations ?? {};
    const resources = (await api.getResources(at.namespace, revision.metadata.name!, options)).spec.resources ?? {};
    const replicas = replicasOf(resources, target);
    const order = orderOf(revision);
    const published = revision.status?.['publishTimestamp'];
    entries.push({
      time: typeof published === 'string' ? published : '',
      intentId: annotations[INTENT_ID_ANNOTATION]!,
      ...(annotations[CONTENT_HASH_ANNOTATION] === undefined ? {} : { contentHash: annotations[CONTENT_HASH_ANNOTATION] }),
      ...(replicas === undefined ? {} : { replicas }),
      ...(order === undefined ? {} : { order }),
      receipt: { ref: revision.metadata.name!, ...(revision.spec.revision === undefined ? {} : { revision: revision.spec.revision }) },
    });
  }
  return entries;
}

/** spec.replicas of the Deployment named `target` in a package's YAML files. */
function replicasOf(files: Record<string, string>, target: string): number | undefined {
  for (const [name, text] of Object.entries(files)) {
    if (!/\.ya?ml$/.test(name)) continue;
    const docs = YAML.parseAllDocuments(text);
    if (!Array.isArray(docs)) continue;
    for (const doc of docs) {
      const object = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { replicas?: unknown } } | null;
      if (object?.kind === 'Deployment' && object.metadata?.name === target && typeof object.spec?.replicas === 'number')
        return object.spec.replicas;
    }
  }
  return undefined;
}
