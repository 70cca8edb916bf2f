// What a plugin's README says beyond its options: how settled the plugin is, what it emits
// (metrics, events, log lines) and an example of its configuration. Declared on the definition,
// beside the options schema, and rendered by scripts/plugin-readmes.ts into plugins/<name>/README.md.

/** How settled a plugin is, as the OpenTelemetry Collector grades its components. */
export type Stability = 'development' | 'alpha' | 'beta' | 'stable';

/** One Prometheus metric a plugin exports. */
export interface MetricDoc {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels?: readonly string[];
  /** A histogram's bucket bounds (seconds, for a `_seconds` metric). */
  readonly buckets?: readonly number[];
}

/**
 * Something a plugin emits other than metrics. `log`: a log line (its message or `event` field);
 * `audit`: a record of the audit log; `security`: a security event (counted, audited, logged);
 * `hook`: a value the plugin gives a core hook; `http`: a response it serves.
 */
export interface EventDoc {
  readonly name: string;
  readonly via: 'log' | 'audit' | 'security' | 'hook' | 'http';
  readonly when: string;
}

export interface PluginDocs {
  readonly stability: Stability;
  readonly metrics?: readonly MetricDoc[];
  readonly events?: readonly EventDoc[];
  /** The plugin's entry under `plugins` in an example config (its id → its options). */
  readonly example: Readonly<Record<string, unknown>>;
  /** Further notes for the README (Markdown), when the description and options do not say enough. */
  readonly notes?: string;
}
