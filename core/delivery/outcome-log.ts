// One log line per outcome, so that `kubectl logs` tells what happened to every intent: taken
// from the pipeline's `settled` and `deferred` events, apart from the delivery logic. Success,
// duplicate and superseded are info; failed and deferred are warn (someone should look).
// It also keeps the files that failed or were left for later, for the summary `once` ends with.
import type { DeferredEvent, EventHooks, StageContext } from '../bus/hooks.ts';
import type { Outcome } from '../intent/types.ts';
import type { Logger } from '../log.ts';

export interface OutcomeSummary {
  succeeded: number;
  duplicate: number;
  superseded: number;
  failed: number;
  deferred: number;
  /** Files that failed, with their error code, in the order they settled. */
  failedFiles: { file: string; code: string }[];
  /** Files left in the handoff directory for later, with the reason's code. */
  deferredFiles: { file: string; code: string }[];
}

/** The summary names at most this many files per list (a long `run` settles millions). */
const MAX_NAMED_FILES = 1_000;

export class OutcomeLog {
  readonly #log: Logger;
  /**
   * A condition that repeats (a file that stays unreadable, a sink that stays down) is logged at
   * warn once per file and code, then at debug until it changes or the file settles.
   */
  readonly #deferredLogged = new Map<string, string>();
  readonly #summary: OutcomeSummary = {
    succeeded: 0,
    duplicate: 0,
    superseded: 0,
    failed: 0,
    deferred: 0,
    failedFiles: [],
    deferredFiles: [],
  };

  constructor(events: EventHooks, log: Logger) {
    this.#log = log;
    // `call` interceptors, not taps: they run before every tap (the line comes first) and the
    // taps stay the plugins' own, each named by its plugin.
    events.settled.intercept({ call: (outcome, ctx) => this.#settled(outcome, ctx) });
    events.deferred.intercept({ call: (event) => this.#deferred(event) });
  }

  summary(): OutcomeSummary {
    const s = this.#summary;
    return { ...s, failedFiles: [...s.failedFiles], deferredFiles: [...s.deferredFiles] };
  }

  #settled(outcome: Outcome, ctx: StageContext | undefined): void {
    this.#summary[outcome.status] += 1;
    this.#deferredLogged.delete(outcome.file);
    if (outcome.status === 'failed' && this.#summary.failedFiles.length < MAX_NAMED_FILES)
      this.#summary.failedFiles.push({ file: outcome.file, code: outcome.code ?? 'unknown' });
    // The line's fields are made only for a level that is written (every outcome passes here).
    const level = outcome.status === 'failed' ? 'warn' : 'info';
    if (!this.#log.isLevelEnabled(level)) return;
    const durationMs = Date.parse(outcome.finishedAt) - Date.parse(outcome.startedAt);
    const traceId = outcome.traceId ?? ctx?.trace.traceId;
    const fields = {
      file: outcome.file,
      intentId: outcome.intentId,
      status: outcome.status,
      stage: outcome.stage,
      ...(outcome.code === undefined ? {} : { code: outcome.code }),
      ...(outcome.plugin === undefined ? {} : { plugin: outcome.plugin }),
      attempts: outcome.attempts,
      durationMs: Number.isFinite(durationMs) ? durationMs : undefined,
      ...(traceId === undefined ? {} : { traceId }),
      ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }),
    };
    if (level === 'warn') this.#log.warn(fields, `intent failed: ${outcome.file}: ${outcome.code ?? 'failed'}: ${outcome.message}`);
    else this.#log.info(fields, `intent ${outcome.status}: ${outcome.file}`);
  }

  #deferred(event: DeferredEvent): void {
    this.#summary.deferred += 1;
    // A deferral without a code is no fault (a file still being written, offered again): info.
    const code = event.code ?? /^(CND_ERR_[A-Z_]+):/.exec(event.reason)?.[1];
    if (this.#summary.deferredFiles.length < MAX_NAMED_FILES)
      this.#summary.deferredFiles.push({ file: event.file, code: code ?? 'changed' });
    const seen = this.#deferredLogged.get(event.file) === code;
    if (this.#deferredLogged.size >= 10_000) this.#deferredLogged.clear();
    if (code !== undefined) this.#deferredLogged.set(event.file, code);
    this.#log[code === undefined ? 'info' : seen ? 'debug' : 'warn'](
      {
        file: event.file,
        intentId: event.intentId,
        status: 'deferred',
        ...(event.stage === undefined ? {} : { stage: event.stage }),
        code,
        ...(event.plugin === undefined ? {} : { plugin: event.plugin }),
        ...(event.attempts === undefined ? {} : { attempts: event.attempts }),
        ...(event.durationMs === undefined ? {} : { durationMs: event.durationMs }),
        ...(event.traceId === undefined ? {} : { traceId: event.traceId }),
      },
      `intent left in handoff for later: ${event.file}: ${event.reason}`,
    );
  }
}

/** The summaries of several passes as one: counts added, files named once each (the last word wins). */
export function mergeSummaries(summaries: readonly OutcomeSummary[]): OutcomeSummary {
  const total: OutcomeSummary = { succeeded: 0, duplicate: 0, superseded: 0, failed: 0, deferred: 0, failedFiles: [], deferredFiles: [] };
  const failed = new Map<string, string>();
  for (const s of summaries) {
    total.succeeded += s.succeeded;
    total.duplicate += s.duplicate;
    total.superseded += s.superseded;
    total.failed += s.failed;
    for (const f of s.failedFiles) failed.set(f.file, f.code);
  }
  // Only what the last pass left is still waiting; earlier deferrals were offered again.
  const last = summaries.at(-1);
  total.deferred = last?.deferred ?? 0;
  total.deferredFiles = [...(last?.deferredFiles ?? [])];
  total.failedFiles = [...failed].map(([file, code]) => ({ file, code }));
  return total;
}

/** The line `once` ends with: the counts, and every file that failed or was left for later. */
export function summaryLine(summary: OutcomeSummary): string {
  const counts =
    `${summary.succeeded} succeeded, ${summary.duplicate} duplicate, ${summary.superseded} superseded, ` +
    `${summary.failed} failed, ${summary.deferred} left for later`;
  const named = (list: { file: string; code: string }[]) => list.map(({ file, code }) => `${file} (${code})`).join(', ');
  return [
    counts,
    ...(summary.failedFiles.length === 0 ? [] : [`failed: ${named(summary.failedFiles)}`]),
    ...(summary.deferredFiles.length === 0 ? [] : [`left in handoff: ${named(summary.deferredFiles)}`]),
  ].join('; ');
}
