// One intent → one PackageRevision, exactly once, however often it is attempted. The flow is a
// small reconciler: look at what the server has for this intent's package, take the one step
// that moves it forward, look again. A crash, a lost reply or a retry therefore resumes from
// whatever state the server holds; nothing is remembered between attempts but the server's
// answer (porch-api.md §4.4 "how to be idempotent").
//
// The revision is found by its workspace, `intent-<intent id>`, and carries the intent id, the
// intent's content hash and the producer's order as annotations. Every round starts from a
// list of the package's revisions (the intent's own, the latest Published one, the newest
// order any Published one carries); then, by the state of the intent's own revision:
//
//   any, annotated with another content hash → CND_ERR_INTENT_CONFLICT (the id was reused)
//   Published      → done (also DeletionProposed: it was delivered, someone retires it since)
//   nothing, Draft or Proposed, while a Published revision carries a newer order
//                  → CND_ERR_INTENT_SUPERSEDED (an own Draft/Proposed is deleted first)
//   Draft or Proposed copied from a revision that is no longer the latest Published one (or
//   made for a new package that has a Published revision now)
//                  → delete it; the next round makes a fresh copy of the latest (no lost update)
//   nothing        → create a Draft: `edit` (copy) of the latest Published revision; for a new
//                    package `clone` of the configured blueprint, else CND_ERR_BLUEPRINT (a
//                    package with revisions but none Published waits: nothing to copy yet)
//   Draft          → write the resources (if they do not hold the intent yet; a clone of the
//                    blueprint first gives its Deployment the target's name), then propose
//   Proposed       → approve through the approval subresource (when `approve`), else done
//                    (propose and approve wait while a readiness gate is unmet, as porchctl does)
//
// Porch offers no rebase of a Draft onto a newer revision of its own package: `upgrade` merges a
// clone with a newer revision of its *upstream*, and `edit` copies a Published source only at
// creation (porch-api.md §2.1 tasks, §6.3 item 14). So a stale Draft is replaced: deleted (Draft
// and Proposed revisions may be, §2.5 (g)) and made again from the latest, where the intent's
// replicas are applied afresh. Because the check is repeated right before propose and right
// before approve, a revision is published only when it was copied from the latest one — as of
// the list that preceded the approval. Porch has no conditional publish ("only if the latest is
// still X"), so a revision another writer publishes during our one approval request can still
// be overtaken; closing that window needs the writers serialised per package (per target).
import {
  AUDIT_ANCHOR_ANNOTATION,
  AUDIT_ANCHOR_PATTERN,
  ConductorError,
  INTENT_ID_ANNOTATION,
  applyIntentToPackage,
  backoffDelay,
  sleep,
  type Intent,
  type Logger,
  type RetryPolicy,
} from '../../core/index.ts';
import { blueprintDeployment, specialiseBlueprint } from './blueprint.ts';
import { ApiError } from './client.ts';
import { isDuplicateWorkspace, isInFlight, isInvalid, isNotFound, isOutcomeUnknown, isPackageExists, isStaleResourceVersion, toSubmitError } from './errors.ts';
import type { BlueprintOptions } from './options.ts';
import type { CallOptions, Coordinates, Lifecycle, PackageRevision, PorchApi } from './porch-api.ts';
import { crashPoint } from '../../core/index.ts';

/** The intent's content hash (with the id, the effect's identity: issue 13). */
export const CONTENT_HASH_ANNOTATION = 'conductor.nephio.org/content-hash';
/** The producer's order of the intent (ms since the epoch), so that the newest intent for a target wins. */
export const INTENT_ORDER_ANNOTATION = 'conductor.nephio.org/intent-order';

/** `intent-` + the 40-hex intent id: a DNS-1123 label of 47 characters (porch-api.md §2.4). */
export function workspaceOf(intentId: string): string {
  return `intent-${intentId}`;
}

