// One intent → one PackageRevision, exactly once, however often it is attempted. The flow is a
// small reconciler: look at what the server has for this intent's workspace, take the one step
// that moves it forward, look again. A crash, a lost reply or a retry therefore resumes from
// whatever state the server holds; nothing is remembered between attempts but the server's
// answer (porch-api.md §4.4 "how to be idempotent").
//
//   nothing        → create a Draft: `edit` (copy) of the latest Published revision, or `init`
//   Draft          → write the resources (if they do not hold the intent yet), then propose
//   Proposed       → approve through the approval subresource (when `approve`), else done
//                    (propose and approve wait while a readiness gate is unmet, as porchctl does)
//   Published      → done (also DeletionProposed: it was delivered, someone retires it since)
import {
  ConductorError,
  INTENT_ID_ANNOTATION,
  applyIntentToPackage,
  backoffDelay,
  sleep,
  type Intent,
  type Logger,
  type RetryPolicy,
} from '../../core/index.ts';
import { isDuplicateWorkspace, isInFlight, isInvalid, isNotFound, isOutcomeUnknown, isPackageExists, isStaleResourceVersion, toSubmitError } from './errors.ts';
import type { CallOptions, Coordinates, Lifecycle, PackageRevision, PorchApi } from './porch-api.ts';
import { crashPoint } from '../../core/index.ts';

/** `intent-` + the 40-hex intent id: a DNS-1123 label of 47 characters (porch-api.md §2.4). */
export function workspaceOf(intentId: string): string {
  return `intent-${intentId}`;
}

export interface FlowInput {
  intent: Intent;
  intentId: string;
  at: Coordinates;
  approve: boolean;
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
  /** The steps this attempt took (create, write-resources, propose, approve); empty on a no-op. */
  steps: string[];
}

/** Rounds of look-and-step in one attempt; each round makes at least one request. */
const MAX_ROUNDS = 16;
/** Backoff while another request holds the object's in-flight lock (porch-api.md §4.2). */
const IN_FLIGHT_BACKOFF: RetryPolicy = { maxAttempts: 0, initialDelayMs: 50, maxDelayMs: 2_000, budgetMs: 30_000 };

export async function runFlow(api: PorchApi, input: FlowInput): Promise<FlowResult> {
  const { at, intentId, log } = input;
  const workspace = workspaceOf(intentId);
  const options: CallOptions = { signal: input.signal, traceparent: input.traceparent };
  const steps: string[] = [];
  let name: string | undefined;
  /** Our latest view of the revision; undefined means "look again before the next step". */
  let current: PackageRevision | undefined;
  let step = 'find';
  let lookAgainBecause = '';
  let inFlightWaits = 0;
  /** A 422 or a refused init is re-checked once against a fresh view, then believed. */
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
      if (current === undefined) {
        step = 'find';
        const seen = await observe(api, at, workspace, name, options);
        if (seen.mine === undefined) {
          step = 'create';
          current = await api.createRevision(at.namespace, creationRequest(input, workspace, seen.latestPublished), options);
          crashPoint('porch.created');
          steps.push(seen.latestPublished === undefined ? 'create (init)' : `create (copy of ${seen.latestPublished.metadata.name})`);
        } else {
          current = seen.mine;
        }
        name = current.metadata.name;
        assertOurs(current, input);
      }
      const lifecycle = current.spec.lifecycle ?? 'Draft';
      if (lifecycle === 'Published' || lifecycle === 'DeletionProposed' || (lifecycle === 'Proposed' && !input.approve)) {
        log.debug({ revision: name, lifecycle, steps }, 'porch revision settled');
        return { name: name!, workspace, lifecycle, revision: current.spec.revision, steps };
      }
      if (lifecycle === 'Draft') {
        step = 'write resources';
        if (await writeResources(api, current, input, options)) steps.push('write resources');
        crashPoint('porch.resources-written');
        // The resources write moved the revision's resourceVersion (PR and PRR share it,
        // porch-api.md §4.3): read it again before the lifecycle change.
        step = 'propose';
        const fresh = await api.getRevision(at.namespace, name!, options);
        if ((fresh.spec.lifecycle ?? 'Draft') !== 'Draft') {
          current = fresh;
          continue;
        }
        assertReady(fresh, input, step);
        current = await api.updateRevision(withLifecycle(fresh, 'Proposed'), options);
        crashPoint('porch.proposed');
        steps.push('propose');
        continue;
      }
      step = 'approve';
      assertReady(current, input, step);
      current = await api.approveRevision(withLifecycle(current, 'Published'), options);
      crashPoint('porch.approved');
      steps.push('approve');
    } catch (error) {
      const reason = lookAgainReason(error, step, believedAfterOneLook);
      if (reason === undefined) throw toSubmitError(error, { plugin: input.plugin, intentId, step });
      lookAgainBecause = `${step}: ${reason}`;
      log.debug({ step, reason, revision: name }, 'porch: looking again before the next step');
      current = undefined;
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
  // A 422 on a lifecycle step can come from a view that went stale (approved meanwhile); an
  // init refused because the package exists can race with a revision being published.
  for (const [check, label] of [[isInvalid, 'invalid'], [isPackageExists, 'package exists']] as const) {
    if (!check(error)) continue;
    const key = `${step}/${label}`;
    if (believedAfterOneLook.has(key)) return undefined;
    believedAfterOneLook.add(key);
    return `${label}; checking against a fresh view`;
  }
  return undefined;
}

