// `conductor validate --check-connectivity` for the Porch sink: the plugin's preflight reports
// one line per dependency (credentials, reach, authenticate, Porch API, repository, and a
// SelfSubjectAccessReview per verb the flow uses), stopping where later checks could only
// repeat a failure; and the real CLI prints them as pass/FAIL lines with the right exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { silentLogger } from '../../core/log.ts';
import type { PreflightCheck } from '../../core/index.ts';
import { runCli } from '../support/cli.ts';
import { tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { porchConfig, removeAll, startSim, dataDirectory } from './support/harness.ts';
import { makePki } from './support/tls.ts';

const pkiDir = tempDir('conductor-pki-');
const pki = makePki(pkiDir);
test.after(() => removeAll(pkiDir));

/** The preflight exactly as `validate` runs it: a pipeline built in `check` mode, nothing started. */
async function preflight(sink: Record<string, unknown>): Promise<PreflightCheck[]> {
  const dir = dataDirectory();
  try {
    const resolved = await resolveConfig(porchConfig(dir.root, sink), { source: 'preflight test', baseDir: dir.root });
    const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'check' });
    const entry = conductor.plugins.find((p) => p.id === 'porch-sink');
    const checks = await entry!.instance.preflight!(AbortSignal.timeout(10_000));
    conductor.ledger.close();
    return checks;
  } finally {
    dir.cleanup();
  }
}

const ACCESS_CHECKS = [
  'may get repositories',
  'may list packagerevisions',
  'may create packagerevisions',
  'may update packagerevisions',
  'may delete packagerevisions',
  'may get packagerevisionresources',
  'may update packagerevisionresources',
];

function tokenFile(content: string): string {
  const path = join(pkiDir, `token-${content}`);
  writeFileSync(path, `${content}\n`);
  return path;
}

test('everything in order over TLS: every check passes, one per verb the flow uses', async (t) => {
  const sim = await startSim({ tls: { key: pki.serverKey, cert: pki.serverCert }, token: 'good' });
  t.after(() => sim.close());
  const checks = await preflight({ server: sim.url, caFile: pki.caFile, tokenFile: tokenFile('good'), approve: true });
  assert.deepEqual(
    checks.map((c) => c.name),
    [
      'credentials',
      'reach server',
      'authenticate',
      'porch API',
      'repository',
      'blueprint',
      ...ACCESS_CHECKS,
      'may update packagerevisions/approval',
    ],
  );
  assert.match(
    checks.find((c) => c.name === 'blueprint')!.message,
    /porch-demo\/blueprints\/app-blueprint has Published revision 1 to clone new targets from/,
  );
  assert.deepEqual(
    checks.filter((c) => !c.ok),
    [],
  );
  assert.match(checks.find((c) => c.name === 'repository')!.message, /porch-demo\/deployments exists and is Ready/);
  assert.equal(sim.writeCount(), 0, 'preflight writes nothing');
});

