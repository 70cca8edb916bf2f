// Issue 14, acceptance 7: `npm pack` → install in an empty project outside the repository →
// the bin runs, the public API and the testkit import (JavaScript: Node strips no types under
// node_modules), and the example plugin passes the conformance suite against the installed
// package. Offline: the tarball is unpacked where `npm install` puts it and its dependencies are
// linked from the repository's node_modules (the same versions the lock file installed), so the
// test needs no registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '../support/cli.ts';

const NAME = '@conductor-intents/conductor';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Manifest {
  name: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  exports: Record<string, unknown>;
}

test("npm pack, install outside the repository: bin, API, testkit, and the example's conformance suite", { timeout: 300_000 }, (t) => {
  const work = mkdtempSync(join(tmpdir(), 'conductor-pack-'));
  t.after(() => (process.env['KEEP_PACK'] ? undefined : rmSync(work, { recursive: true, force: true })));

  // npm pack runs prepack (the build) and lists the files it packs.
  const packed = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', work], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }).replace(/^[^[]*/s, ''),
  ) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/core/index.js') && files.includes('dist/core/index.d.ts'), 'JavaScript and declarations');
  assert.ok(
    files.includes('dist/core/testkit/index.js') && files.includes('dist/core/cli/main.js') && files.includes('core/cli/conductor.js'),
  );
  // The one example that ships is the blueprint the embedded config instantiates new targets from.
  const shipped = (f: string) => f.startsWith('dist/examples/blueprints/');
  assert.deepEqual(
    files.filter((f) => (/(^|\/)(test|bench|examples)\//.test(f) && !shipped(f)) || f.endsWith('.test.js')),
    [],
    'no tests, benchmarks or examples',
  );
  assert.ok(files.includes('dist/examples/blueprints/deployment/Kptfile'), "the embedded config's blueprint");
  assert.deepEqual(
    files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    [],
    'no TypeScript sources',
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('core/')),
    ['core/cli/conductor.js'],
    'of the sources only the bin, which loads dist/',
  );

  // An empty project, outside the repository.
  const project = join(work, 'project');
  const installed = join(project, 'node_modules', ...NAME.split('/'));
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  execFileSync('tar', ['xzf', join(work, packed[0]!.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest;
  assert.equal(manifest.name, NAME);
  for (const dependency of Object.keys(manifest.dependencies)) {
    const link = join(project, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', dependency), link);
  }
  const bin = join(project, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(relative(bin, join(installed, manifest.bin['conductor']!)), join(bin, 'conductor'));

  // Without NODE_TEST_CONTEXT, which would make the child's test runner report to this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_TEST_CONTEXT'));
  const run = (args: string[], cwd = project) => spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });

  // The bin runs, with the built-in plugins and the embedded config it ships.
  const version = run([join(bin, 'conductor'), '--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
  const graph = run([join(bin, 'conductor'), 'graph']);
  assert.equal(graph.status, 0, graph.stderr);
  assert.match(graph.stdout, /git-sink/);

  // The public API and the testkit import by the package name.
  writeFileSync(
    join(project, 'imports.mjs'),
    `import { definePlugin, ConductorError, CONDUCTOR_VERSION } from '${NAME}';
import { runConformance, buildPipeline } from '${NAME}/testkit';
console.log(typeof definePlugin, typeof ConductorError, typeof runConformance, typeof buildPipeline, CONDUCTOR_VERSION);`,
  );
  const imports = run(['imports.mjs']);
  assert.equal(imports.status, 0, imports.stderr);
  assert.match(imports.stdout, /^function function function function \d+\.\d+\.\d+/);

  // The example plugin, as its own project beside the consumer, importing the installed package.
  const example = join(project, 'webhook-audit');
  cpSync(join(REPO_ROOT, 'examples', 'webhook-audit'), example, { recursive: true });
  const rewrite = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) rewrite(path);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8')
          .replace(/from '(\.\.\/)+core\/testkit\/index\.ts'/g, `from '${NAME}/testkit'`)
          .replace(/from '(\.\.\/)+core\/index\.ts'/g, `from '${NAME}'`);
        writeFileSync(path, text);
      }
    }
  };
  rewrite(example);
  const leftovers = spawnSync('grep', ['-rlE', "from '(\\.\\./)+core/", '--include=*.ts', example], { encoding: 'utf8' }).stdout.trim();
  assert.equal(leftovers, '', 'every import of the core goes through the package');
  const conformance = run(['--test', '--test-reporter=spec', '--test-force-exit', 'test/conformance.test.ts'], example);
  assert.equal(conformance.status, 0, conformance.stdout.slice(-4000) + conformance.stderr);
  assert.match(conformance.stdout, /ℹ fail 0/);
  assert.match(conformance.stdout, /ℹ pass [1-9]/);
  t.diagnostic(
    conformance.stdout
      .split('\n')
      .filter((l) => /^ℹ (tests|pass|fail)/.test(l))
      .join('; '),
  );
});
