// Issue 19, defect 7 (first item): `insecure-skip-tls-verify: true` in a kubeconfig turns the
// server certificate check off just as the plugin's insecureSkipTLSVerify option does, so it is
// warned about the same way: a warning at start, a WARNING line from `validate` (and on its
// credentials check), and a warning from `print-config`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { runCli } from '../support/cli.ts';
import { tempDir, writeJsonConfig } from '../support/data-dir.ts';
import {
  assertDeliveredExactlyOnce,
  capturingLogger,
  dataDirectory,
  dropScalingIntents,
  porchConfig,
  removeAll,
  runOnce,
  startSim,
} from './support/harness.ts';
import { makePki } from './support/tls.ts';

test(
  'insecure-skip-tls-verify in a kubeconfig: it connects, and start, validate and print-config warn',
  { timeout: 120_000 },
  async (t) => {
    const pkiDir = tempDir('conductor-pki-');
    const pki = makePki(pkiDir);
    const sim = await startSim({ tls: { key: pki.serverKey, cert: pki.serverCert }, token: 'kube-token' });
    const dir = dataDirectory();
    t.after(async () => {
      await sim.close();
      dir.cleanup();
      removeAll(pkiDir);
    });
    const kubeconfig = join(dir.root, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      YAML.stringify({
        'current-context': 'dev',
        clusters: [{ name: 'dev-cluster', cluster: { server: sim.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'dev', user: { token: 'kube-token' } }],
        contexts: [{ name: 'dev', context: { cluster: 'dev-cluster', user: 'dev' } }],
      }),
    );
    const config = porchConfig(dir.root, { kubeconfig, approve: true });
    const dropped = dropScalingIntents(dir.handoff, 2);
    const { log, records } = capturingLogger();
    await runOnce(config, log);
    assertDeliveredExactlyOnce(sim, dropped, 'Published');
    const warning = records().find((r) => r.level === 40 && /insecure-skip-tls-verify/.test(r.msg));
    assert.ok(warning, 'a warning at start');
    assert.match(
      warning.msg,
      /cluster "dev-cluster" in kubeconfig .*kubeconfig: the server certificate is NOT verified; use this for development only/,
    );

    const configFile = writeJsonConfig(dir.root, config);
    const validate = await runCli(['validate', '--config', configFile, '--check-connectivity']);
    assert.equal(validate.code, 0, validate.stderr + validate.stdout);
    assert.match(validate.stdout, /^WARNING porch-sink: insecure-skip-tls-verify is set for cluster "dev-cluster"/m);
    assert.match(validate.stdout, /^pass\s+porch-sink: credentials: from kubeconfig .*; WARNING: insecure-skip-tls-verify/m);

    const printed = await runCli(['print-config', '--config', configFile]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.doesNotThrow(() => JSON.parse(printed.stdout), 'stdout stays the config');
    assert.match(printed.stderr, /^warning: porch-sink: insecure-skip-tls-verify is set for cluster "dev-cluster"/m);
  },
);
