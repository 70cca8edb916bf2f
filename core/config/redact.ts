// Secrets never appear where config is printed or logged: values under secret-looking keys are
// replaced, and so is the password part of any URL. (Paths to secret files are fine to show.)
const SECRET_KEY = /(token|password|passwd|secret|api[-_]?key|credentials?|private[-_]?key|bearer|authorization|cookie)$/i;

export const REDACTED = '[redacted]';

export function redactConfig<T>(value: T, key = ''): T {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return REDACTED as T;
    return redactUrlPassword(value) as T;
  }
  if (Array.isArray(value)) return value.map((item) => redactConfig(item, key)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && item !== null && typeof item !== 'object' ? REDACTED : redactConfig(item, k);
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