export interface FlowInput {
  intent: Intent;
  intentId: string;
  /** The hash of the intent's content; recorded on the revision and compared on a resume. */
  contentHash: string | undefined;
  /** The producer's order (ms since the epoch), when the source knows it. */
  order: number | undefined;
  /** The audit chain's head before this effect, recorded on the revision (an anchor off the data volume). */
  anchor?: string | undefined;
  at: Coordinates;
  approve: boolean;
  blueprint: BlueprintOptions | undefined;
  /** The sink's short-lived memory of what the blueprint resolved to (none: read it every time). */
  blueprints?: BlueprintCache | undefined;
  signal: AbortSignal;
  traceparent: string | undefined;
  log: Logger;
  plugin: string;
}

export interface FlowResult {
  name: string;
  workspace: string;
  lifecycle: Lifecycle;
  revision: number | undefined;
  /** The steps this attempt took (create, write-resources, propose, approve, …); empty on a no-op. */
  steps: string[];
}

/** Rounds of look-and-step in one attempt; each round makes at least one request. */
const MAX_ROUNDS = 24;
/** Backoff while another request holds the object's in-flight lock (porch-api.md §4.2). */
const IN_FLIGHT_BACKOFF: RetryPolicy = { maxAttempts: 0, initialDelayMs: 50, maxDelayMs: 2_000, budgetMs: 30_000 };

export async function runFlow(api: PorchApi, input: FlowInput): Promise<FlowResult> {
  const { at, intentId, log } = input;
  const workspace = workspaceOf(intentId);
  const options: CallOptions = { signal: input.signal, traceparent: input.traceparent };
  const steps: string[] = [];
  let name: string | undefined;
  /** Our latest view of the package; undefined means "look again before the next step". */
  let view: Observation | undefined;
  /** The resourceVersion at which the Draft's files were seen to hold the intent. */
  let resourcesVerifiedAt: string | undefined;
  let step = 'find';
  let lookAgainBecause = '';
  let inFlightWaits = 0;
  /** A 422, a refused create or a refused delete is re-checked once against a fresh view, then believed. */
  const believedAfterOneLook = new Set<string>();

  for (let round = 1; ; round += 1) {
    if (round > MAX_ROUNDS) {
      throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `${step}: the revision in workspace ${workspace} did not settle after ${MAX_ROUNDS} rounds (last: ${lookAgainBecause})`, {
        plugin: input.plugin,
        intentId,
        details: { step, workspace },
      });
    }
    try {
      if (view === undefined) {
        step = 'find';
        view = await observe(api, at, workspace, options);
      }
      const mine = view.mine;
      if (mine === undefined) {
        assertNotSuperseded(view, input);
        step = 'create';
        const { request, label } = await creationRequest(api, input, workspace, view, options);
        const created = await api.createRevision(at.namespace, request, options);
        crashPoint('porch.created');
        steps.push(label);
        // Nothing else changed that the create could tell: keep the rest of the view.
        view = { ...view, mine: created };
        continue;
      }
      name = mine.metadata.name;
      assertOurs(mine, input);
      assertSameContent(mine, input);
      const lifecycle = mine.spec.lifecycle ?? 'Draft';
      if (lifecycle === 'Published' || lifecycle === 'DeletionProposed') {
        log.debug({ revision: name, lifecycle, steps }, 'porch revision settled');
        return { name: name!, workspace, lifecycle, revision: mine.spec.revision, steps };
      }
      const newer = newerOrder(view, input);
      if (newer !== undefined) {
        step = 'supersede';
        await api.deleteRevision(at.namespace, name!, options).catch((error: unknown) => {
          log.debug({ err: error, revision: name }, 'porch: the superseded intent’s revision was not deleted; it stays unpublished');
        });
        assertNotSuperseded(view, input);
      }
      const stale = staleBecause(mine, view.latest);
      if (stale !== undefined) {
        step = 'discard stale revision';
        log.info({ revision: name, lifecycle, reason: stale }, 'porch: replacing an outdated revision by a copy of the latest');
        await api.deleteRevision(at.namespace, name!, options);
        steps.push(`discard stale ${lifecycle} (${stale})`);
        view = undefined;
        resourcesVerifiedAt = undefined;
        continue;
      }
      if (lifecycle === 'Proposed') {
        if (!input.approve) {
          log.debug({ revision: name, lifecycle, steps }, 'porch revision settled');
          return { name: name!, workspace, lifecycle, revision: mine.spec.revision, steps };
        }
        step = 'approve';
        assertReady(mine, input, step);
        const approved = await api.approveRevision(withLifecycle(mine, 'Published'), options);
        crashPoint('porch.approved');
        steps.push('approve');
        view = { ...view, mine: approved };
        continue;
      }
      if (resourcesVerifiedAt !== mine.metadata.resourceVersion) {
        step = 'write resources';
        const written = await writeResources(api, mine, input, options);
        if (written.wrote) steps.push('write resources');
        resourcesVerifiedAt = written.resourceVersion;
        // The resources write moved the revision's resourceVersion (PR and PRR share it,
        // porch-api.md §4.3): look again before the lifecycle change — which also checks once
        // more that the Draft is still a copy of the latest revision.
        if (written.wrote || written.resourceVersion !== mine.metadata.resourceVersion) {
          view = undefined;
          continue;
        }
      }
      step = 'propose';
      assertReady(mine, input, step);
      await api.updateRevision(withLifecycle(mine, 'Proposed'), options);
      crashPoint('porch.proposed');
      steps.push('propose');
      // Look again before approving: someone may have published meanwhile.
      view = undefined;
    } catch (error) {
      const reason = lookAgainReason(error, step, believedAfterOneLook);
      if (reason === undefined) throw toSubmitError(error, { plugin: input.plugin, intentId, step });
      lookAgainBecause = `${step}: ${reason}`;
      log.debug({ step, reason, revision: name }, 'porch: looking again before the next step');
      view = undefined;
      if (isInFlight(error)) {
        inFlightWaits += 1;
        await sleep(backoffDelay(inFlightWaits, IN_FLIGHT_BACKOFF), input.signal);
      }
    }
  }
}

