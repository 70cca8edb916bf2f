// The public API as text: for each entry point of the package (core/index.ts and
// core/testkit/index.ts), the names it exports at run time and the declaration of every exported
// name as the compiler emits it (tsc --emitDeclarationOnly, without comments, so that rewording
// a comment is no API change). test/house/public-api.test.ts compares this with the snapshot
// checked in; `npm run api:update` (this script with --update) records a reviewed change.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ENTRY_POINTS = ['core/index.ts', 'core/testkit/index.ts'] as const;
export const SNAPSHOT_FILE = join(ROOT, 'test', 'house', 'public-api.snapshot.txt');

/** Emits the declarations of the entry points (and what they import) into a temporary directory. */
function emitDeclarations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conductor-api-'));
  const config = {
    extends: join(ROOT, 'tsconfig.build.json'),
    compilerOptions: { typeRoots: [join(ROOT, 'node_modules', '@types')] },
    include: [],
    files: ENTRY_POINTS.map((entry) => join(ROOT, entry)),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['-p', join(dir, 'tsconfig.json'), '--emitDeclarationOnly', '--removeComments', '--outDir', join(dir, 'out')];
  execFileSync(process.execPath, [tsc, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return join(dir, 'out');
}

/**
 * A .d.ts split into its top-level statements. The compiler prints each at column 0 and indents
 * what continues it, but for the closing line of a body (`}`, `};`, `} & Other;`).
 */
function statementsOf(text: string): string[] {
  const statements: string[] = [];
  for (const line of text.split('\n')) {
    const continues = line === '' || /^[\s})\]|&]/.test(line);
    if (continues && statements.length > 0) statements[statements.length - 1] += `\n${line}`;
    else if (!continues) statements.push(line);
  }
  return statements.map((statement) => statement.trimEnd());
}

/** `export { a, type B as C } from './m.ts'` → [exported name, name in the module][] and the module. */
function reExportsOf(statement: string): { names: [string, string][]; from?: string } | undefined {
  const match = /^export (?:type )?\{([^}]*)\}(?: from '([^']+)')?;$/s.exec(statement.replace(/\n\s*/g, ' '));
  if (match === null) return undefined;
  const names = match[1]!
    .split(',')
    .map((part) => part.trim().replace(/^type /, ''))
    .filter(Boolean)
    .map((part): [string, string] => {
      const [local, exported = local] = part.split(/\s+as\s+/);
      return [exported!, local!];
    });
  return { names, ...(match[2] === undefined ? {} : { from: match[2] }) };
}

/** The declaration(s) of `name` in the emitted module `file`, following re-exports. */
function declarationOf(outDir: string, file: string, name: string): string[] {
  const statements = statementsOf(readFileSync(join(outDir, file), 'utf8'));
  const declares = new RegExp(`^(export )?(declare )?(abstract )?(function|const|let|class|interface|type|enum|namespace) ${name}\\b`);
  const own = statements.filter((statement) => declares.test(statement));
  if (own.length > 0) return own.map((statement) => (statement.startsWith('export ') ? statement : `export ${statement}`));
  for (const statement of statements) {
    const reExport = reExportsOf(statement);
    const local = reExport?.names.find(([exported]) => exported === name)?.[1];
    if (local === undefined) continue;
    if (reExport!.from === undefined) return declarationOf(outDir, file, local);
    // A dependency's own type (ajv's ErrorObject): its version is the package's, not ours.
    if (!reExport!.from.startsWith('.')) return [`export { ${local === name ? name : `${local} as ${name}`} } from '${reExport!.from}';`];
    return declarationOf(outDir, join(dirname(file), reExport!.from.replace(/\.ts$/, '.d.ts')), local);
  }
  throw new Error(`public API: no declaration of ${name} in ${file}`);
}

/** The snapshot section of one entry point: its run-time names, then each exported declaration. */
async function sectionOf(outDir: string, entry: string): Promise<string> {
  const runtime = Object.keys(await import(pathToFileURL(join(ROOT, entry)).href)).sort();
  const dts = entry.replace(/\.ts$/, '.d.ts');
  const names = statementsOf(readFileSync(join(outDir, dts), 'utf8'))
    .flatMap((statement) => reExportsOf(statement)?.names.map(([exported]) => exported) ?? [])
    .sort();
  const declarations = names.map((name) => `## ${name}\n${declarationOf(outDir, dts, name).join('\n')}`);
  // One name a line, so that a difference names the export alone.
  const runtimeLines = runtime.map((name) => `  ${name}`);
  return [`# ${entry}`, '', `run-time exports (${runtime.length}):`, ...runtimeLines, '', ...declarations, ''].join('\n');
}

/** The public API as the snapshot holds it. */
export async function publicApiSnapshot(): Promise<string> {
  const outDir = emitDeclarations();
  try {
    const sections = [];
    for (const entry of ENTRY_POINTS) sections.push(await sectionOf(outDir, entry));
    return sections.join('\n');
  } finally {
    rmSync(dirname(outDir), { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const snapshot = await publicApiSnapshot();
  if (process.argv.includes('--update')) {
    writeFileSync(SNAPSHOT_FILE, snapshot);
    console.log(`public API recorded in ${SNAPSHOT_FILE}`);
  } else {
    process.stdout.write(snapshot);
  }
}
