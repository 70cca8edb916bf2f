// `conductor validate`: builds the whole pipeline from the config without starting it (no
// port opened, no file touched), and checks intent files through parse, validate and sanitize.
// With --check-connectivity, plugins that reach outside (a Porch server, Redis) check that
// they can, each check printed as one pass/fail line.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { configWarnings, loadPipeline } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { silentLogger } from '../../log.ts';
import type { PreflightCheck } from '../../plugin/types.ts';

export const VALIDATE_HELP = `conductor validate [--config FILE] [--json] [--check-connectivity] [INTENT_FILE…]

Loads and validates the config (every key, every plugin's options) and builds the pipeline
without starting it: no port is opened and no file is written. With intent files, runs each
through parse, validate and sanitize and says whether it would be accepted. With
--check-connectivity, plugins that talk to other systems check that they can (this does I/O).
Exit: 0 all good, 1 an intent file was refused or a connectivity check failed, 2 the config is invalid.`;

interface IntentResult {
  file: string;
  ok: boolean;
  intentId: string;
  code?: string;
  stage?: string;
  message?: string;
}

export async function validateCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, 'check-connectivity': { type: 'boolean' } },
    true,
  );
  if (common.help) {
    console.log(VALIDATE_HELP);
    return EXIT.ok;
  }
  const resolved = await loadPipeline(common);
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
  const plugins = [...resolved.definitions.keys()];
  const intents: IntentResult[] = [];
  for (const path of positionals) {
    const checked = await conductor.pipeline.check({
      file: basename(path),
      source: 'validate',
      bytes: await readFile(path),
      receivedAt: Date.now(),
      ack: async () => undefined,
      release: () => undefined,
    });
    intents.push({
      file: path,
      ok: checked.error === undefined,
      intentId: checked.intentId,
      ...(checked.error ? { code: checked.error.code, stage: checked.error.stage ?? 'validate', message: checked.error.message } : {}),
    });
  }
  const checks: (PreflightCheck & { plugin: string })[] = [];
  if (values['check-connectivity'] === true) {
    for (const { id, instance } of conductor.plugins) {
      if (!instance.preflight) continue;
      const signal = AbortSignal.timeout(resolved.config.pluginTimeoutMs);
      try {
        for (const check of await instance.preflight(signal)) checks.push({ plugin: id, ...check });
      } catch (error) {
        checks.push({ plugin: id, name: 'preflight', ok: false, message: (error as Error).message });
      }
    }
  }
  conductor.ledger.close();
  const warnings = configWarnings(resolved);
  if (values['json'] === true) {
    console.log(JSON.stringify({ config: resolved.config.source, plugins, warnings, intents, checks }, null, 2));
  } else {
    console.log(`config ok: ${resolved.config.source} (${plugins.join(', ')})`);
    for (const w of warnings) console.log(`WARNING ${w.plugin}: ${w.warning}`);
    for (const r of intents)
      console.log(r.ok ? `ok      ${r.file} (intent ${r.intentId})` : `refused ${r.file}: [${r.stage}] ${r.code}: ${r.message}`);
    for (const c of checks) console.log(`${c.ok ? 'pass' : 'FAIL'}    ${c.plugin}: ${c.name}: ${c.message}`);
  }
  return intents.every((r) => r.ok) && checks.every((c) => c.ok) ? EXIT.ok : EXIT.failed;
}