/**
 * Errors after which the right move is a fresh read and another round, rather than giving the
 * intent back to the core.
 */
function lookAgainReason(error: unknown, step: string, believedAfterOneLook: Set<string>): string | undefined {
  if (isStaleResourceVersion(error)) return 'stale resourceVersion';
  if (isOutcomeUnknown(error)) return 'reply lost; the write may have been applied';
  if (isDuplicateWorkspace(error)) return 'the workspace exists already (an earlier create went through)';
  if (isInFlight(error)) return 'another request is writing the revision';
  if (isNotFound(error) && step !== 'find' && !/repositories\.config\.porch\.kpt\.dev/.test((error as Error).message)) return 'the revision vanished';
  // A 422 on a lifecycle step can come from a view that went stale (approved meanwhile); a create
  // refused because the package exists can race with a revision being published; a delete
  // refused (403) means the revision was published meanwhile, by another replica of ours.
  const isRefusedDelete = (e: unknown) => step === 'discard stale revision' && e instanceof ApiError && e.status === 403;
  const worthOneLook = [[isInvalid, 'invalid'], [isPackageExists, 'package exists'], [isRefusedDelete, 'delete refused']] as const;
  for (const [check, label] of worthOneLook) {
    if (!check(error)) continue;
    const key = `${step}/${label}`;
    if (believedAfterOneLook.has(key)) return undefined;
    believedAfterOneLook.add(key);
    return `${label}; checking against a fresh view`;
  }
  return undefined;
}

export interface Observation {
  /** The intent's own revision (its workspace), if any. */
  mine: PackageRevision | undefined;
  /** The highest Published revision: the one a new revision must be a copy of. */
  latest: PackageRevision | undefined;
  /** The Published revision with the newest intent order, when any carries one. */
  newestOrder: { order: number; name: string } | undefined;
  /** Whether the package has any revision besides ours (then it is no new target). */
  packageExists: boolean;
}

