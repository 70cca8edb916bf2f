// The one place where text a server (or a credential plugin) wrote is made safe to keep. Such
// text ends up in error records, status files, the audit log (whose hash chain forbids scrubbing
// later), the ledger, logs, span status and readiness answers, so whatever echoes a credential
// must lose it here, before it becomes part of any error: our current and recent bearer tokens,
// the client key, any PEM block, and anything shaped like an Authorization header's value.

export const REDACTED = '[redacted]';

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
/**
 * An Authorization header value echoed back (`Bearer abc.d-1`, `Basic dXNlcjpwYXNz`): eight or
 * more token characters with a digit or punctuation among them, so prose ("Bearer tokens") stays.
 */
const AUTH_SCHEME = /\b(Bearer|Basic)(\s+)(?=[A-Za-z0-9._~+/=:-]*[0-9._~+/=:-])[A-Za-z0-9._~+/=:-]{8,}/gi;
/** user:password@ in a URL. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]+@/gi;
/** Secrets shorter than this are not searched for: they would match ordinary words. */
const MIN_SECRET_LENGTH = 6;
/** Lines of a PEM key body this long are searched for on their own (a server may quote one line). */
const MIN_KEY_LINE_LENGTH = 16;

/** The secrets a client holds; redact() removes each of them from a text. */
export class SecretSet {
  readonly #secrets = new Set<string>();
  readonly #limit: number;

  constructor(limit = 16) {
    this.#limit = limit;
  }

  /** Adds a secret (a token, a key); PEM material adds each long body line too. */
  add(secret: string | undefined): void {
    if (secret === undefined) return;
    const parts = [
      secret.trim(),
      ...secret
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line.length >= MIN_KEY_LINE_LENGTH && !line.startsWith('-----')),
    ];
    for (const part of parts) {
      if (part.length < MIN_SECRET_LENGTH || this.#secrets.has(part)) continue;
      this.#secrets.add(part);
      // Tokens rotate; the oldest ones are forgotten first, the key lines stay among the newest.
      if (this.#secrets.size > this.#limit) this.#secrets.delete(this.#secrets.values().next().value!);
    }
  }

  redact(text: string): string {
    return redactText(text, this.#secrets);
  }

  /** Redacts every string inside a JSON-like value (a Status's details). */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.redactValue(item)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.redactValue(item)])) as T;
    }
    return value;
  }
}

/** `text` without PEM blocks, Authorization values, URL passwords and any of `secrets`. */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(PEM_BLOCK, '[redacted PEM block]');
  // Longest first, so a token that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.replaceAll(secret, REDACTED);
  }
  out = out.replace(AUTH_SCHEME, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  return out.replace(URL_PASSWORD, `$1${REDACTED}@`);
}
