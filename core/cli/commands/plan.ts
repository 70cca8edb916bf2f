// `conductor plan FILE…`: what the configured sink would do with each intent, before anything
// is done. The pipeline is built in `check` mode (nothing started, no ledger on disk, no lock);
// each file goes through parse, validate and sanitize as `conductor validate` runs them, then the
// sink's plan() compares the intent with what the sink holds now, read-only. No rate limit, no
// ledger record, no file moved, nothing written in the data directory.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadPipeline } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { ConductorError } from '../../errors.ts';
import { contentHash } from '../../intent/identity.ts';
import { silentLogger } from '../../log.ts';
import { printable } from '../../data-dir/printable.ts';
import { kindsOf } from '../../plugin/lifecycle.ts';
import type { PlanResult, PlannedFile } from '../../plugin/types.ts';

export const PLAN_HELP = `conductor plan [--config FILE] [--json] INTENT_FILE…

Shows what the configured sink would do with each intent file, without doing it: the intent
goes through parse, validate and sanitize, then the sink compares it with what it holds now
(the git sink: the repository's HEAD; the Porch sink: the latest Published revision, with
read-only requests) and says the outcome — apply, duplicate, conflict, superseded or refused —
and, for apply, a unified diff of every package file that would change. Nothing is rate
limited, recorded or moved, and nothing in the data directory is written. Each file is planned
on its own against what the sink holds now (two files for one target: two diffs from the same base).
Exit: 0 every intent would apply or is a duplicate, 1 one would not (refused by a check,
conflict, superseded, refused by the sink) or the sink cannot plan, 2 usage or config error.`;

/** What plan prints per intent file. */
export interface PlannedIntent {
  file: string;
  intentId: string;
  outcome: PlanResult['outcome'];
  message?: string;
  base?: string;
  /** The unified diff per changed file (text output shows these). */
  files: (PlannedFile & { diff: string })[];
}

export async function planCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, true);
  if (common.help) {
    console.log(PLAN_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new ConductorError('CND_ERR_USAGE', 'plan needs at least one intent file (see --help)');
  const resolved = await loadPipeline(common);
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
  try {
    const sinks = conductor.plugins.filter((entry) => kindsOf(entry.definition).includes('submit'));
    const planner = sinks.find((entry) => entry.instance.plan !== undefined);
    if (planner === undefined) {
      const names = sinks.map((entry) => entry.id).join(', ') || 'none';
      console.error(`conductor plan: the configured sink (${names}) cannot plan: it offers no plan() (see docs/plugins.md)`);
      return EXIT.failed;
    }
    const planned: PlannedIntent[] = [];
    for (const path of positionals) {
      const bytes = await readFile(path).catch((error: unknown) => {
        throw new ConductorError('CND_ERR_USAGE', `cannot read ${path}: ${(error as Error).message}`);
      });
      const file = basename(path);
      // The producer's order, as fs-source gives it: the file's modification time.
      const order = (await stat(path)).mtimeMs;
      const envelope = { file, source: 'plan', bytes, receivedAt: Date.now(), order, ack: async () => undefined, release: () => undefined };
      const checked = await conductor.pipeline.check(envelope);
      if (checked.error !== undefined || checked.intent === undefined) {
        const error = checked.error;
        const message = `[${error?.stage ?? 'validate'}] ${error?.code ?? 'CND_ERR_INTENT_INVALID'}: ${error?.message ?? 'refused'}`;
        planned.push({ file: path, intentId: checked.intentId, outcome: 'refused', message, files: [] });
        continue;
      }
      const signal = AbortSignal.timeout(resolved.config.pluginTimeoutMs);
      const result = await planner.instance.plan!(checked.intent, {
        intentId: checked.intentId,
        file,
        contentHash: contentHash(checked.intent),
        order,
        signal,
      });
      planned.push({
        file: path,
        intentId: checked.intentId,
        outcome: result.outcome,
        ...(result.message === undefined ? {} : { message: result.message }),
        ...(result.base === undefined ? {} : { base: result.base }),
        files: result.files.map((f) => ({ ...f, diff: unifiedDiff(f) })),
      });
    }
    if (values['json'] === true) console.log(JSON.stringify({ sink: planner.id, intents: planned }, null, 2));
    else for (const intent of planned) console.log(describe(intent));
    return planned.every((p) => p.outcome === 'apply' || p.outcome === 'duplicate') ? EXIT.ok : EXIT.failed;
  } finally {
    conductor.ledger.close();
  }
}

/** A unified diff of one file, `a/` before and `b/` after (a new file: against /dev/null). */
function unifiedDiff(file: PlannedFile): string {
  const before = file.before === undefined ? '/dev/null' : `a/${file.path}`;
  const after = file.after === undefined ? '/dev/null' : `b/${file.path}`;
  return createTwoFilesPatch(before, after, file.before ?? '', file.after ?? '', undefined, undefined, { context: 3 })
    .split('\n')
    .filter((line) => !line.startsWith('====='))
    .join('\n');
}

function describe(intent: PlannedIntent): string {
  const head = `${printable(intent.file)}  intent ${intent.intentId}: would ${VERB[intent.outcome]}`;
  const lines = [intent.message === undefined ? head : `${head}: ${printable(intent.message)}`];
  if (intent.outcome === 'apply' && intent.files.length === 0) lines.push('  (no file would change)');
  for (const file of intent.files) lines.push(file.diff.trimEnd());
  return lines.join('\n');
}

const VERB: Record<PlanResult['outcome'], string> = {
  apply: 'apply',
  duplicate: 'be a duplicate',
  conflict: 'conflict',
  superseded: 'be superseded',
  refused: 'be refused',
};
