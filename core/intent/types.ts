// The intent domain: the flat intent format (shared/reference/intent.schema.json) and the
// envelope a source wraps around the raw bytes of one intent.

export type IntentType = 'scaling' | 'deployment' | 'configuration';

export interface IntentConstraints {
  max_replicas?: number;
  min_replicas?: number;
  allowed_namespaces?: string[];
  kpt_package_name?: string;
  porch_repository?: string;
  [key: string]: unknown;
}

export interface Intent {
  intent_type: IntentType;
  target: string;
  namespace: string;
  replicas: number;
  reason?: string;
  source?: 'user' | 'planner' | 'test' | '';
  correlation_id?: string;
  priority?: number;
  constraints?: IntentConstraints;
  created_at?: string;
  updated_at?: string;
  status?: 'pending' | 'processing' | 'completed' | 'failed';
  target_resources?: string[];
  description?: string;
  nephio_context?: { package_revision?: string; workload_cluster?: string; blueprint_name?: string };
}

/**
 * Terminal outcomes, as written to status/ and the audit log (docs/architecture.md §Data directory). `superseded`: the
 * sink already holds the effect of a newer intent for the same target, so this older one is
 * settled without changing anything (not a failure; the file goes to processed/).
 */
export type OutcomeStatus = 'succeeded' | 'failed' | 'duplicate' | 'superseded';

/**
 * One unit of work handed to the pipeline by a source. The source keeps the original (a file
 * stays in handoff/) until `ack` is called with a terminal outcome; `release` means "not done,
 * keep it for later" (sink unreachable past the retry budget, or shutdown).
 */
export interface Envelope {
  /** The name the producer gave it (for files: the base name in handoff/). */
  readonly file: string;
  /** The plugin id of the source that produced it. */
  readonly source: string;
  /** The raw bytes, exactly as read. */
  readonly bytes: Uint8Array;
  readonly receivedAt: number;
  /**
   * When the producer made the intent (ms since the epoch; for files, their mtime): the order in
   * which intents for one target take effect across replicas. Sinks record it with the effect
   * and settle an intent older than the one they hold as `superseded`.
   */
  readonly order?: number;
  /** Set by replay: the intent keeps the id it had when it first failed. */
  readonly intentId?: string;
  /** Set by a source that refused the item before reading it (a symlink, a FIFO, too large…). */
  readonly refusal?: Error;
  /**
   * Offered by sources whose producers may still be writing (files): before the intent is failed
   * for content that may be incomplete (it does not parse), waits one more debounce period and
   * resolves true when the item is still exactly what was read, false when it changed (the
   * source then offers it again, and the pipeline releases it).
   */
  confirmUnchanged?(): Promise<boolean>;
  /** Called once with the terminal outcome; only then may the source let go of the original. */
  ack(outcome: Outcome): Promise<void>;
  /** Called when the intent is not done (it must be offered again later). */
  release(reason: string): void;
}

export interface Receipt {
  /** The sink (plugin id) that accepted it. */
  sink: string;
  /** A sink-specific reference: a commit hash, a PackageRevision name, … */
  ref?: string;
  [key: string]: unknown;
}

export interface Outcome {
  file: string;
  intentId: string;
  status: OutcomeStatus;
  /** The last stage the intent reached (for failures: where it failed). */
  stage: string;
  message: string;
  attempts: number;
  startedAt: string;
  finishedAt: string;
  code?: string;
  plugin?: string;
  receipt?: Receipt;
  traceId?: string;
  intent?: Intent;
}