/**
 * One list of the package's revisions, found by spec fields (never by composing a name,
 * porch-api.md §0 recommendation), tells everything a round decides on.
 */
export async function observe(api: PorchApi, at: Coordinates, workspace: string, options: CallOptions): Promise<Observation> {
  const revisions = await api.listPackageRevisions(at, options);
  const mine = revisions.find((r) => r.spec.workspaceName === workspace);
  let newestOrder: Observation['newestOrder'];
  for (const r of revisions) {
    if (r === mine || !isDelivered(r)) continue;
    const order = orderOf(r);
    if (order !== undefined && (newestOrder === undefined || order > newestOrder.order)) newestOrder = { order, name: r.metadata.name! };
  }
  return { mine, latest: latestPublished(revisions), newestOrder, packageExists: revisions.some((r) => r !== mine) };
}

/** Published (or retired since): its effect reached the package (revision > 0; -1 is the main-branch placeholder). */
export function isDelivered(revision: PackageRevision): boolean {
  return (revision.spec.lifecycle === 'Published' || revision.spec.lifecycle === 'DeletionProposed') && (revision.spec.revision ?? 0) > 0;
}

export function orderOf(revision: PackageRevision): number | undefined {
  const text = revision.metadata.annotations?.[INTENT_ORDER_ANNOTATION];
  if (text === undefined || text.trim() === '') return undefined;
  const order = Number(text);
  return Number.isFinite(order) ? order : undefined;
}

/**
 * The source for a new revision of an existing package: the highest Published revision. The
 * main-branch placeholder (revision -1) cannot be a source (porch-api.md §2.4).
 */
function latestPublished(revisions: PackageRevision[]): PackageRevision | undefined {
  let best: PackageRevision | undefined;
  for (const r of revisions) {
    const revision = r.spec.revision ?? 0;
    if (r.spec.lifecycle !== 'Published' || revision <= 0) continue;
    if (best === undefined || revision > (best.spec.revision ?? 0)) best = r;
  }
  return best;
}

/** The newer order a Published revision of the package carries, if this intent is older. */
function newerOrder(view: Observation, input: FlowInput): Observation['newestOrder'] {
  if (input.order === undefined || view.newestOrder === undefined) return undefined;
  return view.newestOrder.order > input.order ? view.newestOrder : undefined;
}

/**
 * The newest intent for a target wins, across replicas (issue 18 defect 4): an intent older than
 * one whose effect is already Published is settled as superseded instead of undoing it. Equal or
 * unknown orders apply, as before.
 */
function assertNotSuperseded(view: Observation, input: FlowInput): void {
  const newer = newerOrder(view, input);
  if (newer === undefined) return;
  throw new ConductorError(
    'CND_ERR_INTENT_SUPERSEDED',
    `${input.at.repository}/${input.at.packageName} already holds a newer intent (order ${newer.order} in ${newer.name}) ` +
      `than this one (order ${input.order})`,
    { plugin: input.plugin, intentId: input.intentId, details: { revision: newer.name, newerOrder: newer.order, order: input.order } },
  );
}

/**
 * Why a Draft or Proposed revision of ours must not be published as it is, if it must not: it
 * was copied (`edit`) from a revision that is no longer the latest Published one, or made for a
 * new package (`clone`, `init`) that has a Published revision now. Publishing it would undo the
 * revisions published since it was made (a lost update, issue 18 defect 3). The source is read
 * from the creation task, which Porch keeps for the revision's life (porch-api.md §2.1).
 */
