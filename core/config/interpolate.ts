// `${env:NAME}` (and `${env:NAME:-fallback}`) in any string value of the config. A value taken
// from the environment is registered for redaction (redact.ts): it may be a secret whatever its key.
import { registerSecretValue } from './redact.ts';
const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationProblem {
  path: string;
  message: string;
}

export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, problems: InterpolationProblem[], path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined) {
        registerSecretValue(found);
        return found;
      }
      if (fallback !== undefined) return fallback;
      problems.push({ path: path || '(root)', message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateEnv(item, env, problems, `${path}[${i}]`));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolateEnv(item, env, problems, path ? `${path}.${key}` : key);
    return out;
  }
  return value;
}
