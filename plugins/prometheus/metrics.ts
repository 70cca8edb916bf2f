// Every metric Conductor exports, fed only by the host's event hooks (no stage plugin
// instruments itself) and, for the gauges, read from the host at scrape time. The metrics are a
// table (CONDUCTOR_METRICS) that both the registration below and the plugin's README read. The
// five names the guide promises come first; the GitOps bundle's alerts and dashboards use these
// names.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CONDUCTOR_VERSION, type EventHooks, type Host, type MetricDoc } from '../../core/index.ts';
import { CIRCUIT_STATE_VALUE, errorTypeLabel, errorTypeOfReason, openSetLabeler, OTHER, pluginLabeler, stageLabel } from './labels.ts';

/** Receipt to settle: from milliseconds to the length of a rate-limit wait plus retries. */
const PROCESSING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** One stage or one plugin's tap: usually milliseconds; a rate-limit wait may take a minute. */
const STAGE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const MAX_SECURITY_TYPES = 32;

/** One metric as registered: its documentation, the histogram's buckets, the series present from the start. */
export interface MetricSpec extends MetricDoc {
  readonly labels: readonly string[];
  /**
   * Label sets given a zero series at registration, so that rate() and ratios work before the
   * first event of each kind.
   */
  readonly zeros?: readonly Readonly<Record<string, string>>[];
}

const zerosOf = (label: string, values: readonly string[]) => values.map((value) => ({ [label]: value }));

export const CONDUCTOR_METRICS = [
  {
    name: 'conductor_loop_files_processed_total',
    type: 'counter',
    help: 'Intents that reached a terminal state, by outcome (succeeded, failed, duplicate, superseded).',
    labels: ['outcome'],
    zeros: zerosOf('outcome', ['succeeded', 'failed', 'duplicate', 'superseded']),
  },
  {
    name: 'conductor_loop_processing_duration_seconds',
    type: 'histogram',
    help: 'Time from receipt of an intent to its terminal state, by outcome.',
    labels: ['outcome'],
    buckets: PROCESSING_BUCKETS,
  },
  {
    name: 'conductor_loop_queue_depth',
    type: 'gauge',
    help: 'Intents waiting or in flight: the backlog reported by sources plus the intents being processed.',
    labels: [],
  },
  {
    name: 'conductor_loop_errors_total',
    type: 'counter',
    help: 'Errors by CND_ERR_* code: permanent failures, retried attempts and deferrals.',
    labels: ['type'],
  },
  {
    name: 'conductor_loop_security_events_total',
    type: 'counter',
    help: 'Refusals that are security events (symlink, oversize, blocked pattern, …), by type.',
    labels: ['type'],
  },
  {
    name: 'conductor_loop_files_deferred_total',
    type: 'counter',
    help: 'Intents left in handoff/ for a later attempt (sink unreachable past the retry budget, shutdown).',
    labels: [],
  },
  {
    name: 'conductor_stage_duration_seconds',
    type: 'histogram',
    help: 'Time one plugin\'s tap took in a stage (for stage="rate-limit": the rate limiter\'s wait).',
    labels: ['stage', 'plugin'],
    buckets: STAGE_BUCKETS,
  },
  {
    name: 'conductor_stage_calls_total',
    type: 'counter',
    help: "Calls of one plugin's tap in a stage, by result (ok or error).",
    labels: ['stage', 'plugin', 'result'],
  },
  {
    name: 'conductor_pipeline_stage_duration_seconds',
    type: 'histogram',
    help: 'Time a whole stage took for one intent, all of its plugins together.',
    labels: ['stage', 'result'],
    buckets: STAGE_BUCKETS,
  },
  {
    name: 'conductor_sink_retries_total',
    type: 'counter',
    help: 'Submission attempts that failed and were retried, by the plugin that failed.',
    labels: ['plugin'],
  },
  {
    name: 'conductor_sink_circuit_state',
    type: 'gauge',
    help: "State of a sink's circuit breaker: 0 closed, 1 half-open, 2 open.",
    labels: ['sink'],
  },
  {
    name: 'conductor_plugin_ready',
    type: 'gauge',
    help:
      'Whether a plugin reports itself ready (1) or not (0); /ready requires it of every plugin but the sinks, ' +
      'whose state is their downstream system.',
    labels: ['plugin'],
  },
  {
    name: 'conductor_ledger_records',
    type: 'gauge',
    help: 'Records in the ledger by status (quarantined: records that failed their checksum).',
    labels: ['status'],
  },
  {
    name: 'conductor_config_reloads_total',
    type: 'counter',
    help: 'Config reloads, by result (success or failure).',
    labels: ['result'],
  },
  {
    name: 'conductor_config_info',
    type: 'gauge',
    help: 'Always 1; the hash label identifies the config in force.',
    labels: ['hash'],
  },
  {
    name: 'conductor_build_info',
    type: 'gauge',
    help: 'Always 1; the version label says which Conductor is running.',
    labels: ['version'],
  },
  {
    name: 'conductor_retention_removed_total',
    type: 'counter',
    help: 'Entries removed by retention, by area of the data directory.',
    labels: ['area'],
    zeros: zerosOf('area', ['processed', 'status', 'failed', 'ledger']),
  },
] as const satisfies readonly MetricSpec[];

