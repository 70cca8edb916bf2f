// Ages as people write them in configs: "168h" (the guide's cleanup_after), "30m", "7d",
// "1h30m"; "off" turns a rule off. One or more <integer><unit> groups, units ms, s, m, h, d, w.
// Months and years are left out on purpose: they have no fixed length.

import { ConductorError } from '../../core/index.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The JSON Schema pattern for a duration option (ajv reports the path when it fails). */
export const DURATION_PATTERN = '^(off|([0-9]+(ms|s|m|h|d|w))+)$';

const GROUP = /([0-9]+)(ms|s|m|h|d|w)/g;

/** Milliseconds, or undefined for "off". Throws on anything else. */
export function parseDuration(text: string): number | undefined {
  if (text === 'off') return undefined;
  if (!new RegExp(DURATION_PATTERN).test(text))
    throw new ConductorError('CND_ERR_CONFIG_INVALID', `"${text}" is not a duration like 168h, 30m, 7d or 1h30m (or off)`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(GROUP)) total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(total) || total <= 0)
    throw new ConductorError('CND_ERR_CONFIG_INVALID', `"${text}" must be a positive duration`);
  return total;
}
