// The Porch sink (DESIGN §4, issue 3): each intent becomes one Porch PackageRevision in the
// workspace `intent-<intentId>`, created as a Draft (a copy of the latest Published revision,
// or for a new package a clone of the configured blueprint), filled with the intent's replicas,
// proposed and — with `approve` — published, through the real porch.kpt.dev/v1alpha1 API
// behind the kube-apiserver (porch-api.md).
// The flow is in flow.ts, the wire in client.ts/porch-api.ts, credentials in auth.ts, error
// meaning in errors.ts, and the connectivity checks in preflight.ts.
import {
  CircuitBreaker,
  ConductorError,
  definePlugin,
  packageNameOf,
  type Intent,
  type PluginStatus,
  type Receipt,
  type StageContext,
} from '../../core/index.ts';
import { connectionWarnings, resolveConnection } from './auth.ts';
import { KubeClient } from './client.ts';
import { toSubmitError } from './errors.ts';
import { BlueprintCache, runFlow } from './flow.ts';
import { DOCS, OPTIONS_SCHEMA, type PorchSinkOptions } from './options.ts';
import { PorchApi } from './porch-api.ts';
import { packageHistory, planFlow } from './plan.ts';
import { runPreflight } from './preflight.ts';

const INTENT_ID = /^[0-9a-f]{40}$/;
/** How long the blueprint's resolution (its revision and files) is reused for new targets. */
const BLUEPRINT_CACHE_MS = 10_000;

/** Where the sink writes and what new packages come from, as the preflight checks them. */
function targetOf(options: PorchSinkOptions): { namespace: string; repository: string; blueprint: PorchSinkOptions['blueprint'] } {
  return { namespace: options.namespace, repository: options.repository, blueprint: options.blueprint };
}

