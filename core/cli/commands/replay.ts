// `conductor replay`: sends intents from failed/ back through the pipeline with the intent id
// they failed under, so replaying one that in fact succeeded is a no-op (a duplicate). A
// replayed intent that succeeds moves to processed/; one that fails again stays in failed/
// with a fresh reason. Nothing is moved before its new outcome is known.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadPipeline, openConductor } from '../setup.ts';
import { DataDir, errorNameOf, errorRecordOf, writeAtomic, type ErrorRecord } from '../../data-dir/data-dir.ts';
import { ConductorError } from '../../errors.ts';
import type { Outcome } from '../../intent/types.ts';

export const REPLAY_HELP = `conductor replay [--config FILE] [--data-dir DIR] (--all | --since TIME | FILE…)

Sends intents in <data-dir>/failed back through the pipeline, from validation on, keeping
their original intent id. FILE is a name in failed/; --since takes an ISO time and replays
what failed at or after it. Exit codes as for \`conductor once\`.`;

export async function replayCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { all: { type: 'boolean' }, since: { type: 'string' } }, true);
  if (common.help) {
    console.log(REPLAY_HELP);
    return EXIT.ok;
  }
  const since = values['since'] === undefined ? undefined : Date.parse(values['since'] as string);
  if (since !== undefined && Number.isNaN(since)) throw new ConductorError('CND_ERR_USAGE', '--since takes an ISO 8601 time');
  if (positionals.length === 0 && values['all'] !== true && since === undefined) {
    throw new ConductorError('CND_ERR_USAGE', 'name files in failed/, or use --all or --since (see --help)');
  }
  const resolved = await loadPipeline(common);
  const dataDir = new DataDir(resolved.config.dataDir);
  const selected = await selectFailed(dataDir, positionals, values['all'] === true, since);
  const { conductor, lock, log } = await openConductor(resolved, 'once', { withoutSources: true });
  try {
    await conductor.start();
    const maxBytes = 64 * 1024 * 1024;
    const runs: Promise<unknown>[] = [];
    for (const { name, record } of selected) {
      const slot = await conductor.pipeline.acquire();
      const read = await dataDir.read(name, maxBytes, dataDir.failed);
      if (read.kind !== 'read') {
        slot.release();
        log.warn({ file: name }, 'not replayed: not a readable regular file');
        continue;
      }
      runs.push(
        slot.process({
          file: record?.file ?? name,
          source: 'replay',
          bytes: read.bytes,
          receivedAt: Date.now(),
          ...(record?.intentId ? { intentId: record.intentId } : {}),
          ack: (outcome) => ackReplay(dataDir, name, outcome),
          release: () => undefined,
        }),
      );
    }
    await Promise.all(runs);
    await conductor.stop();
    const stats = conductor.pipeline.stats();
    console.error(
      `replayed ${selected.length}: ${stats.succeeded} succeeded, ${stats.duplicate} duplicate, ${stats.failed} failed again, ${stats.deferred} left for later`,
    );
    if (stats.deferred > 0) return EXIT.undone;
    return stats.failed > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    lock.release();
  }
}

async function selectFailed(dataDir: DataDir, names: string[], all: boolean, since: number | undefined) {
  const entries =
    names.length > 0 ? names : (await fs.readdir(dataDir.failed)).filter((n) => !n.endsWith('.error.json') && !n.includes('.tmp-'));
  const selected: { name: string; record: ErrorRecord | undefined }[] = [];
  for (const name of entries) {
    const record = await readErrorRecord(dataDir, name);
    if (names.length > 0 && record === undefined && !(await exists(join(dataDir.failed, name)))) {
      throw new ConductorError('CND_ERR_USAGE', `${name} is not in ${dataDir.failed}`);
    }
    if (!all && since !== undefined && (record === undefined || Date.parse(record.failedAt) < since)) continue;
    selected.push({ name, record });
  }
  return selected;
}

async function readErrorRecord(dataDir: DataDir, name: string): Promise<ErrorRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(join(dataDir.failed, errorNameOf(name)), 'utf8')) as ErrorRecord;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}

async function ackReplay(dataDir: DataDir, name: string, outcome: Outcome): Promise<void> {
  await dataDir.writeStatus(outcome);
  const errorFile = join(dataDir.failed, errorNameOf(name));
  if (outcome.status === 'failed') {
    const record = errorRecordOf(outcome);
    await writeAtomic(errorFile, `${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  await dataDir.moveOut(name, outcome, dataDir.failed);
  await fs.rm(errorFile, { force: true });
}
