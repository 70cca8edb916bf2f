// One intent submitted through the running sink's connection: the flow (flow.ts) run with the
// intent's facts, and its result turned into the receipt the ledger keeps.
import { ConductorError, packageNameOf, type Intent, type Receipt, type StageContext } from '../../core/index.ts';
import { toSubmitError } from './errors.ts';
import { runFlow, type BlueprintCache } from './flow.ts';
import type { PorchSinkOptions } from './options.ts';
import type { PorchApi } from './porch-api.ts';

const INTENT_ID = /^[0-9a-f]{40}$/;

export interface RunningSink {
  /** The plugin's instance id. */
  id: string;
  options: PorchSinkOptions;
  blueprints: BlueprintCache;
}

/**
 * The package an intent goes to: the configured name, or else the one derived from the intent
 * (only then: a target that names no package is an error only when its name is needed).
 */
export function packageAt(options: PorchSinkOptions, derivedName: () => string) {
  return { namespace: options.namespace, repository: options.repository, packageName: options.packageName ?? derivedName() };
}

export async function submitIntent(
  sink: RunningSink,
  api: PorchApi | undefined,
  startError: string | undefined,
  intent: Intent,
  ctx: StageContext,
): Promise<Receipt> {
  const { id, options } = sink;
  const where = { plugin: id, intentId: ctx.intentId };
  if (api === undefined)
    throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `porch sink is not connected: ${startError ?? 'not started'}`, where);
  if (!INTENT_ID.test(ctx.intentId)) {
    throw new ConductorError(
      'CND_ERR_SUBMIT_PERMANENT',
      `intent id ${ctx.intentId} is not 40 hex digits, so intent-<id> is no workspace name`,
      where,
    );
  }
  const at = packageAt(options, () => packageNameOf(intent));
  const flowLog = ctx.log.child({ plugin: id });
  flowLog.debug({ ...at, attempt: ctx.attempt, resumed: ctx.resumed }, 'porch: submitting');
  try {
    const result = await runFlow(api, {
      intent,
      intentId: ctx.intentId,
      contentHash: ctx.contentHash,
      order: ctx.order,
      anchor: ctx.anchor,
      at,
      approve: options.approve,
      blueprint: options.blueprint,
      blueprints: sink.blueprints,
      signal: ctx.signal,
      traceparent: ctx.trace.traceparent,
      log: flowLog,
      plugin: id,
    });
    flowLog.info({ revision: result.name, lifecycle: result.lifecycle, steps: result.steps }, 'porch: package revision ready');
    return {
      sink: id,
      ref: result.name,
      namespace: at.namespace,
      repository: at.repository,
      packageName: at.packageName,
      workspace: result.workspace,
      lifecycle: result.lifecycle,
      ...(result.revision === undefined ? {} : { revision: result.revision }),
    };
  } catch (error) {
    throw toSubmitError(error, { ...where, step: 'submit' });
  }
}
