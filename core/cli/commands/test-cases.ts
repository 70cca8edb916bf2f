// `conductor test [DIR]`: declarative config tests. Each case is an intent in and the expected
// outcome out — accepted with the package the sinks would render, or refused at a named stage
// with a reason — run through the configured parse/validate/sanitize plugins without touching
// any sink, file or port.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import YAML from 'yaml';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadResolved } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { silentLogger } from '../../log.ts';
import { ConductorError } from '../../errors.ts';
import { renderPackage } from '../../intent/krm.ts';

export const TEST_HELP = `conductor test [--config FILE] [--json] [DIR]

Runs the config test cases in DIR (default: test/config-cases beside the config file). A case
is a YAML (or JSON) file, or one document of a multi-document YAML file:

  name: a scaling intent becomes a package     # defaults to the file name
  file: intent-odu.json                        # the intent's file name (it is part of its id)
  intent: { intent_type: scaling, target: odu, namespace: ran, replicas: 5 }
  # or  raw: '{"not json'                      # exact bytes, for malformed input
  expect:
    status: succeeded                          # or: failed
    package:                                   # files the sinks render, matched as subsets
      deployment.yaml: { spec: { replicas: 5 } }
    # for failed:  stage: sanitize   code: CND_ERR_INTENT_REJECTED   message: blocked pattern

Only the checking stages run (parse, validate, sanitize); no sink is called. Exit 0 when every
case passes, 1 when one fails (each failure is named).`;

interface Case {
  name: string;
  source: string;
  file: string;
  bytes: Uint8Array;
  expect: { status: 'succeeded' | 'failed'; stage?: string; code?: string; message?: string; package?: Record<string, unknown> };
}

export async function testCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, true);
  if (common.help) {
    console.log(TEST_HELP);
    return EXIT.ok;
  }
  const resolved = await loadResolved(common);
  const dir = positionals[0] === undefined ? join(resolve(resolved.config.source, '..'), 'test', 'config-cases') : resolve(positionals[0]);
  const cases = loadCases(dir);
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
  const results: { name: string; source: string; ok: boolean; problems: string[] }[] = [];
  for (const c of cases) {
    const checked = await conductor.pipeline.check({
      file: c.file,
      source: 'config-test',
      bytes: c.bytes,
      receivedAt: Date.now(),
      ack: async () => undefined,
      release: () => undefined,
    });
    const problems: string[] = [];
    const status = checked.error === undefined ? 'succeeded' : 'failed';
    if (status !== c.expect.status)
      problems.push(
        `expected ${c.expect.status}, got ${status}${checked.error ? ` (${checked.error.code} at ${checked.error.stage}: ${checked.error.message})` : ''}`,
      );
    else if (checked.error !== undefined) {
      const stage = checked.error.stage ?? 'validate';
      if (c.expect.stage !== undefined && c.expect.stage !== stage) problems.push(`expected stage ${c.expect.stage}, got ${stage}`);
      if (c.expect.code !== undefined && c.expect.code !== checked.error.code)
        problems.push(`expected code ${c.expect.code}, got ${checked.error.code}`);
      if (c.expect.message !== undefined && !matches(c.expect.message, checked.error.message))
        problems.push(`expected a message matching ${c.expect.message}, got "${checked.error.message}"`);
    } else if (c.expect.package !== undefined && checked.intent !== undefined) {
      const rendered = renderPackage(checked.intent);
      for (const [name, expected] of Object.entries(c.expect.package)) {
        const content = rendered[name];
        if (content === undefined) problems.push(`the package has no ${name} (it has ${Object.keys(rendered).join(', ')})`);
        else for (const mismatch of subsetMismatches(expected, YAML.parse(content) as unknown, name)) problems.push(mismatch);
      }
    }
    results.push({ name: c.name, source: c.source, ok: problems.length === 0, problems });
  }
  conductor.ledger.close();
  const failed = results.filter((r) => !r.ok);
  if (values['json'] === true) console.log(JSON.stringify({ dir, results }, null, 2));
  else {
    for (const r of results)
      console.log(r.ok ? `ok    ${r.name}` : `FAIL  ${r.name} (${r.source})\n${r.problems.map((p) => `        ${p}`).join('\n')}`);
    console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
  }
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}

function loadCases(dir: string): Case[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort();
  } catch {
    throw new ConductorError('CND_ERR_USAGE', `no config test directory at ${dir}`);
  }
  if (files.length === 0) throw new ConductorError('CND_ERR_USAGE', `no config test cases (*.yaml, *.json) in ${dir}`);
  const cases: Case[] = [];
  for (const file of files) {
    const docs = YAML.parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
    for (const [index, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
      const source = docs.length > 1 ? `${file}#${index + 1}` : file;
      if (doc.errors.length > 0) throw new ConductorError('CND_ERR_USAGE', `${source}: ${doc.errors[0]!.message}`);
      cases.push(toCase(doc.toJS() as Record<string, unknown>, source, basename(file).replace(/\.(ya?ml|json)$/, '')));
    }
  }
  return cases;
}

function toCase(raw: Record<string, unknown>, source: string, stem: string): Case {
  const expect = raw['expect'] as Case['expect'] | undefined;
  if (expect === undefined || (expect.status !== 'succeeded' && expect.status !== 'failed')) {
    throw new ConductorError('CND_ERR_USAGE', `${source}: expect.status must be "succeeded" or "failed"`);
  }
  if (raw['intent'] === undefined && typeof raw['raw'] !== 'string')
    throw new ConductorError('CND_ERR_USAGE', `${source}: give "intent" or "raw"`);
  const text = typeof raw['raw'] === 'string' ? raw['raw'] : JSON.stringify(raw['intent']);
  return {
    name: typeof raw['name'] === 'string' ? raw['name'] : stem,
    source,
    file: typeof raw['file'] === 'string' ? raw['file'] : `intent-${stem}.json`,
    bytes: new TextEncoder().encode(text),
    expect,
  };
}

/** "/regex/flags" is a regular expression; anything else a substring. */
function matches(pattern: string, text: string): boolean {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  return regex ? new RegExp(regex[1]!, regex[2]).test(text) : text.includes(pattern);
}

/** Where `actual` does not contain `expected` (objects by key, everything else by equality). */
function subsetMismatches(expected: unknown, actual: unknown, path: string): string[] {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object') return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) => subsetMismatches(v, (actual as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return JSON.stringify(expected) === JSON.stringify(actual)
    ? []
    : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}
