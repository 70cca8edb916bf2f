// conductor-webhook-audit: an audit plugin that POSTs every terminal outcome of an intent as
// JSON to a webhook, with undici. The pipeline never waits for the webhook (the tap only
// queues; see outbox.ts), deliveries are retried with the core's withRetry and classified with
// its error codes (post.ts), and stop() sends what is queued before it returns.
//
// It imports only Conductor's public API. Inside the Conductor repository that is the relative
// path '../../core/index.ts'; a published plugin writes `from '@conductor-intents/conductor'` (docs/plugins.md).
import { Agent } from 'undici';
import { definePlugin, redactConfig, type OutcomeStatus, type PreflightCheck } from '../../core/index.ts';
import { DEFAULT_RETRY, OPTIONS_SCHEMA } from './options.ts';
import { Outbox } from './outbox.ts';
import { postOutcome } from './post.ts';

export type { WebhookAuditOptions } from './options.ts';

export default definePlugin({
  name: 'webhook-audit',
  kind: 'audit',
  description: 'POSTs every terminal intent outcome as JSON to a webhook; retried, queued, never holding up the pipeline.',
  conductor: '^0.1.0',
  // The options type and the defaults are derived from the schema; `url` has none, so the
  // config must name it.
  optionsSchema: OPTIONS_SCHEMA,
  create(context, options) {
    // Only plain objects here: the connection pool is opened in start() (factories do no I/O).
    const { log } = context;
    const statuses = new Set<OutcomeStatus>(options.statuses);
    const headers = { ...options.headers, ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
    const where = redactConfig(options.url);
    let agent: Agent | undefined;
    let stopping: Promise<void> | undefined;

    const outbox = new Outbox({
      maxQueue: options.maxQueue,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      log,
      send: (outcome, signal) => {
        if (agent === undefined) throw new Error('not started'); // the outbox opens only in start()
        return postOutcome(
          { url: options.url, headers, timeoutMs: options.timeoutMs, dispatcher: agent, plugin: context.id },
          outcome,
          signal,
        );
      },
    });

    return {
      start() {
        agent = new Agent({ connect: { timeout: options.timeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
        outbox.open();
        log.info({ url: where, statuses: [...statuses] }, 'sending outcomes to the webhook');
      },

      stop(signal) {
        // Idempotent, and harmless before start: the outbox is empty and no pool is open.
        stopping ??= (async () => {
          const left = await outbox.close(options.flushTimeoutMs, signal);
          if (left > 0) log.error({ undelivered: left, url: where }, `${left} outcome(s) were not delivered to the webhook before stop`);
          const closing = agent;
          agent = undefined;
          await closing?.close();
        })();
        return stopping;
      },

      status() {
        const counts = outbox.counts();
        const lastError = outbox.lastError;
        return {
          ready: agent !== undefined,
          ...(lastError !== undefined
            ? { message: `last delivery failed: ${lastError}` }
            : agent === undefined
              ? { message: 'not sending (not started, or stopped)' }
              : {}),
          details: { ...counts },
        };
      },

      preflight: (signal) => probeWebhook({ url: options.url, headers, timeoutMs: options.timeoutMs, where }, signal),

      apply(hooks) {
        // Synchronous and quick: the outcome is queued, the webhook is the sender's business.
        hooks.audit.tap(context.id, (outcome) => {
          if (statuses.has(outcome.status)) outbox.add(outcome);
        });
      },
    };
  },
});

/** Where the webhook is, as the plugin reaches it: `where` is the URL without its secrets, for messages. */
interface WebhookTarget {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  where: string;
}

/** One HEAD request through a pool of its own: any answer proves the network path and TLS. */
async function probeWebhook(target: WebhookTarget, signal: AbortSignal): Promise<PreflightCheck[]> {
  const { where } = target;
  const probe = new Agent({ connect: { timeout: target.timeoutMs } });
  try {
    const url = new URL(target.url);
    const response = await probe.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'HEAD',
      headers: target.headers,
      signal: AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs)]),
    });
    await response.body.dump();
    // Any answer proves the network path and TLS; 401/403 says the token is refused.
    const refused = response.statusCode === 401 || response.statusCode === 403;
    return [
      {
        name: 'webhook reachable',
        ok: !refused,
        message: `${where} answered ${response.statusCode}${refused ? ': credentials refused' : ''}`,
      },
    ];
  } catch (error) {
    return [{ name: 'webhook reachable', ok: false, message: `${where}: ${(error as Error).message}` }];
  } finally {
    await probe.close();
  }
}
