// The Dockerfile and .dockerignore, checked statically (no Docker engine here).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkDockerfile, checkDockerignore, dockerIgnored, parseDockerfile, type Stage } from './support/dockerfile.ts';
import { formatFindings } from './support/objects.ts';
import { REPO_ROOT } from './support/render.ts';

const dockerfile = (): Promise<string> => readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const dockerignore = (): Promise<string> => readFile(join(REPO_ROOT, '.dockerignore'), 'utf8');

describe('Dockerfile', () => {
  it('is multi-stage: Node 24 build, distroless Node 24 non-root runtime', async () => {
    const { stages } = parseDockerfile(await dockerfile());
    assert.deepEqual(
      stages.map((s) => [s.name, s.image]),
      [
        ['build', 'node:24-bookworm-slim'],
        ['compile-cache', 'gcr.io/distroless/nodejs24-debian12:nonroot'],
        ['runtime', 'gcr.io/distroless/nodejs24-debian12:nonroot'],
      ],
    );
  });

  it("fills Node's compile cache at build time with the runtime's node, user and flags", async () => {
    const { stages } = parseDockerfile(await dockerfile());
    const cache = stages.find((s) => s.name === 'compile-cache');
    const runtime = stages.at(-1)!;
    assert.ok(cache, 'a compile-cache stage');
    // Node keys the cache by its version and V8 flags: the same image (so the same node) and NODE_OPTIONS.
    assert.equal(cache.image, runtime.image);
    const cacheEnv = envOf(cache);
    const runtimeEnv = envOf(runtime);
    assert.equal(cacheEnv.get('NODE_OPTIONS'), runtimeEnv.get('NODE_OPTIONS'));
    const dir = runtimeEnv.get('NODE_COMPILE_CACHE');
    assert.equal(cacheEnv.get('NODE_COMPILE_CACHE'), dir, 'the runtime reads the cache where the build wrote it');
    assert.match(dir ?? '', /^\/app\/node_modules\//, 'the cache travels with node_modules');
    // ... and by user (the uid is part of the cache directory's name): it is filled as the app's user.
    const steps = cache.instructions.filter((i) => i.keyword === 'RUN' || i.keyword === 'USER' || i.keyword === 'ENV');
    const firstRun = steps.findIndex((i) => i.keyword === 'RUN');
    assert.equal(
      steps
        .slice(0, firstRun)
        .filter((i) => i.keyword === 'USER')
        .at(-1)?.args,
      '65532:65532',
    );
    const runs = cache.instructions.filter((i) => i.keyword === 'RUN').map((i) => JSON.parse(i.args) as string[]);
    assert.ok(
      runs.every((argv) => argv[0] === '/nodejs/bin/node'),
      "exec form, with the image's node (no shell)",
    );
    const commands = runs.map((argv) => argv.join(' '));
    assert.ok(
      commands.some((c) => c.includes('core/cli/conductor.js once --data-dir')),
      'a start, empty data dir',
    );
    assert.ok(
      commands.some((c) => /readdirSync\('plugins'\)[\s\S]*import\('\.\/plugins\//.test(c)),
      'every plugin',
    );
    assert.match(commands.at(-1)!, /chmodSync\(e\.parentPath[\s\S]*0o644/, 'last, the files made readable to all');
    assert.equal(cacheEnv.get('NODE_DISABLE_COMPILE_CACHE'), '1', 'the chmod step adds no owner-only entry of its own');
    // The runtime copies node_modules, cache included, from that stage, owned by root: read-only to the app.
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY' && /\/app\/node_modules\b/.test(i.args));
    assert.deepEqual(
      copies.map((c) => c.args),
      ['--from=compile-cache /app/node_modules ./node_modules'],
    );
  });

  it('passes the static check', async () => {
    const findings = checkDockerfile(await dockerfile());
    assert.equal(findings.length, 0, formatFindings(findings));
  });
});

/** A stage's ENV values (the last one wins), quotes removed. */
function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const { keyword, args } of stage.instructions) {
    const equals = args.indexOf('=');
    if (keyword === 'ENV' && equals > 0) env.set(args.slice(0, equals), args.slice(equals + 1).replace(/^"|"$/g, ''));
  }
  return env;
}

describe('.dockerignore', () => {
  it('keeps the runtime sources and leaves out the rest', async () => {
    const findings = checkDockerignore(await dockerignore());
    assert.equal(findings.length, 0, formatFindings(findings));
  });

  it('matches like Docker: last pattern wins, ! re-includes, ** spans directories', () => {
    const patterns = '*\n!core/\n**/*.test.ts\n';
    assert.equal(dockerIgnored(patterns, 'README.md'), true);
    assert.equal(dockerIgnored(patterns, 'core/a/b.ts'), false);
    assert.equal(dockerIgnored(patterns, 'core/a/b.test.ts'), true);
  });
});