interface Observation {
  mine: PackageRevision | undefined;
  latestPublished: PackageRevision | undefined;
}

/**
 * Finds this intent's revision by spec fields (never by composing a name, porch-api.md §0
 * recommendation); once the server told us its name, a direct GET is enough.
 */
async function observe(api: PorchApi, at: Coordinates, workspace: string, name: string | undefined, options: CallOptions): Promise<Observation> {
  if (name !== undefined) {
    try {
      return { mine: await api.getRevision(at.namespace, name, options), latestPublished: undefined };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  const revisions = await api.listPackageRevisions(at, options);
  return { mine: revisions.find((r) => r.spec.workspaceName === workspace), latestPublished: latestPublished(revisions) };
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

/**
 * The create request: one creation task (porch-api.md §2.1, §6.3 item 18). `init` for a new
 * package; `edit` from the latest Published revision for an existing one, since current Porch
 * refuses init and clone of an existing package (§6.3 item 14). The server computes the name
 * (§2.4); the intent id goes on as an annotation, so a resume can check whose revision it is.
 */
function creationRequest(input: FlowInput, workspace: string, source: PackageRevision | undefined): Record<string, unknown> {
  const task =
    source === undefined
      ? { type: 'init', init: { description: `${input.intent.target} in ${input.intent.namespace}, managed by Conductor intents`, keywords: ['conductor'] } }
      : { type: 'edit', edit: { sourceRef: { name: source.metadata.name } } };
  return {
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: input.at.namespace, annotations: { [INTENT_ID_ANNOTATION]: input.intentId } },
    spec: {
      packageName: input.at.packageName,
      repository: input.at.repository,
      workspaceName: workspace,
      lifecycle: 'Draft',
      tasks: [task],
    },
  };
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
 * Puts the intent into the Draft's files: `applyIntentToPackage` changes only the replicas of the
 * matching Deployment (or adds one), every other byte stays. Skipped when the files already say
 * what the intent says — an earlier attempt wrote them — so a resume does not write twice. The
 * comparison is by parsed YAML, since the server's render may re-serialise (porch-api.md §2.5 c).
 * Returns whether it wrote.
 */
async function writeResources(api: PorchApi, revision: PackageRevision, input: FlowInput, options: CallOptions): Promise<boolean> {
  const resources = await api.getResources(input.at.namespace, revision.metadata.name!, options);
  const { files, changed } = applyIntentToPackage(resources.spec.resources ?? {}, input.intent, input.intentId);
  if (!changed) return false;
  // A full replacement of the file map, conditional on the resourceVersion we read.
  await api.putResources({ ...resources, spec: { ...resources.spec, resources: files } }, options);
  return true;
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
