// The Porch sink (docs/architecture.md §Sinks, issue 3): each intent becomes one Porch PackageRevision in the
// workspace `intent-<intentId>`, created as a Draft (a copy of the latest Published revision,
// or for a new package a clone of the configured blueprint), filled with the intent's replicas,
// proposed and — with `approve` — published, through the real porch.kpt.dev/v1alpha1 API behind the kube-apiserver
// (docs/porch.md). The flow is in flow.ts, the wire in client.ts/porch-api.ts, credentials in auth.ts, error
// meaning in errors.ts, and the connectivity checks in preflight.ts.
import { CircuitBreaker, definePlugin, packageNameOf, type Logger, type PluginStatus, type PreflightCheck } from '../../core/index.ts';
import { connectionWarnings, resolveConnection } from './auth.ts';
import { KubeClient } from './client.ts';
import { toSubmitError } from './errors.ts';
import { BlueprintCache } from './flow.ts';
import { DOCS, OPTIONS_SCHEMA, type PorchSinkOptions } from './options.ts';
import { PorchApi } from './porch-api.ts';
import { packageHistory, planFlow } from './plan.ts';
import { runPreflight } from './preflight.ts';
import { packageAt, submitIntent } from './submit.ts';

/** How long the blueprint's resolution (its revision and files) is reused for new targets. */
const BLUEPRINT_CACHE_MS = 10_000;

/** Where the sink writes and what new packages come from, as the preflight checks them. */
function targetOf(options: PorchSinkOptions): { namespace: string; repository: string; blueprint: PorchSinkOptions['blueprint'] } {
  return { namespace: options.namespace, repository: options.repository, blueprint: options.blueprint };
}

/** The running sink's circuit, its changes logged (an opening as a warning). */
function sinkBreaker(id: string, log: Logger, options: PorchSinkOptions): CircuitBreaker {
  const breaker: CircuitBreaker = new CircuitBreaker({
    name: id,
    failureThreshold: options.circuitBreaker.failureThreshold,
    resetMs: options.circuitBreaker.resetMs,
    onStateChange: (state) => {
      const fields = { circuit: state, lastError: breaker.lastError };
      if (state === 'open') log.warn(fields, 'porch circuit opened: requests fail fast until a probe succeeds');
      else log.info(fields, `porch circuit ${state}`);
    },
  });
  return breaker;
}

/**
 * A first contact in the background, so that readiness shows a bad CA or refused credentials
 * before the first intent arrives (start does not wait for the server). Then, while the circuit
 * is not closed, a probe now and then, so readiness comes back when the server does, even when
 * no intent is waiting to be the probe. Returns the probe's timer.
 */
function contactServer(api: PorchApi, breaker: CircuitBreaker, signal: AbortSignal, log: Logger, everyMs: number): NodeJS.Timeout {
  void api.discovery({ signal }).catch((error: unknown) => {
    if (!signal.aborted) log.warn({ err: error }, `porch server not usable yet: ${(error as Error).message}`);
  });
  const probe = setInterval(() => {
    if (breaker.state === 'closed') return;
    void api.discovery({ signal }).catch(() => undefined);
  }, everyMs);
  probe.unref();
  return probe;
}

/** A breaker that never opens, for the read-only connections of plan, history and preflight. */
function neverOpens(name: string): CircuitBreaker {
  return new CircuitBreaker({ name, failureThreshold: Number.MAX_SAFE_INTEGER });
}

/** Readiness: connected, credentials accepted, and the circuit closed (half-open is still an outage). */
function sinkStatus(api: PorchApi | undefined, breaker: CircuitBreaker, startError: string | undefined): PluginStatus {
  const circuit = breaker.state;
  if (api === undefined) return { ready: false, message: `porch sink not connected: ${startError ?? 'not started'}`, details: { circuit } };
  const credentials = api.client.credentials;
  const ready = circuit === 'closed' && credentials.ok;
  const message = !credentials.ok
    ? credentials.message
    : circuit === 'open'
      ? `circuit open after repeated failures: ${breaker.lastError ?? 'unknown'}`
      : circuit === 'half-open'
        ? `circuit half-open, probing the server after: ${breaker.lastError ?? 'failures'}`
        : credentials.message;
  return { ready, message, details: { circuit, server: api.client.connection.origin, credentials: credentials.ok ? 'ok' : 'failing' } };
}