test('a denied permission, a missing repository, refused credentials, an unreachable server, a wrong CA', async (t) => {
  const sim = await startSim({
    tls: { key: pki.serverKey, cert: pki.serverCert },
    token: 'good',
    deny: [{ verb: 'update', resource: 'packagerevisions', subresource: 'approval' }],
  });
  t.after(() => sim.close());

  const denied = await preflight({ server: sim.url, caFile: pki.caFile, tokenFile: tokenFile('good'), approve: true });
  assert.deepEqual(
    denied.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`),
    ['may update packagerevisions/approval: denied in porch-demo (porch.kpt.dev)'],
  );
  const withoutApprove = await preflight({ server: sim.url, caFile: pki.caFile, tokenFile: tokenFile('good') });
  assert.deepEqual(
    withoutApprove.filter((c) => !c.ok),
    [],
    'approval is only needed with approve: true',
  );

  const missingRepository = await preflight({ server: sim.url, caFile: pki.caFile, tokenFile: tokenFile('good'), repository: 'nowhere' });
  const repository = missingRepository.find((c) => c.name === 'repository')!;
  assert.equal(repository.ok, false);
  assert.match(repository.message, /porch-demo\/nowhere: 404 NotFound: repositories\.config\.porch\.kpt\.dev "nowhere" not found/);

  const missingBlueprint = await preflight({
    server: sim.url,
    caFile: pki.caFile,
    tokenFile: tokenFile('good'),
    blueprint: { repository: 'blueprints', package: 'app-blueprint', revision: 4 },
  });
  assert.deepEqual(
    missingBlueprint.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`),
    ['blueprint: porch-demo/blueprints/app-blueprint has no Published revision 4; new targets would be refused'],
  );

  const refused = await preflight({ server: sim.url, caFile: pki.caFile, tokenFile: tokenFile('stale') });
  assert.deepEqual(
    refused.map((c) => [c.name, c.ok]),
    [
      ['credentials', true],
      ['reach server', true],
      ['authenticate', false],
    ],
    'nothing after a refusal',
  );
  assert.match(refused.at(-1)!.message, /credentials refused: 401 Unauthorized/);

  const wrongCa = await preflight({ server: sim.url, caFile: pki.wrongCaFile, tokenFile: tokenFile('good') });
  assert.deepEqual(
    wrongCa.map((c) => [c.name, c.ok]),
    [
      ['credentials', true],
      ['reach server', false],
    ],
  );
  assert.match(wrongCa.at(-1)!.message, /TLS certificate of https:\/\/127\.0\.0\.1:\d+ not accepted/);

  const closed = await startSim();
  const url = closed.url;
  await closed.close();
  const unreachable = await preflight({ server: url });
  assert.deepEqual(
    unreachable.map((c) => [c.name, c.ok]),
    [
      ['credentials', true],
      ['reach server', false],
    ],
  );
  assert.match(unreachable.at(-1)!.message, /cannot connect \(ECONNREFUSED/);

  const noCredentials = await preflight({ server: sim.url, caFile: join(pkiDir, 'absent.crt') });
  assert.deepEqual(
    noCredentials.map((c) => [c.name, c.ok]),
    [['credentials', false]],
  );
});

test('CLI: `conductor validate --check-connectivity` prints a pass/FAIL line per check and exits 0 or 1', async (t) => {
  const sim = await startSim({ token: 'good' });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const config = writeJsonConfig(dir.root, porchConfig(dir.root, { server: sim.url, tokenFile: tokenFile('good'), approve: true }));

  const passing = await runCli(['validate', '--check-connectivity', '--config', config]);
  assert.equal(passing.code, 0, passing.stdout + passing.stderr);
  const lines = passing.stdout.trim().split('\n');
  assert.match(lines[0]!, /^config ok: /);
  // The simulator is plain HTTP: the token travelling unencrypted is warned about, as at start.
  assert.ok(lines.includes('WARNING porch-sink: the server is plain HTTP: the token travels unencrypted'), lines.join('\n'));
  const checkLines = lines.slice(1).filter((line) => !line.startsWith('WARNING '));
  assert.equal(checkLines.length, 14, checkLines.join('\n'));
  for (const line of checkLines) assert.match(line, /^pass {4}porch-sink: [A-Za-z /]+: \S/);
  assert.ok(checkLines.includes(`pass    porch-sink: reach server: ${sim.url} answered (server ${sim.url})`), checkLines.join('\n'));

  sim.setDenyRules([{ verb: 'create', resource: 'packagerevisions' }]);
  const failing = await runCli(['validate', '--check-connectivity', '--config', config]);
  assert.equal(failing.code, 1);
  assert.match(failing.stdout, /^FAIL {4}porch-sink: may create packagerevisions: denied in porch-demo \(porch\.kpt\.dev\)$/m);
  assert.equal(failing.stdout.match(/^FAIL/gm)?.length, 1);
});
