// JSON Schema validation for the core and for plugins: one set of ajv options everywhere (all
// errors, strict, the standard formats). Validators for the schemas that ship with Conductor —
// the config's, every built-in plugin's options, the intent schema — are compiled ahead of time
// into precompiled.js (`npm run precompile-schemas`), looked up by the hash of the schema: a start
// with built-in plugins then never loads ajv, which was a quarter of the start time. Any other
// schema (a third-party plugin's) is compiled here, with ajv loaded on first need.
import type { Ajv as AjvInstance, ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../intent/identity.ts';
import { validators as precompiled } from './precompiled.js';

export type { ErrorObject, ValidateFunction } from 'ajv';

/** The ajv options every Conductor schema is compiled with (the generator uses them too). */
export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true } as const;

/** The name a schema's precompiled validator is exported under: a hash of its canonical JSON. */
export function schemaKey(schema: object): string {
  return `v${createHash('sha256').update(canonicalJson(schema)).digest('hex').slice(0, 24)}`;
}

/** A new ajv instance with Conductor's options and formats; `source` keeps the generated code (for the generator). */
export async function createAjv(options: { source?: boolean } = {}): Promise<AjvInstance> {
  const [{ Ajv }, formats] = await Promise.all([import('ajv'), import('ajv-formats')]);
  const instance = new Ajv({ ...AJV_OPTIONS, ...(options.source ? { code: { source: true, esm: true } } : {}) });
  formats.default.default(instance);
  return instance;
}

/** The instance that compiles schemas not precompiled, made on first need. */
let shared: Promise<AjvInstance> | undefined;

const compiled = new Map<string, ValidateFunction>();

/**
 * A validator for `schema`: the precompiled one when the schema ships with Conductor, else
 * compiled now (and kept). Throws ajv's error for a schema that does not compile.
 */
export async function compileSchema<T = unknown>(schema: object): Promise<ValidateFunction<T>> {
  const key = schemaKey(schema);
  let validate = compiled.get(key) ?? (precompiled[key] as ValidateFunction | undefined);
  if (validate === undefined) validate = (await (shared ??= createAjv())).compile(schema);
  compiled.set(key, validate);
  return validate as ValidateFunction<T>;
}
