// Finds the definition for a plugin name: a module named in the config's `modules`, else the
// built-in folder `plugins/<name>/` of this package. The core names no plugin itself: a built-in
// is any folder there, found by convention.
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// The one function needed, not the whole package (a fifth of the modules loaded at start).
import satisfies from 'semver/functions/satisfies.js';
import { ConductorError, type ErrorCode } from '../errors.ts';
import { CONDUCTOR_VERSION } from '../version.ts';
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
    throw new ConductorError(
      'CND_ERR_PLUGIN_UNKNOWN',
      `plugin "${name}": cannot load module ${declared ?? specifier}: ${(error as Error).message}`,
      {
        plugin: name,
        cause: error,
      },
    );
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
      throw new ConductorError(
        'CND_ERR_PLUGIN_INVALID',
        `module ${where} defines plugin "${definition.name}", but the config calls it "${expected}"`,
        {
          plugin: expected,
        },
      );
    }
    return definition;
  }
}

/** Turns a module path from the config into something import() takes. */
export function moduleSpecifier(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(baseDir, spec)).href;
  return spec;
}

/** A plugin whose declared requirements the configured set does not meet. */
export interface RequirementProblem {
  /** `plugins.<id>`: where in the config the plugin is. */
  path: string;
  message: string;
  code: Extract<ErrorCode, 'CND_ERR_PLUGIN_VERSION' | 'CND_ERR_PLUGIN_DEPENDENCY'>;
}

/**
 * Checks what resolved definitions declare: `conductor`, the range of Conductor versions a plugin
 * works with, and `dependencies`, the plugins that must be configured beside it.
 */
export function requirementProblems(definitions: ReadonlyMap<string, PluginDefinition>): RequirementProblem[] {
  const problems: RequirementProblem[] = [];
  const names = new Set([...definitions.keys()].map(pluginNameOf));
  for (const [id, definition] of definitions) {
    const path = `plugins.${id}`;
    if (definition.conductor !== undefined && !satisfies(CONDUCTOR_VERSION, definition.conductor, { includePrerelease: true })) {
      problems.push({
        path,
        code: 'CND_ERR_PLUGIN_VERSION',
        message: `plugin ${definition.name} needs Conductor ${definition.conductor}, this is ${CONDUCTOR_VERSION}`,
      });
    }
    for (const dependency of definition.dependencies ?? []) {
      if (!names.has(dependency))
        problems.push({ path, code: 'CND_ERR_PLUGIN_DEPENDENCY', message: `needs plugin "${dependency}", which is not configured` });
    }
  }
  return problems;
}
