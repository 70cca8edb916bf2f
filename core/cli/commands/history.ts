// `conductor history NAMESPACE/TARGET`: every intent the sink applied to a target, oldest first,
// read from the sink itself (the git sink's commit trailers, the Porch sink's PackageRevision
// annotations), so it answers when the ledger is lost. Where the ledger still has an intent, it
// adds what the sink does not record (the file name, for Porch). Nothing is written: the pipeline
// is built in `check` mode and the ledger is opened read-only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadPipeline } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { ConductorError } from '../../errors.ts';
import { Ledger } from '../../delivery/ledger.ts';
import { stemOf } from '../../intent/identity.ts';
import { silentLogger } from '../../log.ts';
import { printable } from '../../data-dir/printable.ts';
import { kindsOf } from '../../plugin/lifecycle.ts';
import type { HistoryEntry } from '../../plugin/types.ts';

export const HISTORY_HELP = `conductor history [--config FILE] [--json] [--limit N] NAMESPACE/TARGET

Every intent the configured sink applied to NAMESPACE/TARGET, oldest first: time, intent file,
intent id, content hash, replicas, the receipt (the commit id for the git sink; the
PackageRevision name and revision for the Porch sink) and the trace id when known. Read from the
sink's own record (commit trailers, PackageRevision annotations), so it works after the ledger
(state/) is lost; the ledger and the status files, when present, fill in what the sink does not
record (the file name for Porch, the trace id). --limit N shows the newest N.
Exit: 0 shown (also when nothing was applied), 1 the sink cannot tell its history, 2 usage error.`;

export async function historyCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { json: { type: 'boolean' }, limit: { type: 'string' } }, true);
  if (common.help) {
    console.log(HISTORY_HELP);
    return EXIT.ok;
  }
  const [where, ...extra] = positionals;
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(where ?? '');
  if (match === null || extra.length > 0) throw new ConductorError('CND_ERR_USAGE', 'history needs one NAMESPACE/TARGET (see --help)');
  const limitText = values['limit'];
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new ConductorError('CND_ERR_USAGE', '--limit must be a whole number above 0');
  const [, namespace, target] = match as unknown as [string, string, string];

  const resolved = await loadPipeline(common);
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
  let entries: HistoryEntry[];
  let sink: string;
  try {
    const sinks = conductor.plugins.filter((entry) => kindsOf(entry.definition).includes('submit'));
    const keeper = sinks.find((entry) => entry.instance.history !== undefined);
    if (keeper === undefined) {
      const names = sinks.map((entry) => entry.id).join(', ') || 'none';
      console.error(
        `conductor history: the configured sink (${names}) cannot tell its history: it offers no history() (see docs/plugins.md)`,
      );
      return EXIT.failed;
    }
    sink = keeper.id;
    entries = await keeper.instance.history!({ namespace, target, signal: AbortSignal.timeout(resolved.config.pluginTimeoutMs) });
  } finally {
    conductor.ledger.close();
  }
  entries = withStatus(withLedger(entries, join(resolved.config.stateDir, 'ledger.sqlite')), join(resolved.config.dataDir, 'status'));
  if (limit !== undefined) entries = entries.slice(-limit);
  if (values['json'] === true) {
    console.log(JSON.stringify({ sink, target: `${namespace}/${target}`, entries }, null, 2));
    return EXIT.ok;
  }
  if (entries.length === 0) console.log(`no intent applied to ${namespace}/${target} (sink ${sink})`);
  for (const e of entries) {
    const receipt = e.receipt.revision === undefined ? e.receipt.ref : `${e.receipt.ref} (revision ${e.receipt.revision})`;
    const fields = [
      e.time,
      printable(e.file ?? '-'),
      `intent ${e.intentId}`,
      `replicas ${e.replicas ?? '?'}`,
      `content ${e.contentHash === undefined ? '-' : e.contentHash.slice(0, 12)}`,
      `receipt ${printable(receipt)}`,
      ...(e.traceId === undefined ? [] : [`trace ${printable(e.traceId)}`]),
    ];
    console.log(fields.join('  '));
  }
  return EXIT.ok;
}

/** The file name from the ledger for entries whose sink does not record it (read-only, if there is a ledger). */
function withLedger(entries: HistoryEntry[], path: string): HistoryEntry[] {
  if (!entries.some((e) => e.file === undefined) || !existsSync(path)) return entries;
  const ledger = new Ledger(path, { readOnly: true });
  try {
    return entries.map((e) => (e.file !== undefined ? e : { ...e, ...fileOf(ledger.get(e.intentId)?.file) }));
  } finally {
    ledger.close();
  }
}

/** The trace id from the intent file's status record (status/<stem>.status.json), when it is this intent's. */
function withStatus(entries: HistoryEntry[], statusDir: string): HistoryEntry[] {
  return entries.map((e) => {
    if (e.file === undefined || e.traceId !== undefined) return e;
    let record: { intentId?: unknown; traceId?: unknown };
    try {
      record = JSON.parse(readFileSync(join(statusDir, `${stemOf(e.file)}.status.json`), 'utf8')) as typeof record;
    } catch {
      return e;
    }
    return record.intentId === e.intentId && typeof record.traceId === 'string' ? { ...e, traceId: record.traceId } : e;
  });
}

function fileOf(file: string | undefined): { file?: string } {
  return file === undefined ? {} : { file };
}
