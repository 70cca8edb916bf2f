// Prometheus metrics on :9090/metrics (docs/architecture.md §Observability): the guide's conductor_loop_* names,
// per-stage and per-plugin durations, sink retries and circuit state, ledger size and the process metrics
// of prom-client, all in a registry of this instance's own (two pipelines in one process, as in
// tests, do not share series).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpEndpoint, definePlugin } from '../../core/index.ts';

import { registerConductorMetrics } from './metrics.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

/**
 * prom-client's totals of active handles, requests and resources are gauges named `_total`,
 * which `promtool check metrics` refuses (only counters end in `_total`). They are left out: the
 * same numbers are `sum(nodejs_active_handles)` (and _requests, _resources), which prom-client
 * exports by type beside them.
 */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export default definePlugin({
  name: 'prometheus',
  kind: 'service',
  description: 'Serves Prometheus metrics of the pipeline and the process over HTTP.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const registry = new Registry();
    const tapEvents = registerConductorMetrics(
      registry,
      { host: context.host, pluginIds: Object.keys(context.config.plugins) },
      context.id,
    );
    let defaultsCollected = false;

    const serve = (request: IncomingMessage, response: ServerResponse) => {
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      if (pathname !== options.path) {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found; metrics are at ${options.path}\n`);
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
        (error: unknown) => {
          context.log.error({ err: error }, 'collecting metrics failed');
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('collecting metrics failed\n');
        },
      );
    };

    const endpoint = new HttpEndpoint(serve, {
      port: options.port,
      host: options.host,
      plugin: context.id,
      limits: { maxConnections: options.maxConnections },
    });

    return {
      apply: ({ events }) => tapEvents(events),
      async start() {
        if (options.defaultMetrics && !defaultsCollected) {
          collectDefaultMetrics({ register: registry });
          for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
          defaultsCollected = true;
        }
        const boundPort = await endpoint.open();
        context.log.info({ port: boundPort, host: options.host, path: options.path }, `metrics served on port ${boundPort}`);
      },
      async stop() {
        await endpoint.close();
      },
      status: () =>
        endpoint.port === undefined
          ? { ready: false, message: 'the metrics port is not open' }
          : { ready: true, details: { port: endpoint.port } },
    };
  },
});
