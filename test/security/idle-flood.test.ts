// Issue 19, defect 5: a flood of idle connections to the health and metrics ports does not
// stall intake. With the open-file limit at 1024 and 1,100 idle connections on each port, an
// intent dropped meanwhile is processed and /healthz answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLI, REPO_ROOT } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';

const FLOOD = 1_100;

function healthz(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

test(
  `${FLOOD} idle connections on each port with ulimit -n 1024: an intent is processed and /healthz answers`,
  { timeout: 120_000 },
  async (t) => {
    const data = makeDataDir();
    const work = tempDir('conductor-flood-');
    const sockets: Socket[] = [];
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      [data.root, work].forEach((dir) => rmSync(dir, { recursive: true, force: true }));
    });
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const config = writeJsonConfig(
      work,
      fastConfig(data.root, { health: { port: healthPort, host: '127.0.0.1' }, prometheus: { port: metricsPort, host: '127.0.0.1' } }),
    );
    const child = spawn('bash', ['-c', 'ulimit -n 1024; exec "$0" "$@"', process.execPath, CLI, 'run', '--config', config], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The log (stdout) and stderr: the pipeline must never have met EMFILE.
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    t.after(() => child.kill('SIGKILL'));
    await waitFor('the health port', async () => (await healthz(healthPort)) === 200, 30_000, 100);

    // The flood: connections that never send a byte, held open by this process.
    let settled = 0;
    for (const port of [healthPort, metricsPort]) {
      for (let i = 0; i < FLOOD; i += 1) {
        const socket = connect({ host: '127.0.0.1', port });
        let counted = false;
        const count = () => {
          if (!counted) settled += 1;
          counted = true;
        };
        socket
          .on('connect', count)
          .on('close', count)
          .on('error', () => undefined);
        sockets.push(socket);
      }
    }
    await waitFor('the flood to connect', () => settled >= 2 * FLOOD * 0.9, 30_000, 20);

    const started = performance.now();
    dropIntent(data.handoff, 'intent-flood.json', scaling('flood-target', 3), { atomic: true });
    await waitFor('the intent processed', () => existsSync(join(data.root, 'processed', 'intent-flood.json')), 30_000, 20);
    const processedMs = Math.round(performance.now() - started);
    const answered = performance.now();
    assert.equal(await healthz(healthPort), 200, '/healthz answers during the flood');
    const healthMs = Math.round(performance.now() - answered);
    t.diagnostic(`intent processed ${processedMs} ms after it was dropped; /healthz answered in ${healthMs} ms`);
    assert.doesNotMatch(output, /EMFILE|too many open files/i, 'no file descriptor was refused to the pipeline');
  },
);
