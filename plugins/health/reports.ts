// The bodies of the three probes. Each answer is JSON so that a person running curl sees why;
// the kubelet only reads the status code.
import { redactConfig, type Readiness, type RuntimeInfo } from '../../core/index.ts';

export interface ProbeAnswer {
  status: 200 | 503;
  body: Record<string, unknown>;
}

export interface NotReady {
  plugin: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * /ready: about the pod itself — 200 when the pipeline runs and every plugin of the pod says it
 * is ready. A sink that cannot reach its system (Porch down, circuit open) is listed under
 * `degraded` with its reason, and in the metrics and alerts, but leaves the pod ready: an outage
 * downstream must not pull every replica out of its Service, stall a rollout or block a drain
 * (docs/deploy.md, "Readiness").
 */
export function readinessAnswer(readiness: Readiness, stopping: boolean, runtime?: RuntimeInfo): ProbeAnswer {
  const notReady: NotReady[] = [];
  const degraded: NotReady[] = [];
  const downstream = new Set(readiness.downstream ?? []);
  if (!readiness.started) notReady.push({ plugin: 'conductor', message: 'starting: not every plugin has started yet' });
  else if (stopping) notReady.push({ plugin: 'conductor', message: 'stopping' });
  for (const [plugin, status] of Object.entries(readiness.plugins)) {
    if (status.ready) continue;
    (downstream.has(plugin) ? degraded : notReady).push({
      plugin,
      message: status.message ?? 'not ready',
      // Plugin details are shown to whoever can reach the port: secrets are redacted by key.
      ...(status.details === undefined ? {} : { details: redactConfig(status.details) }),
    });
  }
  const ready = readiness.ready && notReady.length === 0;
  if (!ready && notReady.length === 0) notReady.push({ plugin: 'conductor', message: 'not ready' });
  return {
    status: ready ? 200 : 503,
    body: {
      status: ready ? 'ready' : 'not ready',
      ...(runtime === undefined ? {} : { configHash: runtime.configHash }),
      ...(ready ? {} : { notReady }),
      ...(degraded.length === 0 ? {} : { degraded }),
      plugins: Object.fromEntries(Object.entries(readiness.plugins).map(([id, s]) => [id, s.ready ? 'ready' : 'not ready'])),
    },
  };
}

/** /healthz: the process and its event loop, and nothing downstream of them. */
export function livenessAnswer(eventLoopDelayMs: number, maxEventLoopDelayMs: number): ProbeAnswer {
  const alive = eventLoopDelayMs <= maxEventLoopDelayMs;
  return {
    status: alive ? 200 : 503,
    body: {
      status: alive ? 'ok' : 'event loop blocked',
      eventLoopDelayMs: Math.round(eventLoopDelayMs),
      maxEventLoopDelayMs,
      uptimeSeconds: Math.round(process.uptime()),
    },
  };
}

/** /startup: 200 once every plugin has started, so the slower probes can take over. */
export function startupAnswer(readiness: Readiness): ProbeAnswer {
  return readiness.started ? { status: 200, body: { status: 'started' } } : { status: 503, body: { status: 'starting' } };
}
