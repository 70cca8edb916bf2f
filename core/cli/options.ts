// Command-line parsing shared by every command: the common flags, and a usage error that
// exits 2 with a pointer to --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConductorError } from '../errors.ts';
import type { LogLevel } from '../log.ts';

export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'config-patch': { type: 'string', multiple: true },
  'data-dir': { type: 'string', short: 'd' },
  'state-dir': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface CommonFlags {
  config?: string;
  /** JSON Merge Patches applied to the config, in order (`--config-patch`, repeatable). */
  configPatches?: string[];
  dataDir?: string;
  stateDir?: string;
  logLevel?: LogLevel;
  help: boolean;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  extra: O,
  allowPositionals = false,
): { common: CommonFlags; values: Record<string, unknown>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, allowPositionals, strict: true });
  } catch (error) {
    throw new ConductorError('CND_ERR_USAGE', `${(error as Error).message} (see --help)`);
  }
  const values = parsed.values as Record<string, unknown>;
  const env = process.env;
  const logLevel = (values['log-level'] as string | undefined) ?? env['CONDUCTOR_LOG_LEVEL'];
  if (logLevel !== undefined && !LEVELS.has(logLevel)) {
    throw new ConductorError('CND_ERR_USAGE', `--log-level must be one of ${[...LEVELS].join(', ')}`);
  }
  const dataDir = (values['data-dir'] as string | undefined) ?? env['CONDUCTOR_DATA_DIR'];
  const stateDir = (values['state-dir'] as string | undefined) ?? env['CONDUCTOR_STATE_DIR'];
  return {
    common: {
      help: values['help'] === true,
      ...(stateDir === undefined ? {} : { stateDir }),
      ...(values['config'] === undefined ? {} : { config: values['config'] as string }),
      ...(values['config-patch'] === undefined ? {} : { configPatches: values['config-patch'] as string[] }),
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(logLevel === undefined ? {} : { logLevel: logLevel as LogLevel }),
    },
    values,
    positionals: parsed.positionals,
  };
}

/** Only the common flags, ignoring everything else (for commands a plugin parses itself). */
export function parseCommonLoosely(argv: string[]): CommonFlags {
  const { values } = parseArgs({ args: argv, options: COMMON_OPTIONS, allowPositionals: true, strict: false });
  const pick = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const config = pick('config');
  const patches = values['config-patch'];
  const configPatches = Array.isArray(patches) ? patches.filter((p): p is string => typeof p === 'string') : undefined;
  const dataDir = pick('data-dir') ?? process.env['CONDUCTOR_DATA_DIR'];
  const stateDir = pick('state-dir') ?? process.env['CONDUCTOR_STATE_DIR'];
  const logLevel = pick('log-level');
  return {
    help: false,
    ...(stateDir === undefined ? {} : { stateDir }),
    ...(config === undefined ? {} : { config }),
    ...(configPatches === undefined || configPatches.length === 0 ? {} : { configPatches }),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(logLevel !== undefined && LEVELS.has(logLevel) ? { logLevel: logLevel as LogLevel } : {}),
  };
}