export type MetricName = (typeof CONDUCTOR_METRICS)[number]['name'];

export interface MetricsSource {
  host: Host;
  /** The plugin ids in the config: the only values the `plugin` and `sink` labels take. */
  pluginIds: readonly string[];
}

type AnyMetric = Counter | Gauge | Histogram;
/** Sets a metric's value from the host when it is scraped (gauges, and counts the host keeps). */
type Collector = (metric: Counter & Gauge) => void;

/**
 * Registers the metrics on `registry`; returns what taps the host's events under `tapName` (for
 * the plugin's apply, the one place a plugin taps).
 */
export function registerConductorMetrics(registry: Registry, source: MetricsSource, tapName: string): (events: EventHooks) => void {
  const collectors = scrapeCollectors(source);
  const metrics = new Map<MetricName, AnyMetric>();
  for (const spec of CONDUCTOR_METRICS) metrics.set(spec.name, createMetric(spec, registry, collectors[spec.name]));
  (metrics.get('conductor_build_info') as Gauge).set({ version: CONDUCTOR_VERSION }, 1);
  const lookup: MetricLookup = {
    counter: (name) => metrics.get(name) as Counter,
    histogram: (name) => metrics.get(name) as Histogram,
  };
  return (events) => tapHostEvents(events, source, tapName, lookup);
}

function createMetric(spec: MetricSpec, registry: Registry, collector: Collector | undefined): AnyMetric {
  const configuration = {
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
    // prom-client calls collect() with the metric as `this`; the collectors below take a counter or a gauge.
    ...(collector === undefined
      ? {}
      : {
          collect(this: unknown) {
            collector(this as Counter & Gauge);
          },
        }),
  };
  let metric: AnyMetric;
  if (spec.type === 'histogram')
    metric = new Histogram({ ...configuration, ...(spec.buckets === undefined ? {} : { buckets: [...spec.buckets] }) });
  else metric = spec.type === 'counter' ? new Counter(configuration) : new Gauge(configuration);
  for (const labels of spec.zeros ?? []) (metric as Counter).inc(labels, 0);
  return metric;
}