function staleBecause(revision: PackageRevision, latest: PackageRevision | undefined): string | undefined {
  const task = (revision.spec.tasks?.[0] ?? {}) as { type?: string; edit?: { sourceRef?: { name?: string } } };
  const source = task.type === 'edit' ? task.edit?.sourceRef?.name : undefined;
  if (task.type === 'edit' && source === latest?.metadata.name) return undefined;
  if (task.type !== 'edit' && latest === undefined) return undefined;
  const made =
    task.type === 'edit' ? `copied from ${source ?? 'an unnamed revision'}` : `made by ${task.type ?? 'an unknown task'} for a new package`;
  return `${made}, but the latest Published revision is ${latest?.metadata.name ?? 'none'}`;
}

/**
 * The create request: one creation task (porch-api.md §2.1, §6.3 item 18). `edit` from the latest
 * Published revision for an existing package, since current Porch refuses init and clone of an
 * existing package (§6.3 item 14); for a new package `clone` of the blueprint (§2.6), which copies
 * the blueprint's files and records it as the upstream in the Kptfile. The server computes the
 * name (§2.4); the intent id, content hash and order go on as annotations, so a resume can check
 * whose revision it is and for which content, and later intents can tell which is newer.
 */
async function creationRequest(
  api: PorchApi,
  input: FlowInput,
  workspace: string,
  view: Observation,
  options: CallOptions,
): Promise<{ request: Record<string, unknown>; label: string }> {
  let task: Record<string, unknown>;
  let label: string;
  if (view.latest !== undefined) {
    task = { type: 'edit', edit: { sourceRef: { name: view.latest.metadata.name } } };
    label = `create (copy of ${view.latest.metadata.name})`;
  } else if (view.packageExists) {
    // The package has revisions, none Published yet: nothing to copy, and Porch refuses a second
    // creation of the package (init or clone, porch-api.md §6.3 item 14), so asking is pointless.
    // It waits until an earlier revision is approved or deleted.
    throw new ConductorError(
      'CND_ERR_SUBMIT_TRANSIENT',
      `${input.at.repository}/${input.at.packageName} has revisions but none Published to copy; ` +
        'the intent waits until an earlier revision is approved or deleted',
      { plugin: input.plugin, intentId: input.intentId, details: { step: 'create' } },
    );
  } else {
    const blueprint = await findBlueprint(api, input, options);
    task = { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: blueprint } } } };
    label = `create (clone of blueprint ${blueprint})`;
  }
  const annotations: Record<string, string> = { [INTENT_ID_ANNOTATION]: input.intentId };
  if (input.contentHash !== undefined) annotations[CONTENT_HASH_ANNOTATION] = input.contentHash;
  if (input.order !== undefined) annotations[INTENT_ORDER_ANNOTATION] = String(input.order);
  if (input.anchor !== undefined && AUDIT_ANCHOR_PATTERN.test(input.anchor)) annotations[AUDIT_ANCHOR_ANNOTATION] = input.anchor;
  const request = {
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: input.at.namespace, annotations },
    spec: {
      packageName: input.at.packageName,
      repository: input.at.repository,
      workspaceName: workspace,
      lifecycle: 'Draft',
      tasks: [task],
    },
  };
  return { request, label };
}

function blueprintError(input: FlowInput, message: string, details: Record<string, unknown> = {}): ConductorError {
  return new ConductorError('CND_ERR_BLUEPRINT', message, {
    plugin: input.plugin,
    intentId: input.intentId,
    details: { step: 'create', ...details },
  });
}

/**
 * The blueprint revision to clone for a new target: the configured revision, or the latest
 * Published one. Its files are read first, so that an unusable blueprint (no Deployment to give
 * the target, or one without an image) is refused before anything is created.
 */
