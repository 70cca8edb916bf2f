// Label values stay bounded: every series is kept in memory for the life of the process and by
// Prometheus for its retention, so a label must never take a file name, an intent id or free
// text. Each label kind here maps anything unexpected to "other".
import { ERROR_CODES, STAGES } from '../../core/index.ts';

export const OTHER = 'other';

const KNOWN_STAGES = new Set<string>(STAGES);

/** A pipeline stage name, as the core reports it on stage events. */
export function stageLabel(stage: string): string {
  return KNOWN_STAGES.has(stage) ? stage : OTHER;
}

/** A CND_ERR_* code; anything else (a message, a foreign code) is "other". */
export function errorTypeLabel(code: string | undefined): string {
  return code !== undefined && Object.hasOwn(ERROR_CODES, code) ? code : OTHER;
}

/** A deferral reason reads `CND_ERR_X: message`: the code is the label. */
export function errorTypeOfReason(reason: string): string {
  return errorTypeLabel(/^(CND_ERR_[A-Z_]+)\b/.exec(reason)?.[1]);
}

/** Plugin ids come from the config, so the set is fixed when the process starts. */
export function pluginLabeler(configuredIds: Iterable<string>): (id: string | undefined) => string {
  const known = new Set(configuredIds);
  return (id) => (id !== undefined && known.has(id) ? id : OTHER);
}

/**
 * Security event types are short names chosen by plugins (`symlink`, `oversize`, …). They are
 * not a closed list, so the first `max` distinct well-formed names are kept and the rest fold
 * into "other".
 */
export function openSetLabeler(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (!/^[a-z0-9][a-z0-9_-]{0,47}$/.test(value)) return OTHER;
    if (seen.has(value)) return value;
    if (seen.size >= max) return OTHER;
    seen.add(value);
    return value;
  };
}

/** conductor_sink_circuit_state: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<string, number>> = { closed: 0, 'half-open': 1, open: 2 };
