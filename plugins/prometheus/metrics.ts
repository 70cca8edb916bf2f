// Every metric Conductor exports, fed only by the host's event hooks (no stage plugin
// instruments itself) and, for the gauges, read from the host at scrape time. The five names the
// guide promises come first; the GitOps bundle's alerts and dashboards use these names.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CONDUCTOR_VERSION, type EventHooks, type Host } from '../../core/index.ts';
import { CIRCUIT_STATE_VALUE, errorTypeLabel, errorTypeOfReason, openSetLabeler, OTHER, pluginLabeler, stageLabel } from './labels.ts';

/** Receipt to settle: from milliseconds to the length of a rate-limit wait plus retries. */
const PROCESSING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** One stage or one plugin's tap: usually milliseconds; a rate-limit wait may take a minute. */
const STAGE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const OUTCOMES = ['succeeded', 'failed', 'duplicate', 'superseded'] as const;
const MAX_SECURITY_TYPES = 32;

export interface MetricsSource {
  host: Host;
  /** The plugin ids in the config: the only values the `plugin` and `sink` labels take. */
  pluginIds: readonly string[];
}

/**
 * Registers the metrics on `registry`; returns what taps the host's events under `tapName` (for
 * the plugin's apply, the one place a plugin taps).
 */
export function registerConductorMetrics(registry: Registry, source: MetricsSource, tapName: string): (events: EventHooks) => void {
  const { host } = source;
  const registers = [registry];
  const pluginOf = pluginLabeler(source.pluginIds);
  const securityTypeOf = openSetLabeler(MAX_SECURITY_TYPES);

  const filesProcessed = new Counter({
    name: 'conductor_loop_files_processed_total',
    help: 'Intents that reached a terminal state, by outcome (succeeded, failed, duplicate, superseded).',
    labelNames: ['outcome'],
    registers,
  });
  // Zero series from the start, so that rate() and ratios work before the first failure.
  for (const outcome of OUTCOMES) filesProcessed.inc({ outcome }, 0);

  const processingDuration = new Histogram({
    name: 'conductor_loop_processing_duration_seconds',
    help: 'Time from receipt of an intent to its terminal state, by outcome.',
    labelNames: ['outcome'],
    buckets: PROCESSING_BUCKETS,
    registers,
  });

  new Gauge({
    name: 'conductor_loop_queue_depth',
    help: 'Intents waiting or in flight: the backlog reported by sources plus the intents being processed.',
    registers,
    collect() {
      const stats = host.stats();
      this.set(stats.backlog + stats.inFlight);
    },
  });

  const errors = new Counter({
    name: 'conductor_loop_errors_total',
    help: 'Errors by CND_ERR_* code: permanent failures, retried attempts and deferrals.',
    labelNames: ['type'],
    registers,
  });

  const securityEvents = new Counter({
    name: 'conductor_loop_security_events_total',
    help: 'Refusals that are security events (symlink, oversize, blocked pattern, …), by type.',
    labelNames: ['type'],
    registers,
  });

  const deferred = new Counter({
    name: 'conductor_loop_files_deferred_total',
    help: 'Intents left in handoff/ for a later attempt (sink unreachable past the retry budget, shutdown).',
    registers,
  });

  const pluginDuration = new Histogram({
    name: 'conductor_stage_duration_seconds',
    help: "Time one plugin's tap took in a stage (for stage=\"rate-limit\": the rate limiter's wait).",
    labelNames: ['stage', 'plugin'],
    buckets: STAGE_BUCKETS,
    registers,
  });

  const pluginCalls = new Counter({
    name: 'conductor_stage_calls_total',
    help: "Calls of one plugin's tap in a stage, by result (ok or error).",
    labelNames: ['stage', 'plugin', 'result'],
    registers,
  });

  const stageDuration = new Histogram({
    name: 'conductor_pipeline_stage_duration_seconds',
    help: 'Time a whole stage took for one intent, all of its plugins together.',
    labelNames: ['stage', 'result'],
    buckets: STAGE_BUCKETS,
    registers,
  });

  const retries = new Counter({
    name: 'conductor_sink_retries_total',
    help: 'Submission attempts that failed and were retried, by the plugin that failed.',
    labelNames: ['plugin'],
    registers,
  });

  new Gauge({
    name: 'conductor_sink_circuit_state',
    help: "State of a sink's circuit breaker: 0 closed, 1 half-open, 2 open.",
    labelNames: ['sink'],
    registers,
    collect() {
      this.reset();
      for (const [id, status] of Object.entries(host.readiness().plugins)) {
        const state = status.details?.['circuit'];
        if (typeof state === 'string' && state in CIRCUIT_STATE_VALUE) this.set({ sink: pluginOf(id) }, CIRCUIT_STATE_VALUE[state]!);
      }
    },
  });

  new Gauge({
    name: 'conductor_plugin_ready',
    help: 'Whether a plugin reports itself ready (1) or not (0); /ready requires it of every plugin but the sinks, whose state is their downstream system.',
    labelNames: ['plugin'],
    registers,
    collect() {
      this.reset();
      for (const [id, status] of Object.entries(host.readiness().plugins)) this.set({ plugin: pluginOf(id) }, status.ready ? 1 : 0);
    },
  });

  new Gauge({
    name: 'conductor_ledger_records',
    help: 'Records in the ledger by status (quarantined: records that failed their checksum).',
    labelNames: ['status'],
    registers,
    collect() {
      this.reset();
      let counts: Record<string, number>;
      try {
        counts = host.ledgerCounts();
      } catch {
        return; // the ledger is closed (the pipeline stopped): no current figures
      }
      for (const [status, count] of Object.entries(counts)) this.set({ status: /^[a-z_-]{1,32}$/.test(status) ? status : OTHER }, count);
    },
  });

  // Reloads replace the pipeline (and this plugin with it): the counts live in the process's
  // runtime record, read at scrape time, so they survive the reloads they count.
  new Counter({
    name: 'conductor_config_reloads_total',
    help: 'Config reloads, by result (success or failure).',
    labelNames: ['result'],
    registers,
    collect() {
      const { reloads } = host.runtime();
      this.reset();
      this.inc({ result: 'success' }, reloads.applied);
      this.inc({ result: 'failure' }, reloads.refused);
    },
  });
  new Gauge({
    name: 'conductor_config_info',
    help: 'Always 1; the hash label identifies the config in force.',
    labelNames: ['hash'],
    registers,
    collect() {
      this.reset();
      this.set({ hash: host.runtime().configHash }, 1);
    },
  });

  new Gauge({
    name: 'conductor_build_info',
    help: 'Always 1; the version label says which Conductor is running.',
    labelNames: ['version'],
    registers,
  }).set({ version: CONDUCTOR_VERSION }, 1);

  const retentionRemoved = new Counter({
    name: 'conductor_retention_removed_total',
    help: 'Entries removed by retention, by area of the data directory.',
    labelNames: ['area'],
    registers,
  });
  for (const area of ['processed', 'status', 'failed', 'ledger']) retentionRemoved.inc({ area }, 0);

  return (events) => {
    events.settled.tap(tapName, (outcome, ctx) => {
      filesProcessed.inc({ outcome: outcome.status });
      const receivedAt = ctx?.receivedAt ?? Date.parse(outcome.startedAt);
      processingDuration.observe({ outcome: outcome.status }, Math.max(0, Date.now() - receivedAt) / 1000);
      if (outcome.status === 'failed') errors.inc({ type: errorTypeLabel(outcome.code) });
    });
    events.retry.tap(tapName, ({ error }) => {
      retries.inc({ plugin: pluginOf(error.plugin) });
      errors.inc({ type: errorTypeLabel(error.code) });
    });
    events.deferred.tap(tapName, ({ reason }) => {
      deferred.inc();
      errors.inc({ type: errorTypeOfReason(reason) });
    });
    events.security.tap(tapName, ({ type }) => securityEvents.inc({ type: securityTypeOf(type) }));
    events.retention.tap(tapName, ({ area, removed }) => retentionRemoved.inc({ area }, removed));
    events.tapEnd.tap(tapName, ({ stage, plugin, durationMs, error }) => {
      const labels = { stage: stageLabel(stage), plugin: pluginOf(plugin) };
      pluginDuration.observe(labels, durationMs / 1000);
      pluginCalls.inc({ ...labels, result: error === undefined ? 'ok' : 'error' });
    });
    events.stageEnd.tap(tapName, ({ stage, durationMs, error }) => {
      stageDuration.observe({ stage: stageLabel(stage), result: error === undefined ? 'ok' : 'error' }, durationMs / 1000);
    });
  };
}