async function findBlueprint(api: PorchApi, input: FlowInput, options: CallOptions): Promise<string> {
  const { at, blueprint } = input;
  const target = `${at.repository}/${at.packageName}`;
  if (blueprint === undefined) {
    throw blueprintError(input, `${target} has no package yet, and no blueprint is configured to create it from (option blueprint)`);
  }
  const where = `blueprint ${blueprint.repository}/${blueprint.package}`;
  const cache = input.blueprints ?? new BlueprintCache(0);
  const resolved = await cache.resolve(at.namespace, blueprint, () => resolveBlueprint(api, at.namespace, blueprint, options));
  if (resolved === undefined) {
    const which = blueprint.revision === undefined ? 'Published revision' : `Published revision ${blueprint.revision}`;
    throw blueprintError(input, `${where} has no ${which} in namespace ${at.namespace} to create ${target} from`, { blueprint });
  }
  const usable = blueprintDeployment(resolved.files, input.intent);
  if (!usable.ok) {
    const message = `${where} (${resolved.name}) cannot create ${target}: ${usable.reason}`;
    throw blueprintError(input, message, { blueprint, revision: resolved.name });
  }
  return resolved.name;
}

interface ResolvedBlueprint {
  name: string;
  files: Record<string, string>;
}

/** The blueprint's revision to clone (the configured one, or the latest Published) and its files. */
export async function resolveBlueprint(
  api: PorchApi,
  namespace: string,
  blueprint: BlueprintOptions,
  options: CallOptions,
): Promise<ResolvedBlueprint | undefined> {
  const coordinates = { namespace, repository: blueprint.repository, packageName: blueprint.package };
  const revisions = await api.listPackageRevisions(coordinates, options);
  const published = revisions.filter((r) => r.spec.lifecycle === 'Published' && (r.spec.revision ?? 0) > 0);
  const chosen =
    blueprint.revision === undefined ? latestPublished(published) : published.find((r) => r.spec.revision === blueprint.revision);
  if (chosen === undefined) return undefined;
  const resources = await api.getResources(namespace, chosen.metadata.name!, options);
  return { name: chosen.metadata.name!, files: resources.spec.resources ?? {} };
}

/**
 * What the blueprint resolved to, kept for a few seconds per sink: every new target needs it, a
 * burst of new targets would otherwise read the same two objects once each (and under faults,
 * once per attempt), and a blueprint changes rarely. Concurrent intents share one read; a failed
 * read is not kept. A blueprint published meanwhile is used once the entry expires.
 */
export class BlueprintCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; value: Promise<ResolvedBlueprint | undefined> }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  resolve(namespace: string, blueprint: BlueprintOptions, load: () => Promise<ResolvedBlueprint | undefined>): Promise<ResolvedBlueprint | undefined> {
    const key = JSON.stringify([namespace, blueprint.repository, blueprint.package, blueprint.revision ?? null]);
    const now = Date.now();
    const kept = this.#entries.get(key);
    if (kept !== undefined && now - kept.at < this.#ttlMs) return kept.value;
    const value = load();
    this.#entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    return value;
  }
}

/** The workspace is derived from the intent id; a revision there annotated for another intent is not ours. */
function assertOurs(revision: PackageRevision, input: FlowInput): void {
  const owner = revision.metadata.annotations?.[INTENT_ID_ANNOTATION];
  if (owner === undefined || owner === input.intentId) return;
  throw new ConductorError(
    'CND_ERR_SUBMIT_PERMANENT',
    `PackageRevision ${revision.metadata.name} in workspace ${revision.spec.workspaceName} is annotated for intent ${owner}, not ${input.intentId}`,
    { plugin: input.plugin, intentId: input.intentId, details: { step: 'find', revision: revision.metadata.name } },
  );
}

/**
 * The effect's identity is the intent id and its content (issue 13 defect 1): a revision made for
 * this id with other content means the id (a reused correlation_id) names two intents. The
 * server, not the ledger, is the truth, so this holds when the ledger forgot the first one. A
 * revision without the annotation (made before it was recorded) is taken as this intent's.
 */