/** The metrics whose values are read from the host at scrape time, rather than counted from events. */
function scrapeCollectors(source: MetricsSource): Partial<Record<MetricName, Collector>> {
  const { host } = source;
  const pluginOf = pluginLabeler(source.pluginIds);
  return {
    conductor_loop_queue_depth(metric) {
      const stats = host.stats();
      metric.set(stats.backlog + stats.inFlight);
    },
    conductor_sink_circuit_state(metric) {
      metric.reset();
      for (const [id, status] of Object.entries(host.readiness().plugins)) {
        const state = status.details?.['circuit'];
        if (typeof state === 'string' && state in CIRCUIT_STATE_VALUE) metric.set({ sink: pluginOf(id) }, CIRCUIT_STATE_VALUE[state]!);
      }
    },
    conductor_plugin_ready(metric) {
      metric.reset();
      for (const [id, status] of Object.entries(host.readiness().plugins)) metric.set({ plugin: pluginOf(id) }, status.ready ? 1 : 0);
    },
    conductor_ledger_records(metric) {
      metric.reset();
      let counts: Record<string, number>;
      try {
        counts = host.ledgerCounts();
      } catch {
        return; // the ledger is closed (the pipeline stopped): no current figures
      }
      for (const [status, count] of Object.entries(counts)) metric.set({ status: /^[a-z_-]{1,32}$/.test(status) ? status : OTHER }, count);
    },
    // Reloads replace the pipeline (and this plugin with it): the counts live in the process's
    // runtime record, read at scrape time, so they survive the reloads they count.
    conductor_config_reloads_total(metric) {
      const { reloads } = host.runtime();
      metric.reset();
      metric.inc({ result: 'success' }, reloads.applied);
      metric.inc({ result: 'failure' }, reloads.refused);
    },
    conductor_config_info(metric) {
      metric.reset();
      metric.set({ hash: host.runtime().configHash }, 1);
    },
  };
}

interface MetricLookup {
  counter(name: MetricName): Counter;
  histogram(name: MetricName): Histogram;
}

/** The metrics counted from the host's events. */
function tapHostEvents(events: EventHooks, source: MetricsSource, tapName: string, { counter, histogram }: MetricLookup): void {
  const pluginOf = pluginLabeler(source.pluginIds);
  const securityTypeOf = openSetLabeler(MAX_SECURITY_TYPES);
  const errors = counter('conductor_loop_errors_total');
  events.settled.tap(tapName, (outcome, ctx) => {
    counter('conductor_loop_files_processed_total').inc({ outcome: outcome.status });
    const receivedAt = ctx?.receivedAt ?? Date.parse(outcome.startedAt);
    histogram('conductor_loop_processing_duration_seconds').observe(
      { outcome: outcome.status },
      Math.max(0, Date.now() - receivedAt) / 1000,
    );
    if (outcome.status === 'failed') errors.inc({ type: errorTypeLabel(outcome.code) });
  });
  events.retry.tap(tapName, ({ error }) => {
    counter('conductor_sink_retries_total').inc({ plugin: pluginOf(error.plugin) });
    errors.inc({ type: errorTypeLabel(error.code) });
  });
  events.deferred.tap(tapName, ({ reason }) => {
    counter('conductor_loop_files_deferred_total').inc();
    errors.inc({ type: errorTypeOfReason(reason) });
  });
  events.security.tap(tapName, ({ type }) => counter('conductor_loop_security_events_total').inc({ type: securityTypeOf(type) }));
  events.retention.tap(tapName, ({ area, removed }) => counter('conductor_retention_removed_total').inc({ area }, removed));
  events.tapEnd.tap(tapName, ({ stage, plugin, durationMs, error }) => {
    const labels = { stage: stageLabel(stage), plugin: pluginOf(plugin) };
    histogram('conductor_stage_duration_seconds').observe(labels, durationMs / 1000);
    counter('conductor_stage_calls_total').inc({ ...labels, result: error === undefined ? 'ok' : 'error' });
  });
  events.stageEnd.tap(tapName, ({ stage, durationMs, error }) => {
    histogram('conductor_pipeline_stage_duration_seconds').observe(
      { stage: stageLabel(stage), result: error === undefined ? 'ok' : 'error' },
      durationMs / 1000,
    );
  });
}
