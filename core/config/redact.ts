// Secrets never appear where config is printed or logged: values under secret-looking keys are
// replaced, and so is the password part of any URL. (Paths to secret files are fine to show.)
const SECRET_KEY = /(token|password|passwd|secret|api[-_]?key|credentials?|private[-_]?key|bearer|authorization|cookie)$/i;

export const REDACTED = '[redacted]';

/**
 * Values the config took from the environment (`${env:…}`): the environment is where secrets
 * are handed to a process, and the key a value lands under says nothing about it (a token in a
 * URL, a password in `url`). They are redacted wherever they appear, whatever their key.
 * Values shorter than this are not (a replica count or `true` would blank out everything).
 */
const MIN_SECRET_LENGTH = 6;
const secretValues = new Set<string>();
let secretPattern: RegExp | undefined;

export function registerSecretValue(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || secretValues.has(value)) return;
  secretValues.add(value);
  // Longest first, so that a value inside another is not left half-shown; and as they appear
  // in JSON text (a log line), escaped.
  const forms = [...secretValues].flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]).sort((a, b) => b.length - a.length);
  secretPattern = new RegExp([...new Set(forms)].map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

/** The text with every registered secret value replaced. */
export function redactSecretValues(text: string): string {
  return secretPattern === undefined ? text : text.replace(secretPattern, REDACTED);
}

export function redactConfig<T>(value: T, key = ''): T {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return REDACTED as T;
    return redactSecretValues(redactUrlPassword(value)) as T;
  }
  if (Array.isArray(value)) return value.map((item) => redactConfig(item, key)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(value))
      out[k] = SECRET_KEY.test(k) && item !== null && typeof item !== 'object' ? REDACTED : redactConfig(item, k);
    return out as T;
  }
  return value;
}

function redactUrlPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s]*:[^/\s]*@/i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.password) url.password = REDACTED;
    return url.toString();
  } catch {
    return text;
  }
}
