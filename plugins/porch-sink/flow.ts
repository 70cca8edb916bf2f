// One intent → one PackageRevision, exactly once, however often it is attempted. The flow is a
// small reconciler: look at what the server has for this intent's package, take the one step
// that moves it forward, look again. A crash, a lost reply or a retry therefore resumes from
// whatever state the server holds; nothing is remembered between attempts but the server's answer (docs/porch.md
// §Idempotency).
//
// The revision is found by its workspace, `intent-<intent id>`, and carries the intent id, the
// intent's content hash and the producer's order as annotations. A round starts from a list of
// the package's revisions (the intent's own, the latest Published one, the newest order any
// Published one carries), or from what the answer to the last write said when that is all a
// list could add (a create returns the Draft; a resources write that left the Kptfile as it was
// moved nothing of the revision but its resourceVersion); then, by the state of the intent's own
// revision:
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
// creation (docs/porch.md §PackageRevision, §Sharp edges item 14). So a stale Draft is replaced: deleted (Draft
// and Proposed revisions may be, §Deleting) and made again from the latest, where the intent's
// replicas are applied afresh. Because a propose is always followed by a list, and the check
// runs on it right before approve (or before a Proposed revision is left for a person), a
// revision is published only when it was copied from the latest one — as of the list that
// preceded the approval. Porch has no conditional publish ("only if the latest is still X"), so
// a revision another writer publishes during our one approval request can still be overtaken;
// closing that window needs the writers serialised per package (per target).
//
// Requests for a new revision, without faults: list, create, read resources, write resources,
// propose, list, approve — seven (six without approval; test/porch/request-count.test.ts holds
// them to it); a new package adds the blueprint's list and resources read while the sink's
// short-lived blueprint cache is empty. Finding the revision by its composed name instead of by
// the list would save nothing: a new revision misses and needs the list anyway (for the latest
// Published revision to copy), and the name is the server's to compose, not ours to rely on.
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
import {
  isDuplicateWorkspace,
  isInFlight,
  isInvalid,
  isNotFound,
  isOutcomeUnknown,
  isPackageExists,
  isStaleResourceVersion,
  toSubmitError,
} from './errors.ts';
import type { BlueprintOptions } from './options.ts';
import type { CallOptions, Coordinates, Lifecycle, PackageRevision, PackageRevisionResources, PorchApi } from './porch-api.ts';
import { crashPoint } from '../../core/index.ts';

/** The intent's content hash (with the id, the effect's identity: issue 13). */
export const CONTENT_HASH_ANNOTATION = 'conductor.nephio.org/content-hash';
/** The producer's order of the intent (ms since the epoch), so that the newest intent for a target wins. */
export const INTENT_ORDER_ANNOTATION = 'conductor.nephio.org/intent-order';

/** `intent-` + the 40-hex intent id: a DNS-1123 label of 47 characters (docs/porch.md §Names). */
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
/** Backoff while another request holds the object's in-flight lock (docs/porch.md §In-flight lock). */
const IN_FLIGHT_BACKOFF: RetryPolicy = { maxAttempts: 0, initialDelayMs: 50, maxDelayMs: 2_000, budgetMs: 30_000 };

/** What one attempt carries from round to round; nothing of it outlives the attempt. */
interface FlowRun {
  readonly api: PorchApi;
  readonly input: FlowInput;
  readonly workspace: string;
  readonly options: CallOptions;
  readonly steps: string[];
  name: string | undefined;
  /** Our latest view of the package; undefined means "look again before the next step". */
  view: Observation | undefined;
  /** The resourceVersion at which the Draft's files were seen to hold the intent. */
  resourcesVerifiedAt: string | undefined;
  step: string;
  lookAgainBecause: string;
  inFlightWaits: number;
  /** A 422, a refused create or a refused delete is re-checked once against a fresh view, then believed. */
  readonly believedAfterOneLook: Set<string>;
}

export async function runFlow(api: PorchApi, input: FlowInput): Promise<FlowResult> {
  const run: FlowRun = {
    api,
    input,
    workspace: workspaceOf(input.intentId),
    options: { signal: input.signal, traceparent: input.traceparent },
    steps: [],
    name: undefined,
    view: undefined,
    resourcesVerifiedAt: undefined,
    step: 'find',
    lookAgainBecause: '',
    inFlightWaits: 0,
    believedAfterOneLook: new Set<string>(),
  };
  for (let round = 1; ; round += 1) {
    if (round > MAX_ROUNDS) throw notSettled(run);
    try {
      const result = await takeStep(run);
      if (result !== undefined) return result;
    } catch (error) {
      await lookAgainOrGiveUp(run, error);
    }
  }
}

function notSettled(run: FlowRun): ConductorError {
  const { step, workspace } = run;
  const message =
    `${step}: the revision in workspace ${workspace} did not settle after ${MAX_ROUNDS} rounds ` + `(last: ${run.lookAgainBecause})`;
  return new ConductorError('CND_ERR_SUBMIT_TRANSIENT', message, {
    plugin: run.input.plugin,
    intentId: run.input.intentId,
    details: { step, workspace },
  });
}

