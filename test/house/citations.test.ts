// Citations point at documents the repository has, and at headings those documents have. A
// comment that says "see docs/porch.md §Idempotency" is only worth something while that
// heading exists; a citation of working notes that never were in the repository is worth nothing
// to a reader of the repository.
//
// Checked over every file of the tree (node_modules, .git and build output left out):
//   - no citation of the design or API notes that live outside the repository;
//   - every `docs/<name>.md` mentioned exists;
//   - a `§<heading>` within a short distance after a `docs/<name>.md` names a heading of that
//     document (its text, or its section number such as `4.2`);
//   - a Markdown link to a local `.md` file (with or without `#anchor`) resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage']);
/** How far before a `§` its document may be named (a citation may wrap onto the next line). */
const NEAR = 160;

// Built from parts, so that this file does not cite what it forbids.
const NOTES = ['DESIGN', 'porch-api'];
const OUTSIDE_NOTES = [new RegExp(String.raw`\b${NOTES[0]}(?:\.md\b|\s*§|\s+\d|'s\b)`), new RegExp(String.raw`\b${NOTES[1]}\.md\b`)];
const SECTION = '§';

interface Heading {
  text: string;
  /** `4.2` for `### 4.2 runConformance`. */
  number?: string;
  slug: string;
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slugOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const headingCache = new Map<string, Heading[]>();

function headingsOf(path: string): Heading[] {
  let headings = headingCache.get(path);
  if (headings !== undefined) return headings;
  headings = [];
  let fenced = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const match = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (match === null) continue;
    const text = match[1]!;
    const number = /^(\d+(?:\.\d+)*)\.?\s/.exec(text)?.[1];
    headings.push({ text, ...(number === undefined ? {} : { number }), slug: slugOf(text) });
  }
  headingCache.set(path, headings);
  return headings;
}

/** Does the text after `§` start with one of the document's headings? */
function namesHeading(after: string, headings: Heading[]): boolean {
  return headings.some((heading) => {
    const plain = heading.text.replaceAll('`', '');
    if (after.startsWith(heading.text) || after.startsWith(plain)) return true;
    return heading.number !== undefined && new RegExp(String.raw`^${heading.number.replaceAll('.', '\\.')}(?!\.?\d)`).test(after);
  });
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Every problem of one file, as `path:line: message`. */
function problemsOf(path: string, text: string): string[] {
  const rel = relative(ROOT, path);
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const pattern of OUTSIDE_NOTES) {
      const found = pattern.exec(line);
      if (found !== null) problems.push(`${rel}:${i + 1}: cites "${found[0]}", a document that is not in the repository`);
    }
  });
  for (const found of text.matchAll(/(?<![\w/.-])docs\/[\w./-]+\.md\b/g)) {
    if (!existsSync(join(ROOT, found[0]))) problems.push(`${rel}:${lineOf(text, found.index)}: ${found[0]} does not exist`);
  }
  for (const found of text.matchAll(new RegExp(`${SECTION}(?=\\S)`, 'g'))) {
    const before = text.slice(Math.max(0, found.index - NEAR), found.index);
    const docs = [...before.matchAll(/(?<![\w/.-])(docs\/[\w./-]+\.md)\b/g)];
    const doc = docs.at(-1)?.[1];
    if (doc === undefined || !existsSync(join(ROOT, doc))) continue;
    const after = text.slice(found.index + 1, found.index + 120);
    if (!namesHeading(after, headingsOf(join(ROOT, doc)))) {
      problems.push(`${rel}:${lineOf(text, found.index)}: ${doc} has no heading "${SECTION}${after.split(/[,;)\n]/)[0]}"`);
    }
  }
  if (path.endsWith('.md')) problems.push(...linkProblems(path, rel, text));
  return problems;
}

/** Markdown links to local .md files, and their anchors. */
function linkProblems(path: string, rel: string, text: string): string[] {
  const problems: string[] = [];
  for (const found of text.matchAll(/\]\(([^)\s]*?\.md)?(?:#([^)\s]+))?\)/g)) {
    const [, target, anchor] = found;
    if (target === undefined && anchor === undefined) continue;
    if (target !== undefined && /^[a-z]+:/.test(target)) continue;
    const file = target === undefined ? path : resolve(dirname(path), target);
    const where = `${rel}:${lineOf(text, found.index)}`;
    if (!existsSync(file)) {
      problems.push(`${where}: link to ${target} which does not exist`);
      continue;
    }
    if (anchor !== undefined && file.endsWith('.md') && !headingsOf(file).some((h) => h.slug === anchor)) {
      problems.push(`${where}: link to ${target ?? ''}#${anchor}, which is no heading there`);
    }
  }
  return problems;
}

test('every citation names a document of the repository and a heading it has', () => {
  const problems: string[] = [];
  for (const path of files(ROOT)) {
    const bytes = readFileSync(path);
    if (bytes.includes(0)) continue; // binary
    problems.push(...problemsOf(path, bytes.toString('utf8')));
  }
  assert.deepEqual(problems, []);
});
