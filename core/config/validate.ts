// Validates the whole config — the core keys and every plugin's options against that plugin's
// own schema — and reports every problem at once, each with the exact path of the bad key
// (`plugins.rate-limit.burst must be >= 1`), in the manner of the OTel Collector's joined errors.
import { compileSchema, type ErrorObject, type ValidateFunction } from '../schema/compile.ts';
import { ConductorError, type ErrorCode } from '../errors.ts';
import { CORE_CONFIG_SCHEMA, CORE_DEFAULTS } from './schema.ts';
import { interpolateEnv, type InterpolationProblem } from './interpolate.ts';
import { unsafeFileProblem } from './file-safety.ts';
import { pluginNameOf, requirementProblems, resolvePluginDefinition } from '../plugin/resolve.ts';
import { DEFAULT_RETRY_POLICY } from '../delivery/retry.ts';
import type { PluginDefinition } from '../plugin/types.ts';
import type { ConductorConfig, ResolvedConfig } from './types.ts';
import { join, resolve } from 'node:path';

export interface ConfigProblem {
  path: string;
  message: string;
  /** A more precise code than CND_ERR_CONFIG_INVALID (a plugin's unmet requirement). */
  code?: ErrorCode;
}

export interface ResolvedPipelineConfig {
  config: ResolvedConfig;
  /** Plugin id → its definition, in config order. */
  definitions: Map<string, PluginDefinition>;
}

export interface ResolveOptions {
  source: string;
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Values from the command line, which win over the file. */
  overrides?: Partial<Pick<ResolvedConfig, 'dataDir' | 'stateDir' | 'logLevel'>>;
  cwd?: string;
}

export async function resolveConfig(raw: unknown, options: ResolveOptions): Promise<ResolvedPipelineConfig> {
  const problems: ConfigProblem[] = [];
  const interpolationProblems: InterpolationProblem[] = [];
  const input = interpolateEnv(raw, options.env ?? process.env, interpolationProblems);
  problems.push(...interpolationProblems);
  const validateCore = await compileSchema(CORE_CONFIG_SCHEMA);
  if (!validateCore(input)) problems.push(...(validateCore.errors ?? []).map((e) => describe(e, '')));
  const config = (isObject(input) ? input : { plugins: {} }) as unknown as ConductorConfig;

  // A local module is checked (and refused) before any plugin module is loaded, since loading runs it.
  problems.push(...unsafeModuleProblems(config, options.baseDir));
  if (problems.some((p) => p.path.startsWith('modules.'))) {
    throw new ConductorError('CND_ERR_CONFIG_LOAD', `invalid config ${options.source}:\n${listProblems(problems)}`);
  }
  const { definitions, resolvedPlugins } = await resolvePlugins(config, options.baseDir, problems);
  problems.push(...requirementProblems(definitions));
  if (problems.length > 0) {
    // Every problem reported at once; the precise code when they all share one (a missing dependency).
    const first = problems[0]!.code;
    const code = first !== undefined && problems.every((p) => p.code === first) ? first : 'CND_ERR_CONFIG_INVALID';
    throw new ConductorError(code, `invalid config ${options.source}:\n${listProblems(problems)}`, {
      path: problems[0]!.path,
      details: { source: options.source, problems },
    });
  }
  return { config: withCoreDefaults(config, resolvedPlugins, options), definitions };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function listProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
}

/** A local plugin module runs as Conductor: held to the same ownership and mode as the config file. */
function unsafeModuleProblems(config: ConductorConfig, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, spec] of Object.entries(config.modules ?? {})) {
    if (typeof spec !== 'string' || !/^(\.{1,2}\/|\/)/.test(spec)) continue;
    const unsafe = unsafeFileProblem(resolve(baseDir, spec));
    if (unsafe !== undefined) problems.push({ path: `modules.${name}`, message: `refusing to load module: ${unsafe}` });
  }
  return problems;
}

