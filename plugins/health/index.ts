// Health probes on :8080 (docs/architecture.md §Observability): /healthz (liveness: the process and its event loop,
// never the sink, so a dead Porch does not get the pod restarted in a loop), /ready (every plugin's
// status, 503 with a JSON body naming what is not ready) and /startup (200 once started).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpEndpoint, definePlugin } from '../../core/index.ts';
import { EventLoopWatch } from './event-loop.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

import { livenessAnswer, readinessAnswer, startupAnswer, type ProbeAnswer } from './reports.ts';

export default definePlugin({
  name: 'health',
  kind: 'service',
  description: 'Serves the liveness, readiness and startup probes over HTTP.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const { host } = context;
    const eventLoop = new EventLoopWatch(options.eventLoopSampleMs);

    const probes: Record<string, () => ProbeAnswer> = {
      [options.livenessPath]: () => livenessAnswer(eventLoop.delayMs, options.maxEventLoopDelayMs),
      [options.readinessPath]: () => readinessAnswer(host.readiness(), host.stopping, host.runtime()),
      [options.startupPath]: () => startupAnswer(host.readiness()),
    };

    const serve = (request: IncomingMessage, response: ServerResponse) => {
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      const probe = Object.hasOwn(probes, pathname) ? probes[pathname] : undefined;
      if (probe === undefined) {
        response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'not found', probes: Object.keys(probes) }));
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      let answer: ProbeAnswer;
      try {
        answer = probe();
      } catch (error) {
        answer = { status: 503, body: { status: 'error', message: (error as Error).message } };
      }
      response
        .writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(request.method === 'HEAD' ? undefined : `${JSON.stringify(answer.body)}\n`);
    };

    const endpoint = new HttpEndpoint(serve, {
      port: options.port,
      host: options.host,
      plugin: context.id,
      limits: { maxConnections: options.maxConnections },
    });

    return {
      async start() {
        const boundPort = await endpoint.open();
        eventLoop.start();
        context.log.info({ port: boundPort, host: options.host }, `health probes served on port ${boundPort}`);
      },
      async stop() {
        eventLoop.stop();
        await endpoint.close();
      },
      status: () =>
        endpoint.port === undefined
          ? { ready: false, message: 'the health port is not open' }
          : { ready: true, details: { port: endpoint.port } },
    };
  },
});