/** The credentials check, then the sink's own checks, on a connection of their own. */
async function preflightChecks(checker: PorchApi, options: PorchSinkOptions, signal: AbortSignal): Promise<PreflightCheck[]> {
  const { connection } = checker.client;
  const credentials = [`from ${connection.source}`, ...connection.warnings.map((w) => `WARNING: ${w}`)].join('; ');
  return [
    { name: 'credentials', ok: true, message: credentials },
    ...(await runPreflight(checker, { ...targetOf(options), approve: options.approve }, signal)),
  ];
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
    const breaker = sinkBreaker(context.id, log, options);
    let api: PorchApi | undefined;
    const blueprints = new BlueprintCache(BLUEPRINT_CACHE_MS);
    let startError: string | undefined;
    const stopping = new AbortController();
    let probe: NodeJS.Timeout | undefined;

    /** Reads the credentials and opens a connection pool (I/O, so never in the factory). */
    const connect = (circuit: CircuitBreaker): PorchApi => {
      const connection = resolveConnection(options);
      for (const warning of connection.warnings) log.warn({ server: connection.origin }, warning);
      return new PorchApi(new KubeClient({ connection, timeoutMs: options.timeoutMs, concurrency: options.concurrency, breaker: circuit }));
    };
    /** Runs `read` on a connection of its own, closed again afterwards. */
    const withReader = async <T>(purpose: string, read: (reader: PorchApi) => Promise<T>): Promise<T> => {
      const reader = connect(neverOpens(`${context.id} ${purpose}`));
      try {
        return await read(reader);
      } finally {
        await reader.client.close();
      }
    };
    const sink = { id: context.id, options, blueprints };

    return {
      start() {
        try {
          api = connect(breaker);
        } catch (error) {
          startError = (error as Error).message;
          throw error;
        }
        const { origin: server, source: via } = api.client.connection;
        const { namespace, repository, approve } = options;
        log.info({ server, via, namespace, repository, approve }, 'porch sink ready to submit');
        probe = contactServer(api, breaker, stopping.signal, log, options.circuitBreaker.resetMs);
      },
      async stop() {
        if (probe) clearInterval(probe);
        stopping.abort();
        const closing = api?.client.close();
        api = undefined;
        startError = 'stopped';
        await closing;
      },
      status: () => sinkStatus(api, breaker, startError),
      apply(hooks) {
        hooks.submit.tapPromise(context.id, (intent, ctx) => submitIntent(sink, api, startError, intent, ctx));
      },
      // plan() and history() run on a pipeline that was never started (`conductor plan`,
      // `conductor history`): each opens a connection of its own, makes read requests only, and
      // closes it again.
      plan: (intent, request) =>
        withReader('plan', async (reader) => {
          try {
            const at = packageAt(options, () => packageNameOf(intent));
            return await planFlow(reader, { ...request, intent, at, blueprint: options.blueprint });
          } catch (error) {
            throw toSubmitError(error, { plugin: context.id, intentId: request.intentId, step: 'plan' });
          }
        }),
      history: (query) =>
        withReader('history', (reader) => {
          const at = packageAt(options, () => query.target);
          return packageHistory(reader, at, query.target, query.signal);
        }),
      async preflight(signal) {
        // Its own connection and breaker: a check must not trip the running sink's circuit.
        let checker: PorchApi;
        try {
          checker = connect(neverOpens(`${context.id} preflight`));
        } catch (error) {
          return [{ name: 'credentials', ok: false, message: (error as Error).message }];
        }
        try {
          return await preflightChecks(checker, options, signal);
        } finally {
          await checker.client.close();
        }
      },
    };
  },
});
