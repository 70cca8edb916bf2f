// Finds the definition for a plugin name: a module named in the config's `modules`, else the
// built-in folder `plugins/<name>/` of this package. The core names no plugin itself: a built-in
// is any folder there, found by convention.
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConductorError } from '../errors.ts';
import { assertPluginDefinition, isPluginDefinition } from './define.ts';
import type { PluginDefinition } from './types.ts';

export const BUILTIN_PLUGIN_DIR = fileURLToPath(new URL('../../plugins/', import.meta.url));
/** A built-in's entry module: TypeScript in the sources, compiled JavaScript in the published package. */
const BUILTIN_ENTRY = import.meta.url.endsWith('.js') ? 'index.js' : 'index.ts';

export function builtinPluginNames(): string[] {
  if (!existsSync(BUILTIN_PLUGIN_DIR)) return [];
  return readdirSync(BUILTIN_PLUGIN_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(BUILTIN_PLUGIN_DIR, entry.name, BUILTIN_ENTRY)))
    .map((entry) => entry.name)
    .sort();
}

/** `porch-sink/eu` → `porch-sink`. */
export function pluginNameOf(id: string): string {
  return id.split('/')[0]!;
}

export async function resolvePluginDefinition(
  name: string,
  modules: Record<string, string | PluginDefinition<any>>,
  baseDir: string,
): Promise<PluginDefinition> {
  const declared = modules[name];
  if (declared !== undefined && typeof declared !== 'string') return checked(declared, name, name);
  const specifier = declared === undefined ? builtinSpecifier(name) : moduleSpecifier(declared, baseDir);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new ConductorError('CND_ERR_PLUGIN_UNKNOWN', `plugin "${name}": cannot load module ${declared ?? specifier}: ${(error as Error).message}`, {
      plugin: name,
      cause: error,
    });
  }
  return checked(namespace['default'] ?? namespace['plugin'], name, declared ?? specifier);

  function builtinSpecifier(pluginName: string): string {
    const file = join(BUILTIN_PLUGIN_DIR, pluginName, BUILTIN_ENTRY);
    if (!existsSync(file)) {
      throw new ConductorError(
        'CND_ERR_PLUGIN_UNKNOWN',
        `unknown plugin "${pluginName}": not a built-in (${builtinPluginNames().join(', ')}) and not listed under "modules"`,
        { plugin: pluginName },
      );
    }
    return pathToFileURL(file).href;
  }

  function checked(value: unknown, expected: string, where: string): PluginDefinition {
    if (!isPluginDefinition(value)) assertPluginDefinition(value as PluginDefinition, where);
    const definition = value as PluginDefinition;
    if (definition.name !== expected) {
      throw new ConductorError('CND_ERR_PLUGIN_INVALID', `module ${where} defines plugin "${definition.name}", but the config calls it "${expected}"`, {
        plugin: expected,
      });
    }
    return definition;
  }
}

/** Turns a module path from the config into something import() takes. */
export function moduleSpecifier(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(baseDir, spec)).href;
  return spec;
}
