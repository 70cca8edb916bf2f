// `conductor validate`: builds the whole pipeline from the config without starting it (no
// port opened, no file touched), and checks intent files through parse, validate and sanitize.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadResolved } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { silentLogger } from '../../log.ts';

export const VALIDATE_HELP = `conductor validate [--config FILE] [--json] [INTENT_FILE…]

Loads and validates the config (every key, every plugin's options) and builds the pipeline
without starting it: no port is opened and no file is written. With intent files, runs each
through parse, validate and sanitize and says whether it would be accepted.
Exit: 0 all good, 1 an intent file was refused, 2 the config is invalid.`;

export async function validateCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, true);
  if (common.help) {
    console.log(VALIDATE_HELP);
    return EXIT.ok;
  }
  const resolved = await loadResolved(common);
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
  const plugins = [...resolved.definitions.keys()];
  const results: { file: string; ok: boolean; intentId: string; code?: string; stage?: string; message?: string }[] = [];
  for (const path of positionals) {
    const bytes = await readFile(path);
    const checked = await conductor.pipeline.check({
      file: basename(path),
      source: 'validate',
      bytes,
      receivedAt: Date.now(),
      ack: async () => undefined,
      release: () => undefined,
    });
    results.push({
      file: path,
      ok: checked.error === undefined,
      intentId: checked.intentId,
      ...(checked.error ? { code: checked.error.code, stage: checked.error.stage ?? 'validate', message: checked.error.message } : {}),
    });
  }
  conductor.ledger.close();
  if (values['json'] === true) {
    console.log(JSON.stringify({ config: resolved.config.source, plugins, intents: results }, null, 2));
  } else {
    console.log(`config ok: ${resolved.config.source} (${plugins.join(', ')})`);
    for (const r of results) console.log(r.ok ? `ok      ${r.file} (intent ${r.intentId})` : `refused ${r.file}: [${r.stage}] ${r.code}: ${r.message}`);
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}
