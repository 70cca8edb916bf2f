// Issue 9, acceptance 4: the workflow files parse, every action is pinned by commit SHA (and
// the check does refuse one that is not), and the SBOM the workflows publish is produced by
// scripts/sbom.sh from the lockfile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/cli.ts';
import { tempDir } from '../support/data-dir.ts';
import { checkWorkflow, checkWorkflowFile, workflowFiles } from './support/workflows.ts';

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const run = promisify(execFile);

test('the CI and release workflows parse and pin every action by commit SHA', () => {
  const files = workflowFiles(WORKFLOWS).map((f) => f.slice(WORKFLOWS.length + 1));
  assert.deepEqual(files, ['ci.yml', 'release.yml']);
  for (const file of workflowFiles(WORKFLOWS)) assert.deepEqual(checkWorkflowFile(file), [], file);
});

test('the pin check refuses a tag, a branch, a short SHA, an unpinned image and a missing version comment', () => {
  const workflow = (uses: string) => `on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: ${uses}\n`;
  const sha = 'a'.repeat(40);
  assert.deepEqual(checkWorkflow('ok.yml', workflow(`actions/checkout@${sha} # v7.0.1`)), []);
  assert.deepEqual(checkWorkflow('local.yml', workflow('./.github/actions/setup')), []);
  for (const unpinned of [
    'actions/checkout@v7',
    'actions/checkout@main',
    'actions/checkout@3d3c42e',
    'actions/checkout',
    'docker://alpine:3.20',
  ]) {
    const findings = checkWorkflow('bad.yml', workflow(unpinned));
    assert.equal(findings.length, 1, unpinned);
    assert.match(findings[0]!.problem, /not pinned/, unpinned);
    assert.equal(findings[0]!.where, 'jobs.a.steps[0].uses');
  }
  assert.match(checkWorkflow('nocomment.yml', workflow(`actions/checkout@${sha}`))[0]!.problem, /no "# vX.Y.Z" comment/);
  const reusable = 'on: push\njobs:\n  ci:\n    uses: octo/repo/.github/workflows/ci.yml@v1\n';
  assert.equal(checkWorkflow('reusable.yml', reusable)[0]!.where, 'jobs.ci.uses');
  assert.match(checkWorkflow('broken.yml', 'on: push\njobs: [\n')[0]!.problem, /does not parse/);
});

test('the workflows run the gates the issue asks for', () => {
  const ci = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8');
  for (const command of ['npm ci', 'npm test', 'npm audit --omit=dev --audit-level=high', 'scripts/sbom.sh'])
    assert.ok(ci.includes(command), command);
  const release = parse(readFileSync(join(WORKFLOWS, 'release.yml'), 'utf8')) as {
    jobs: Record<string, { needs?: string; steps?: { uses?: string; with?: Record<string, unknown>; run?: string }[] }>;
  };
  assert.equal(release.jobs['image']!.needs, 'ci');
  const steps = release.jobs['image']!.steps!;
  const using = (action: string) => steps.filter((s) => s.uses?.startsWith(`${action}@`));
  assert.equal(using('aquasecurity/trivy-action')[0]!.with!['severity'], 'HIGH,CRITICAL');
  assert.equal(using('aquasecurity/trivy-action')[0]!.with!['exit-code'], '1');
  const push = using('docker/build-push-action').find((s) => s.with!['push'] === true)!;
  assert.match(String(push.with!['platforms']), /linux\/amd64,linux\/arm64/);
  assert.equal(push.with!['provenance'], 'mode=max');
  assert.equal(push.with!['sbom'], true);
  const scanAt = steps.findIndex((s) => s.uses?.startsWith('aquasecurity/trivy-action@'));
  assert.ok(scanAt < steps.indexOf(push), 'the scan gates the push');
  assert.ok(
    steps.some((s) => s.run?.includes('cosign sign --yes')),
    'cosign keyless signing',
  );
});

test('scripts/sbom.sh writes a CycloneDX document of the production dependencies, offline', async (t) => {
  const dir = tempDir('conductor-sbom-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'sbom.cdx.json');
  await run('bash', [join(REPO_ROOT, 'scripts', 'sbom.sh'), out], { cwd: dir, env: { ...process.env, npm_config_offline: 'true' } });
  assert.ok(existsSync(out));
  const bom = JSON.parse(readFileSync(out, 'utf8')) as { bomFormat: string; specVersion: string; components: { name: string }[] };
  assert.equal(bom.bomFormat, 'CycloneDX');
  const names = new Set(bom.components.map((c) => c.name));
  for (const dependency of ['pino', 'tar', 'undici']) assert.ok(names.has(dependency), dependency);
  assert.ok(!names.has('oxlint') && !names.has('typescript'), 'dev dependencies are not shipped, so not listed');
});
