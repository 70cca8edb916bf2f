import { PLUGIN_BRAND, STAGES, type JsonSchema, type PluginDefinition, type PluginKind } from './types.ts';
import { ConductorError } from '../errors.ts';
import { defaultsOf, requireDefaulted, type ResolvedOptions } from './options.ts';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const KINDS = new Set<string>([...STAGES, 'service']);

/**
 * What definePlugin takes: a definition whose `defaults` may be left out, since they are read
 * from the schema's `default`s. Given, they are merged over those (for a plugin whose defaults
 * cannot be written in its schema).
 */
export type PluginDeclaration<Options extends object, Schema extends JsonSchema, K extends PluginKind = PluginKind> = Omit<
  PluginDefinition<Options, K>,
  'optionsSchema' | 'defaults'
> & {
  readonly optionsSchema: Schema;
  readonly defaults?: Partial<Options>;
};

/**
 * Declares a plugin. Checks the metadata at once, so that a mistake in a plugin fails when its
 * module loads, naming the plugin, instead of at the first intent.
 *
 * The options type is derived from an `as const` options schema (`definePlugin({ optionsSchema:
 * SCHEMA, create(context, options) {…} })`), or given explicitly (`definePlugin<Options>(…)`) by
 * a plugin that writes it by hand.
 */
export function definePlugin<
  Explicit extends object = never,
  const Schema extends JsonSchema = JsonSchema,
  const K extends PluginKind = PluginKind,
>(declaration: PluginDeclaration<ResolvedOptions<Explicit, Schema>, Schema, K>): PluginDefinition<ResolvedOptions<Explicit, Schema>, K> {
  const schema: unknown = declaration?.optionsSchema;
  const fromSchema = typeof schema === 'object' && schema !== null ? defaultsOf(schema as JsonSchema) : {};
  const definition = {
    ...declaration,
    ...(typeof schema === 'object' && schema !== null ? { optionsSchema: requireDefaulted(schema as JsonSchema) } : {}),
    defaults: { ...fromSchema, ...declaration?.defaults },
  } as PluginDefinition<ResolvedOptions<Explicit, Schema>, K>;
  assertPluginDefinition(definition, definition?.name ?? '(unnamed)');
  Object.defineProperty(definition, PLUGIN_BRAND, { value: true, enumerable: false });
  return Object.freeze(definition);
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}

export function assertPluginDefinition(definition: PluginDefinition<object>, where: string): void {
  const fail = (message: string): never => {
    throw new ConductorError('CND_ERR_PLUGIN_INVALID', `plugin ${where}: ${message}`, { plugin: definition?.name });
  };
  if (typeof definition !== 'object' || definition === null) fail('the definition must be an object');
  if (typeof definition.name !== 'string' || !KEBAB.test(definition.name)) fail('name must be kebab-case');
  if (typeof definition.create !== 'function') fail('create must be a function');
  const kinds: unknown[] = typeof definition.kind === 'string' ? [definition.kind] : Array.isArray(definition.kind) ? definition.kind : [];
  if (kinds.length === 0 || kinds.some((k) => !KINDS.has(k as string))) fail(`kind must be one or more of ${[...KINDS].join(', ')}`);
  if (typeof definition.description !== 'string' || definition.description.trim() === '') fail('description must say what the plugin does');
  const schema = definition.optionsSchema;
  if (typeof schema !== 'object' || schema === null || schema['type'] !== 'object') fail('optionsSchema must be an object schema');
  if (schema['additionalProperties'] !== false) fail('optionsSchema must set additionalProperties: false');
  if (typeof definition.defaults !== 'object' || definition.defaults === null) fail('defaults must be an object');
}
