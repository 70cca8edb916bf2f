// Cleans each intent before it goes further: every string NFC-normalised, control characters
// and the blocked patterns refused, and the whole intent held to the input length limit of the
// guide (max_input_length). Refusals are security events.
import { definePlugin, rejectIntent, type Intent } from '../../core/index.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

export { DEFAULT_BLOCKED_PATTERNS } from './metadata.ts';

// C0 and C1 controls other than tab, line feed and carriage return, plus bidi overrides.
// oxlint-disable-next-line no-control-regex -- matching control characters is the point here
export const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

export default definePlugin({
  name: 'sanitize',
  kind: 'sanitize',
  description: 'NFC-normalises strings, refuses control characters, blocked patterns and oversize intents.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const blocked = options.blockedPatterns.map((source) => new RegExp(source, 'iu'));
    const anyBlocked = combinedPattern(options.blockedPatterns);
    const clean = (value: unknown, path: string): unknown => {
      if (typeof value === 'string') {
        const normalised = value.normalize('NFC');
        if (!normalised.isWellFormed())
          throw rejectIntent(`${path} contains a lone surrogate (not representable in UTF-8)`, {
            securityEvent: 'encoding',
            stage: 'sanitize',
          });
        if (CONTROL.test(normalised))
          throw rejectIntent(`${path} contains a control character`, { securityEvent: 'control-characters', stage: 'sanitize' });
        // One pass over the string for all the patterns; which one matched is asked only then.
        const hit = anyBlocked?.test(normalised) === false ? undefined : blocked.find((pattern) => pattern.test(normalised));
        if (hit)
          throw rejectIntent(`${path} matches the blocked pattern /${hit.source}/`, {
            securityEvent: 'blocked-pattern',
            stage: 'sanitize',
          });
        return normalised;
      }
      // What nothing changed in is handed back as it is, not copied: parsing has normalised a
      // file's text already, so this is the common case, and the core can then reuse what it
      // derived from the intent it handed in (its canonical JSON).
      if (Array.isArray(value)) {
        const out = value.map((item, i) => clean(item, `${path}[${i}]`));
        return out.every((item, i) => item === value[i]) ? value : out;
      }
      if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        let changed = false;
        for (const [key, item] of Object.entries(value)) {
          const cleanKey = clean(key, `${path}.${key}`) as string;
          const cleanItem = clean(item, path === 'intent' ? key : `${path}.${key}`);
          if (cleanKey !== key || cleanItem !== item) changed = true;
          out[cleanKey] = cleanItem;
        }
        return changed ? out : value;
      }
      return value;
    };
    return {
      apply(hooks) {
        hooks.sanitize.tap(context.id, (intent) => {
          // The same length as its canonical JSON (only the key order differs), at a third of the cost.
          const length = JSON.stringify(intent).length;
          if (length > options.maxInputLength) {
            throw rejectIntent(`the intent is ${length} characters long, more than max_input_length ${options.maxInputLength}`, {
              securityEvent: 'input-too-long',
              stage: 'sanitize',
            });
          }
          return clean(intent, 'intent') as Intent;
        });
      },
    };
  },
});

/**
 * The patterns as one alternation, which finds whether any matches in a single scan (every
 * string of every intent is tested against all of them). Undefined when that could change
 * what a pattern means: a backreference refers to groups by number or name, which the
 * alternation would renumber or could repeat.
 */
export function combinedPattern(sources: readonly string[]): RegExp | undefined {
  if (sources.length < 2 || sources.some((source) => /\\[1-9]|\\k<|\(\?</.test(source))) return undefined;
  return new RegExp(sources.map((source) => `(?:${source})`).join('|'), 'iu');
}
