// Finds and loads the config file with cosmiconfig: conductor.config.{ts,mjs,js,json,yaml,yml}
// in the working directory, or the file named by --config. TypeScript configs load natively
// (Node 24 strips types), so `defineConfig` gives full types without a build step.
import { cosmiconfig } from 'cosmiconfig';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConductorError } from '../errors.ts';
import { unsafeFileProblem } from './file-safety.ts';

export const CONFIG_SEARCH_PLACES = [
  'conductor.config.ts',
  'conductor.config.mjs',
  'conductor.config.js',
  'conductor.config.json',
  'conductor.config.yaml',
  'conductor.config.yml',
];

/** The repository's own default pipeline, used when no config file is found. */
/** (Compiled to JavaScript in the published package, as this module is.) */
export const EMBEDDED_CONFIG = fileURLToPath(
  new URL(`../../conductor.config.${import.meta.url.endsWith('.js') ? 'js' : 'ts'}`, import.meta.url),
);

export interface LoadedConfig {
  raw: unknown;
  /** The file it came from. */
  source: string;
  /** Relative module paths in the config are taken from here. */
  baseDir: string;
}

export async function loadConfigFile(options: { configPath?: string; cwd?: string } = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const explorer = cosmiconfig('conductor', {
    searchPlaces: CONFIG_SEARCH_PLACES,
    searchStrategy: 'none',
    cache: false,
    loaders: { '.ts': freshImport, '.mjs': freshImport, '.js': freshImport },
  });
  let file = options.configPath === undefined ? undefined : resolve(cwd, options.configPath);
  if (file !== undefined && !existsSync(file)) {
    throw new ConductorError('CND_ERR_CONFIG_NOT_FOUND', `config file ${file} does not exist`, { path: file });
  }
  // Found here rather than by cosmiconfig's search, which would load (run) it before it is checked.
  file ??= CONFIG_SEARCH_PLACES.map((place) => resolve(cwd, place)).find((candidate) => existsSync(candidate));
  const unsafe = file === undefined ? undefined : unsafeFileProblem(file);
  if (unsafe !== undefined) throw new ConductorError('CND_ERR_CONFIG_LOAD', `refusing to load config ${file}: ${unsafe}`, { path: file! });
  try {
    const result = file === undefined ? null : await explorer.load(file);
    if (file !== undefined) refuseEmpty(result, file);
    if (result === null) {
      file = EMBEDDED_CONFIG;
      const embedded = await explorer.load(EMBEDDED_CONFIG);
      return { raw: unwrap(embedded?.config), source: EMBEDDED_CONFIG, baseDir: dirname(EMBEDDED_CONFIG) };
    }
    return { raw: unwrap(result.config), source: result.filepath, baseDir: dirname(result.filepath) };
  } catch (error) {
    if (error instanceof ConductorError) throw error;
    throw new ConductorError('CND_ERR_CONFIG_LOAD', `cannot load config ${file ?? `from ${cwd}`}: ${(error as Error).message}`, {
      cause: error,
      ...(file === undefined ? {} : { path: file }),
    });
  }
}

/**
 * A config file that holds nothing (empty, or JSON/YAML `null`) is refused: falling back to the
 * built-in pipeline would run something the operator did not write.
 */
function refuseEmpty(result: { config: unknown; filepath: string; isEmpty?: boolean } | null, file: string | undefined): void {
  const config = result === null ? undefined : unwrap(result.config);
  if (result !== null && result.isEmpty !== true && config !== null && config !== undefined) return;
  const path = result?.filepath ?? file ?? '';
  const message = 'the file holds no config (it is empty or null); write an object';
  throw new ConductorError('CND_ERR_CONFIG_INVALID', `invalid config ${path}:\n  - (root): ${message}`, {
    path: '(root)',
    details: { source: path, problems: [{ path: '(root)', message }] },
  });
}

/**
 * Imports a module config as the file is now (`content`, as cosmiconfig read it): the query
 * string names that content, so a changed file is a new module to the module cache (a reload
 * sees the change), while an unchanged one keeps its URL — and so its entry in Node's compile
 * cache, which spares loading the TypeScript stripper at every start (a third of the start time
 * and 20 MB with a .ts config).
 */
async function freshImport(filepath: string, content: string): Promise<unknown> {
  const version = createHash('sha256').update(content).digest('hex').slice(0, 16);
  const namespace = (await import(`${pathToFileURL(filepath).href}?v=${version}`)) as Record<string, unknown>;
  return namespace['default'] ?? namespace;
}

/** An ES module config loaded through import() may arrive as its namespace object. */
function unwrap(config: unknown): unknown {
  if (config !== null && typeof config === 'object' && 'default' in config && Object.keys(config).length <= 2) {
    return (config as { default: unknown }).default;
  }
  return config;
}