export default definePlugin({
  name: 'porch-sink',
  kind: 'submit',
  description: 'Submits each intent as a Porch PackageRevision (proposed, and approved when configured) through the Kubernetes API.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  configWarnings: connectionWarnings,
  create(context, options) {
    const { log } = context;
    const breaker = new CircuitBreaker({
      name: context.id,
      failureThreshold: options.circuitBreaker.failureThreshold,
      resetMs: options.circuitBreaker.resetMs,
      onStateChange: (state) => {
        const fields = { circuit: state, lastError: breaker.lastError };
        if (state === 'open') log.warn(fields, 'porch circuit opened: requests fail fast until a probe succeeds');
        else log.info(fields, `porch circuit ${state}`);
      },
    });
    let api: PorchApi | undefined;
    const blueprints = new BlueprintCache(BLUEPRINT_CACHE_MS);
    let startError: string | undefined;
    const stopping = new AbortController();

    /** Reads the credentials and opens a connection pool (I/O, so never in the factory). */
    const connect = (circuit: CircuitBreaker): PorchApi => {
      const connection = resolveConnection(options);
      for (const warning of connection.warnings) log.warn({ server: connection.origin }, warning);
      return new PorchApi(new KubeClient({ connection, timeoutMs: options.timeoutMs, concurrency: options.concurrency, breaker: circuit }));
    };

    let probe: NodeJS.Timeout | undefined;

    const submit = async (intent: Intent, ctx: StageContext): Promise<Receipt> => {
      const where = { plugin: context.id, intentId: ctx.intentId };
      if (api === undefined) throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `porch sink is not connected: ${startError ?? 'not started'}`, where);
      if (!INTENT_ID.test(ctx.intentId)) {
        throw new ConductorError('CND_ERR_SUBMIT_PERMANENT', `intent id ${ctx.intentId} is not 40 hex digits, so intent-<id> is no workspace name`, where);
      }
      const at = { namespace: options.namespace, repository: options.repository, packageName: options.packageName ?? packageNameOf(intent) };
      const flowLog = ctx.log.child({ plugin: context.id });
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
          blueprints,
          signal: ctx.signal,
          traceparent: ctx.trace.traceparent,
          log: flowLog,
          plugin: context.id,
        });
        flowLog.info({ revision: result.name, lifecycle: result.lifecycle, steps: result.steps }, 'porch: package revision ready');
        return {
          sink: context.id,
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
    };

    return {
      start() {
        try {
          api = connect(breaker);
        } catch (error) {
          startError = (error as Error).message;
          throw error;
        }
        log.info({ server: api.client.connection.origin, via: api.client.connection.source, namespace: options.namespace, repository: options.repository, approve: options.approve }, 'porch sink ready to submit');
        // A first contact in the background, so that readiness shows a bad CA or refused
        // credentials before the first intent arrives. Start does not wait for the server.
        void api.discovery({ signal: stopping.signal }).catch((error: unknown) => {
          if (!stopping.signal.aborted) log.warn({ err: error }, `porch server not usable yet: ${(error as Error).message}`);
        });
        // While the circuit is not closed, probe the server now and then, so readiness comes
        // back when the server does, even when no intent is waiting to be the probe.
        probe = setInterval(() => {
          if (api === undefined || breaker.state === 'closed') return;
          void api.discovery({ signal: stopping.signal }).catch(() => undefined);
        }, options.circuitBreaker.resetMs);
        probe.unref();
      },
      async stop() {
        if (probe) clearInterval(probe);
        stopping.abort();
        const closing = api?.client.close();
        api = undefined;
        startError = 'stopped';
        await closing;
      },
      status(): PluginStatus {
        const circuit = breaker.state;
        if (api === undefined) return { ready: false, message: `porch sink not connected: ${startError ?? 'not started'}`, details: { circuit } };
        const credentials = api.client.credentials;
        // Half-open is still an outage until its probe succeeds: ready only with a closed circuit.
        const ready = circuit === 'closed' && credentials.ok;
        const message = !credentials.ok
          ? credentials.message
          : circuit === 'open'
            ? `circuit open after repeated failures: ${breaker.lastError ?? 'unknown'}`
            : circuit === 'half-open'
              ? `circuit half-open, probing the server after: ${breaker.lastError ?? 'failures'}`
              : credentials.message;
        return { ready, message, details: { circuit, server: api.client.connection.origin, credentials: credentials.ok ? 'ok' : 'failing' } };
      },
      apply(hooks) {
        hooks.submit.tapPromise(context.id, (intent, ctx) => submit(intent, ctx));
      },
      // plan() and history() run on a pipeline that was never started (`conductor plan`,
      // `conductor history`): each opens a connection of its own, makes read requests only, and
      // closes it again.
      async plan(intent, request) {
        const reader = connect(new CircuitBreaker({ name: `${context.id} plan`, failureThreshold: Number.MAX_SAFE_INTEGER }));
        try {
          const at = { namespace: options.namespace, repository: options.repository, packageName: options.packageName ?? packageNameOf(intent) };
          return await planFlow(reader, { ...request, intent, at, blueprint: options.blueprint });
        } catch (error) {
          throw toSubmitError(error, { plugin: context.id, intentId: request.intentId, step: 'plan' });
        } finally {
          await reader.client.close();
        }
      },
      async history(query) {
        const reader = connect(new CircuitBreaker({ name: `${context.id} history`, failureThreshold: Number.MAX_SAFE_INTEGER }));
        try {
          const at = { namespace: options.namespace, repository: options.repository, packageName: options.packageName ?? query.target };
          return await packageHistory(reader, at, query.target, query.signal);
        } finally {
          await reader.client.close();
        }
      },
      async preflight(signal) {
        // Its own connection and breaker: a check must not trip the running sink's circuit.
        let checker: PorchApi;
        try {
          checker = connect(new CircuitBreaker({ name: `${context.id} preflight`, failureThreshold: Number.MAX_SAFE_INTEGER }));
        } catch (error) {
          return [{ name: 'credentials', ok: false, message: (error as Error).message }];
        }
        try {
          return [
            { name: 'credentials', ok: true, message: [`from ${checker.client.connection.source}`, ...checker.client.connection.warnings.map((w) => `WARNING: ${w}`)].join('; ') },
            ...(await runPreflight(checker, { ...targetOf(options), approve: options.approve }, signal)),
          ];
        } finally {
          await checker.client.close();
        }
      },
    };
  },
});