/**
 * One round: look at the package if the last step left no view of it, then take the one step the
 * state of the intent's own revision calls for (the table in the file's head). Returns the result
 * once the revision is settled.
 */
async function takeStep(run: FlowRun): Promise<FlowResult | undefined> {
  const { input } = run;
  if (run.view === undefined) {
    run.step = 'find';
    run.view = await observe(run.api, input.at, run.workspace, run.options);
  }
  const view = run.view;
  const mine = view.mine;
  if (mine === undefined) {
    await createDraft(run, view);
    return undefined;
  }
  run.name = mine.metadata.name;
  assertOurs(mine, input);
  assertSameContent(mine, input);
  const lifecycle = mine.spec.lifecycle ?? 'Draft';
  if (lifecycle === 'Published' || lifecycle === 'DeletionProposed') return settled(run, mine, lifecycle);
  await retireIfSuperseded(run, view, mine);
  if (await discardIfStale(run, mine, view.latest, lifecycle)) return undefined;
  if (lifecycle === 'Proposed') return input.approve ? approve(run, mine) : settled(run, mine, lifecycle);
  await writeAndPropose(run, mine);
  return undefined;
}

function settled(run: FlowRun, mine: PackageRevision, lifecycle: Lifecycle): FlowResult {
  const name = mine.metadata.name!;
  run.input.log.debug({ revision: name, lifecycle, steps: run.steps }, 'porch revision settled');
  return { name, workspace: run.workspace, lifecycle, revision: mine.spec.revision, steps: run.steps };
}

/** Nothing in the workspace yet: a Draft, copied from the latest Published revision or cloned from the blueprint. */
async function createDraft(run: FlowRun, view: Observation): Promise<void> {
  assertNotSuperseded(view, run.input);
  run.step = 'create';
  const { request, label } = await creationRequest(run.api, run.input, run.workspace, view, run.options);
  const created = await run.api.createRevision(run.input.at.namespace, request, run.options);
  crashPoint('porch.created');
  run.steps.push(label);
  // Nothing else changed that the create could tell: keep the rest of the view.
  run.view = { ...view, mine: created };
}

/** A newer intent's effect is Published: our unpublished revision goes, and the intent is superseded. */
async function retireIfSuperseded(run: FlowRun, view: Observation, mine: PackageRevision): Promise<void> {
  if (newerOrder(view, run.input) === undefined) return;
  run.step = 'supersede';
  await run.api.deleteRevision(run.input.at.namespace, mine.metadata.name!, run.options).catch((error: unknown) => {
    const message = 'porch: the superseded intent’s revision was not deleted; it stays unpublished';
    run.input.log.debug({ err: error, revision: mine.metadata.name }, message);
  });
  assertNotSuperseded(view, run.input);
}

/** Deletes our Draft or Proposed revision when it is not a copy of the latest Published one; true when it did. */
async function discardIfStale(
  run: FlowRun,
  mine: PackageRevision,
  latest: PackageRevision | undefined,
  lifecycle: Lifecycle,
): Promise<boolean> {
  const stale = staleBecause(mine, latest);
  if (stale === undefined) return false;
  run.step = 'discard stale revision';
  const message = 'porch: replacing an outdated revision by a copy of the latest';
  run.input.log.info({ revision: mine.metadata.name, lifecycle, reason: stale }, message);
  await run.api.deleteRevision(run.input.at.namespace, mine.metadata.name!, run.options);
  run.steps.push(`discard stale ${lifecycle} (${stale})`);
  run.view = undefined;
  run.resourcesVerifiedAt = undefined;
  return true;
}

/** Proposed → Published through the approval subresource; the answer is the view of our revision. */
async function approve(run: FlowRun, proposed: PackageRevision): Promise<undefined> {
  run.step = 'approve';
  assertReady(proposed, run.input, run.step);
  const approved = await run.api.approveRevision(withLifecycle(proposed, 'Published'), run.options);
  crashPoint('porch.approved');
  run.steps.push('approve');
  run.view = { ...run.view!, mine: approved };
  return undefined;
}

/**
 * Draft: the intent into its files (unless they hold it at this resourceVersion already), then
 * propose. The resources write moves the revision's resourceVersion (PR and PRR share it), and
 * its answer tells the new one: when the write left the Kptfile as it was, nothing else of the
 * revision moved (its gates, conditions and package metadata are the Kptfile's), so the propose
 * goes out without reading the revision back; otherwise the next round looks again.
 */
async function writeAndPropose(run: FlowRun, mine: PackageRevision): Promise<void> {
  let draft = mine;
  if (run.resourcesVerifiedAt !== draft.metadata.resourceVersion) {
    run.step = 'write resources';
    const written = await writeResources(run.api, draft, run.input, run.options);
    if (written.wrote) run.steps.push('write resources');
    run.resourcesVerifiedAt = written.resourceVersion;
    if (written.current === undefined) {
      run.view = undefined;
      return;
    }
    draft = written.current;
  }
  run.step = 'propose';
  assertReady(draft, run.input, run.step);
  await run.api.updateRevision(withLifecycle(draft, 'Proposed'), run.options);
  crashPoint('porch.proposed');
  run.steps.push('propose');
  // Look again before approving (and before settling a Proposed one): someone may have published
  // meanwhile, and a revision is approved only as a copy of the latest one.
  run.view = undefined;
}