/** Loads every configured plugin and validates its options (defaults merged in) against its schema. */
async function resolvePlugins(config: ConductorConfig, baseDir: string, problems: ConfigProblem[]) {
  const plugins = isObject(config.plugins) ? config.plugins : {};
  const definitions = new Map<string, PluginDefinition>();
  const resolvedPlugins: Record<string, Record<string, unknown>> = {};
  // The plugin modules load side by side (their file reads overlap); problems are reported in config order.
  const modules = config.modules ?? {};
  const loaded = await Promise.allSettled(Object.keys(plugins).map((id) => resolvePluginDefinition(pluginNameOf(id), modules, baseDir)));
  for (const [index, [id, given]] of Object.entries(plugins).entries()) {
    const path = `plugins.${id}`;
    const outcome = loaded[index]!;
    if (outcome.status === 'rejected') {
      problems.push({ path, message: (outcome.reason as Error).message });
      continue;
    }
    const definition = outcome.value;
    const merged = { ...structuredClone(definition.defaults), ...(isObject(given) ? given : {}) };
    const validate = await validatorFor(definition, problems, path);
    if (validate !== undefined && !validate(merged)) problems.push(...(validate.errors ?? []).map((e) => describe(e, path)));
    definitions.set(id, definition);
    resolvedPlugins[id] = merged;
  }
  return { definitions, resolvedPlugins };
}

/** The valid config with every core key given a value: command-line overrides, then the file, then the defaults. */
function withCoreDefaults(
  config: ConductorConfig,
  plugins: Record<string, Record<string, unknown>>,
  options: ResolveOptions,
): ResolvedConfig {
  const cwd = options.cwd ?? process.cwd();
  const dataDir = resolve(cwd, options.overrides?.dataDir ?? config.dataDir ?? CORE_DEFAULTS.dataDir);
  const stateDir = options.overrides?.stateDir ?? config.stateDir;
  return {
    dataDir,
    stateDir: stateDir === undefined ? join(dataDir, 'state') : resolve(cwd, stateDir),
    logLevel: options.overrides?.logLevel ?? config.logLevel ?? CORE_DEFAULTS.logLevel,
    concurrency: config.concurrency ?? CORE_DEFAULTS.concurrency,
    shutdownTimeoutMs: config.shutdownTimeoutMs ?? CORE_DEFAULTS.shutdownTimeoutMs,
    pluginTimeoutMs: config.pluginTimeoutMs ?? CORE_DEFAULTS.pluginTimeoutMs,
    requeueDelayMs: config.requeueDelayMs ?? CORE_DEFAULTS.requeueDelayMs,
    retry: { ...DEFAULT_RETRY_POLICY, ...config.retry },
    ledger: { sync: config.ledger?.sync ?? CORE_DEFAULTS.ledger.sync },
    modules: config.modules ?? {},
    plugins,
    source: options.source,
  };
}

async function validatorFor(definition: PluginDefinition, problems: ConfigProblem[], path: string): Promise<ValidateFunction | undefined> {
  try {
    return await compileSchema(definition.optionsSchema);
  } catch (error) {
    problems.push({ path, message: `plugin ${definition.name} has an invalid options schema: ${(error as Error).message}` });
    return undefined;
  }
}

/** One ajv error → a path in dotted form and a sentence. */
function describe(error: ErrorObject, base: string): ConfigProblem {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = [base, ...segments].filter(Boolean).join('.') || '(root)';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: `${path}.${String(params['additionalProperty'])}`.replace(/^\(root\)\./, ''), message: 'unknown key' };
    case 'required':
      return { path: `${path}.${String(params['missingProperty'])}`.replace(/^\(root\)\./, ''), message: 'is required' };
    case 'propertyNames':
      return { path, message: `"${String(params['propertyName'])}" is not a valid name` };
    case 'enum':
      return { path, message: `must be one of ${JSON.stringify(params['allowedValues'])}` };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}
