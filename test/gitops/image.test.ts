// The Dockerfile and .dockerignore, checked statically (no Docker engine here).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkDockerfile, checkDockerignore, dockerIgnored, parseDockerfile } from './support/dockerfile.ts';
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
        ['runtime', 'gcr.io/distroless/nodejs24-debian12:nonroot'],
      ],
    );
  });

  it('passes the static check', async () => {
    const findings = checkDockerfile(await dockerfile());
    assert.equal(findings.length, 0, formatFindings(findings));
  });
});

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
