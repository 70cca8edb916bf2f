// The `conductor` command. Each subcommand lives in commands/ and is loaded only when it runs
// (start-up time matters for probes and for scripts); this file dispatches and turns errors
// into messages and exit codes (docs/architecture.md §Commands and exit codes).
import { ERROR_CODES, type ConductorError, toConductorError } from '../errors.ts';
import { CONDUCTOR_VERSION } from '../version.ts';
import { EXIT } from './exit-codes.ts';
import { restrictCreatedFileModes } from '../data-dir/modes.ts';
import { parseCommonLoosely } from './options.ts';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  run: { load: async () => (await import('./commands/serve.ts')).runCommand, summary: 'watch the handoff directory until SIGTERM/SIGINT' },
  once: { load: async () => (await import('./commands/serve.ts')).onceCommand, summary: 'process the backlog in handoff/, then exit' },
  validate: {
    load: async () => (await import('./commands/validate.ts')).validateCommand,
    summary: 'check the config (and intent files) without starting anything',
  },
  'print-config': {
    load: async () => (await import('./commands/print-config.ts')).printConfigCommand,
    summary: 'print the resolved config, secrets redacted',
  },
  status: {
    load: async () => (await import('./commands/status.ts')).statusCommand,
    summary: 'what the ledger knows about an intent (or all of them)',
  },
  replay: {
    load: async () => (await import('./commands/replay.ts')).replayCommand,
    summary: 'send intents from failed/ through the pipeline again',
  },
  backup: {
    load: async () => (await import('./commands/backup.ts')).backupCommand,
    summary: 'write a consistent backup of the data directory while run goes on',
  },
  restore: {
    load: async () => (await import('./commands/backup.ts')).restoreCommand,
    summary: 'verify a backup and restore it into an empty data directory',
  },
  graph: {
    load: async () => (await import('./commands/graph.ts')).graphCommand,
    summary: 'show the stages, their plugins in order, and the start order',
  },
  plan: {
    load: async () => (await import('./commands/plan.ts')).planCommand,
    summary: 'show what the sink would do with intent files, changing nothing',
  },
  history: {
    load: async () => (await import('./commands/history.ts')).historyCommand,
    summary: 'every intent the sink applied to a NAMESPACE/TARGET, oldest first',
  },
  test: {
    load: async () => (await import('./commands/test-cases.ts')).testCommand,
    summary: 'run declarative config test cases (intent in, outcome out)',
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return `conductor ${CONDUCTOR_VERSION} — turns network intents into kpt package revisions

Usage: conductor <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Plugins in the config may add commands (e.g. \`conductor audit verify\` from audit-log).

Common options:
  -c, --config FILE     config file (default: conductor.config.{ts,mjs,js,json,yaml,yml} in the
                        working directory, else the embedded default pipeline)
      --config-patch FILE
                        a JSON Merge Patch (RFC 7396) applied to the config; repeatable, in order
  -d, --data-dir DIR    data directory (env CONDUCTOR_DATA_DIR; default ./data)
      --state-dir DIR   this process's ledger and lock (env CONDUCTOR_STATE_DIR;
                        default <data-dir>/state; one per replica when replicas share a data dir)
      --log-level LVL   trace|debug|info|warn|error|fatal|silent (env CONDUCTOR_LOG_LEVEL)
  -h, --help            help for a command: conductor <command> --help
  -v, --version         print the version

Exit codes: 0 ok · 1 an intent failed (see failed/) · 2 usage or config error ·
            3 work left in handoff/ (sink unreachable) · 130/143 interrupted by a second signal`;
}

export async function main(argv: string[]): Promise<number> {
  // Files and directories Conductor creates are its own (ledger, audit log, status, backups…).
  restrictCreatedFileModes();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(CONDUCTOR_VERSION);
    return EXIT.ok;
  }
  try {
    const command = COMMANDS[name];
    if (command === undefined) return await pluginCommand(name, rest);
    return await (
      await command.load()
    )(rest);
  } catch (thrown) {
    const error = toConductorError(thrown);
    console.error(`conductor ${name}: ${error.code}: ${error.message}`);
    return exitCodeFor(error);
  }
}

/**
 * A command no built-in knows may come from a configured plugin (`conductor audit verify` from
 * audit-log): the config is loaded to find it.
 */
async function pluginCommand(name: string, argv: string[]): Promise<number> {
  const common = parseCommonLoosely(argv);
  const { loadResolved } = await import('./setup.ts');
  const resolved = await loadResolved(common);
  for (const [id, definition] of resolved.definitions) {
    const command = definition.commands?.[name];
    if (command !== undefined) return command.run(argv, { id, config: resolved.config, options: resolved.config.plugins[id] ?? {} });
  }
  console.error(`conductor: unknown command "${name}" (see conductor --help)`);
  return EXIT.usage;
}

/** The exit code of a command that stopped on `error`: the class its code carries in ERROR_CODES. */
function exitCodeFor(error: ConductorError): number {
  return EXIT[ERROR_CODES[error.code].exit];
}
