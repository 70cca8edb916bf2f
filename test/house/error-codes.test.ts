// The error catalogue stays tidy: every code in ERROR_CODES is raised somewhere in the sources
// (a code nobody raises is a promise nobody keeps) and asserted by some test (a code no test
// expects can silently stop being raised, or change its meaning).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../core/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const THIS_FILE = relative(ROOT, fileURLToPath(import.meta.url));
const CODES = Object.keys(ERROR_CODES);

/** Every .ts/.js file under `dirs` (relative to the repository), skipping dependencies and generated code. */
function filesUnder(...dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    (readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
      .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
      .filter((file) => !file.includes('node_modules') && !file.endsWith('precompiled.js')),
  );
}

const isTestFile = (file: string) => file.startsWith('test/') || /(^|\/)test\//.test(file);
const sources = filesUnder('core', 'plugins', 'examples', 'scripts', 'bench').filter(
  (file) => !isTestFile(file) && file !== 'core/errors.ts',
);
const tests = filesUnder('test', 'examples').filter((file) => isTestFile(file) && file !== THIS_FILE);
const text = new Map([...sources, ...tests].map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

/** Where `code` is written as a literal (quoted), the way raising or handling it is written. */
function raisedIn(code: string): string[] {
  const literal = new RegExp(`['"\`]${code}['"\`]`);
  return sources.filter((file) => literal.test(text.get(file)!));
}

/**
 * Test files that expect `code`: any mention of it but the first argument of a ConductorError
 * the test builds itself (a fake sink throwing it asserts nothing about where it comes from).
 */
function assertedIn(code: string): string[] {
  const mention = new RegExp(`(new ConductorError\\(\\s*)?['"\`/]${code}(?![A-Z_])`, 'g');
  return tests.filter((file) => [...text.get(file)!.matchAll(mention)].some((match) => match[1] === undefined));
}

test('the catalogue was found, with the files to search', () => {
  assert.ok(CODES.length > 20, `only ${CODES.length} codes`);
  assert.ok(sources.includes('core/app.ts') && tests.length > 50, 'the source and test trees were not found');
});

test('every code in ERROR_CODES is raised somewhere in the sources', () => {
  const unraised = CODES.filter((code) => raisedIn(code).length === 0);
  assert.deepEqual(unraised, [], `raise these where they belong, or remove them from ERROR_CODES: ${unraised.join(', ')}`);
});

test('every code in ERROR_CODES is asserted by some test', () => {
  const unasserted = CODES.filter((code) => assertedIn(code).length === 0);
  assert.deepEqual(unasserted, [], `no test expects these codes: ${unasserted.join(', ')}`);
});

test('the two checks above can fail: a code nobody raises nor asserts is found out', () => {
  const invented = 'CND_ERR_NOT_IN_THE_CATALOGUE';
  assert.deepEqual([raisedIn(invented), assertedIn(invented)], [[], []]);
});
