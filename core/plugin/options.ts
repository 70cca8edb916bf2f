// A plugin's options are written once, in its JSON Schema: each property's `description` and
// `default` live there, the TypeScript type of the options is derived from the schema, and so is
// the `defaults` object the config resolver merges under the configured options. The schema is
// declared `as const` so that its literal types survive for the derivation.
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { JsonSchema } from './types.ts';

/**
 * The options a plugin's create() receives, derived from its options schema: a property with a
 * `default` is always present (the resolver merges the defaults before validating), one listed
 * in `required` too, every other property is optional. A schema whose literal types were lost
 * (not `as const`) gives a plain record.
 */
export type OptionsOf<Schema> = Schema extends JSONSchema ? ObjectOnly<FromSchema<Schema>> : Record<string, unknown>;

/** An options schema is an object schema (definePlugin checks it): its type is an object. */
type ObjectOnly<T> = T extends object ? T : never;

/**
 * The options type definePlugin works with: the one given explicitly (`definePlugin<Options>(…)`,
 * for plugins that declare their type by hand), else the one derived from the schema.
 */
export type ResolvedOptions<Explicit extends object, Schema> = [Explicit] extends [never] ? OptionsOf<Schema> : Explicit;

type PropertiesOf<Schema> = Schema extends { readonly properties: infer Properties } ? Properties : {};

/** The options a schema gives a `default`, with their types. */
export type DefaultsOf<Schema> = {
  -readonly [
    K in keyof PropertiesOf<Schema> as PropertiesOf<Schema>[K] extends { readonly default: unknown } ? K : never
  ]: K extends keyof OptionsOf<Schema> ? OptionsOf<Schema>[K] : never;
};

/**
 * The defaults of an options schema: each top-level property's `default`. Copied, so that no
 * caller can change the schema through them.
 */
export function defaultsOf<const Schema extends JsonSchema>(schema: Schema): DefaultsOf<Schema> {
  return collectDefaults(schema) as DefaultsOf<Schema>;
}

/**
 * The schema the config is validated against: as written, with every property that has a
 * `default` also required. The resolver merges the defaults first, so such a property is only
 * missing when a config written in TypeScript sets it to `undefined` — refused, as before the
 * defaults moved into the schema.
 */
export function requireDefaulted<Schema extends JsonSchema>(schema: Schema): Schema {
  const defaulted = Object.keys(collectDefaults(schema));
  const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : [];
  const missing = defaulted.filter((key) => !required.includes(key));
  return missing.length === 0 ? schema : { ...schema, required: [...required, ...missing] };
}

function collectDefaults(schema: JsonSchema): Record<string, unknown> {
  const properties = schema['properties'];
  const defaults: Record<string, unknown> = {};
  if (typeof properties !== 'object' || properties === null) return defaults;
  for (const [key, property] of Object.entries(properties as Record<string, unknown>)) {
    if (typeof property === 'object' && property !== null && 'default' in property) {
      defaults[key] = structuredClone((property as { default: unknown }).default);
    }
  }
  return defaults;
}