/** After a failed step: another round from a fresh view, or the error for the core. */
async function lookAgainOrGiveUp(run: FlowRun, error: unknown): Promise<void> {
  const { input, step } = run;
  const reason = lookAgainReason(error, step, run.believedAfterOneLook);
  if (reason === undefined) throw toSubmitError(error, { plugin: input.plugin, intentId: input.intentId, step });
  run.lookAgainBecause = `${step}: ${reason}`;
  input.log.debug({ step, reason, revision: run.name }, 'porch: looking again before the next step');
  run.view = undefined;
  if (isInFlight(error)) {
    run.inFlightWaits += 1;
    await sleep(backoffDelay(run.inFlightWaits, IN_FLIGHT_BACKOFF), input.signal);
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
  if (isNotFound(error) && step !== 'find' && !/repositories\.config\.porch\.kpt\.dev/.test((error as Error).message))
    return 'the revision vanished';
  // A 422 on a lifecycle step can come from a view that went stale (approved meanwhile); a create
  // refused because the package exists can race with a revision being published; a delete
  // refused (403) means the revision was published meanwhile, by another replica of ours.
  const isRefusedDelete = (e: unknown) => step === 'discard stale revision' && e instanceof ApiError && e.status === 403;
  const worthOneLook = [
    [isInvalid, 'invalid'],
    [isPackageExists, 'package exists'],
    [isRefusedDelete, 'delete refused'],
  ] as const;
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
 * docs/porch.md §Versions), tells everything a round decides on.
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
 * main-branch placeholder (revision -1) cannot be a source (docs/porch.md §Names).
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
 * from the creation task, which Porch keeps for the revision's life (docs/porch.md §PackageRevision).
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
 * The create request: one creation task (docs/porch.md §PackageRevision, §Sharp edges item 18). `edit` from the latest
 * Published revision for an existing package, since current Porch refuses init and clone of an
 * existing package (docs/porch.md §Sharp edges item 14); for a new package `clone` of the blueprint (§porchctl),
 * which copies the blueprint's files and records it as the upstream in the Kptfile. The server computes the
 * name (docs/porch.md §Names); the intent id, content hash and order go on as annotations, so a resume can check
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
    // creation of the package (init or clone, docs/porch.md §Sharp edges item 14), so asking is pointless.
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

  resolve(
    namespace: string,
    blueprint: BlueprintOptions,
    load: () => Promise<ResolvedBlueprint | undefined>,
  ): Promise<ResolvedBlueprint | undefined> {
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
 * (docs/porch.md §Writing resources). Returns whether it wrote, the resourceVersion the files now have, and
 * the revision as it now is when the answers tell it without a read (see `revisionAfter`).
 */
async function writeResources(
  api: PorchApi,
  revision: PackageRevision,
  input: FlowInput,
  options: CallOptions,
): Promise<{ wrote: boolean; resourceVersion: string | undefined; current: PackageRevision | undefined }> {
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
  if (!changed && !specialised) {
    const resourceVersion = resources.metadata.resourceVersion;
    const current = resourceVersion === revision.metadata.resourceVersion ? revision : undefined;
    return { wrote: false, resourceVersion, current };
  }
  // A full replacement of the file map, conditional on the resourceVersion we read.
  const written = await api.putResources({ ...resources, spec: { ...resources.spec, resources: files } }, options);
  crashPoint('porch.resources-written');
  const current = revisionAfter(revision, resources, written);
  return { wrote: true, resourceVersion: written.metadata?.resourceVersion, current };
}

/**
 * The revision after a resources write, known from the two answers alone, or undefined when
 * only a read can tell. Of a PackageRevision, a resources write can move only what Porch derives
 * from the Kptfile (readiness gates, conditions, package metadata, upstream lock) and the
 * resourceVersion it shares with the resources. So when the files we read were those of the
 * revision we hold (same resourceVersion) and the stored Kptfile (after the server's render) is
 * the text it was, the revision is the one we hold at the new resourceVersion.
 */
function revisionAfter(
  revision: PackageRevision,
  read: PackageRevisionResources,
  written: PackageRevisionResources,
): PackageRevision | undefined {
  const resourceVersion = written.metadata?.resourceVersion;
  if (resourceVersion === undefined) return undefined;
  if (read.metadata.resourceVersion !== revision.metadata.resourceVersion) return undefined;
  if (written.spec?.resources?.['Kptfile'] !== read.spec.resources?.['Kptfile']) return undefined;
  return { ...revision, metadata: { ...revision.metadata, resourceVersion } };
}

/**
 * Readiness gates (the Kptfile's info.readinessGates, mirrored in spec.readinessGates) are not
 * enforced by the server, only by porchctl before propose and approve (docs/porch.md §porchctl, §Sharp edges
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
