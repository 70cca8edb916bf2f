// `conductor status [FILE|ID]`: what the ledger knows, read without taking the lock. The ledger
// is opened read-only: a reader beside a running `run` can never quarantine its rows or set its
// database aside.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadResolved } from '../setup.ts';
import { Ledger } from '../../delivery/ledger.ts';
import { printable } from '../../data-dir/printable.ts';

export const STATUS_HELP = `conductor status [--data-dir DIR] [--json] [FILE | INTENT_ID]

Without an argument: how many intents the ledger holds, by status. With a file name or an
intent id (or its prefix): every ledger record that matches, newest first.`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, true);
  if (common.help) {
    console.log(STATUS_HELP);
    return EXIT.ok;
  }
  const { config } = await loadResolved(common);
  const path = join(config.stateDir, 'ledger.sqlite');
  if (!existsSync(path)) {
    console.log(values['json'] === true ? '{}' : `no ledger in ${config.dataDir} yet`);
    return EXIT.ok;
  }
  const ledger = new Ledger(path, {
    readOnly: true,
    onCorruption: ({ intentId, reason }) => console.error(`conductor status: ledger record ${intentId} skipped: ${reason}`),
  });
  try {
    const result = positionals.length === 0 ? ledger.counts() : positionals.flatMap((q) => ledger.find(q));
    if (values['json'] === true) console.log(JSON.stringify(result, null, 2));
    else if (Array.isArray(result)) {
      if (result.length === 0) console.log('no matching intent');
      for (const r of result) {
        // File names and messages come from outside: their escape sequences are shown, not obeyed.
        const ref = r.receipt?.ref ? ` ref=${printable(r.receipt.ref)}` : '';
        console.log(
          `${r.intentId}  ${r.status.padEnd(10)} ${printable(r.file)}  stage=${r.stage} attempts=${r.attempts}${ref}${r.message ? `  ${printable(r.message)}` : ''}`,
        );
      }
    } else for (const [status, n] of Object.entries(result)) console.log(`${status.padEnd(12)} ${n}`);
    return Array.isArray(result) && result.length === 0 ? EXIT.failed : EXIT.ok;
  } finally {
    ledger.close();
  }
}