function assertSameContent(revision: PackageRevision, input: FlowInput): void {
  const recorded = revision.metadata.annotations?.[CONTENT_HASH_ANNOTATION];
  if (recorded === undefined || input.contentHash === undefined || recorded === input.contentHash) return;
  throw new ConductorError(
    'CND_ERR_INTENT_CONFLICT',
    `PackageRevision ${revision.metadata.name} was made for intent ${input.intentId} with other content ` +
      `(content hash ${recorded}, this one ${input.contentHash}): the correlation_id was reused for a different intent`,
    {
      plugin: input.plugin,
      intentId: input.intentId,
      details: { step: 'find', revision: revision.metadata.name, recordedContentHash: recorded },
    },
  );
}

/**
 * Puts the intent into the Draft's files: `applyIntentToPackage` changes only the replicas of the
 * matching Deployment (or adds one), every other byte stays. A Draft cloned from the blueprint is
 * first specialised for the target (its Deployment takes the target's name). Skipped when the
 * files already say what the intent says — an earlier attempt wrote them — so a resume does not
 * write twice. The comparison is by parsed YAML, since the server's render may re-serialise
 * (porch-api.md §2.5 c). Returns whether it wrote and the resourceVersion the files now have.
 */
async function writeResources(
  api: PorchApi,
  revision: PackageRevision,
  input: FlowInput,
  options: CallOptions,
): Promise<{ wrote: boolean; resourceVersion: string | undefined }> {
  const resources = await api.getResources(input.at.namespace, revision.metadata.name!, options);
  let existing = resources.spec.resources ?? {};
  let specialised = false;
  if ((revision.spec.tasks?.[0] as { type?: string } | undefined)?.type === 'clone') {
    const result = specialiseBlueprint(existing, input.intent);
    if (!result.ok) {
      const message = `${revision.metadata.name}, cloned from a blueprint, cannot serve ${input.intent.target}: ${result.reason}`;
      throw blueprintError(input, message);
    }
    specialised = result.files !== existing && Object.entries(result.files).some(([file, text]) => existing[file] !== text);
    existing = result.files;
  }
  const { files, changed } = applyIntentToPackage(existing, input.intent, input.intentId);
  if (!changed && !specialised) return { wrote: false, resourceVersion: resources.metadata.resourceVersion };
  // A full replacement of the file map, conditional on the resourceVersion we read.
  const written = await api.putResources({ ...resources, spec: { ...resources.spec, resources: files } }, options);
  crashPoint('porch.resources-written');
  return { wrote: true, resourceVersion: written.metadata?.resourceVersion };
}

/**
 * Readiness gates (the Kptfile's info.readinessGates, mirrored in spec.readinessGates) are not
 * enforced by the server, only by porchctl before propose and approve (porch-api.md §2.6, §6.3
 * item 15). The sink holds back the same way: an unmet gate means some controller has not
 * finished with the package, so the intent waits (transient) instead of publishing it early.
 */
function assertReady(revision: PackageRevision, input: FlowInput, step: string): void {
  const gates = (revision.spec.readinessGates as { conditionType?: string }[] | undefined) ?? [];
  const conditions = (revision.status?.['conditions'] as { type?: string; status?: string }[] | undefined) ?? [];
  const unmet = gates.map((g) => g.conditionType).filter((type) => type && !conditions.some((c) => c.type === type && c.status === 'True'));
  if (unmet.length === 0) return;
  throw new ConductorError(
    'CND_ERR_SUBMIT_TRANSIENT',
    `${step}: readiness gate${unmet.length > 1 ? 's' : ''} ${unmet.join(', ')} of ${revision.metadata.name} not True yet; the intent waits until ${unmet.length > 1 ? 'they are' : 'it is'}`,
    { plugin: input.plugin, intentId: input.intentId, details: { step, unmetReadinessGates: unmet } },
  );
}

/** The whole object back, with the lifecycle changed and the resourceVersion it was read at. */
function withLifecycle(revision: PackageRevision, lifecycle: Lifecycle): PackageRevision {
  return { ...revision, spec: { ...revision.spec, lifecycle } };
}
