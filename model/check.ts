// `npm run model-check`: checks the Promela model of the delivery protocol (model/delivery.pml)
// exhaustively with spin, and fails (exit 1) on any violation. The build (spin's pan.c, the
// compiled verifier, a trail) goes to a temporary directory, never into the repository.
//
//   npm run model-check                                   the protocol as built: 0 errors expected
//   npm run model-check -- --without-content-hash         sinks matching by intent id alone
//                                                         (issue 13 defect 1): reports the violation
//   npm run model-check -- --without-order-rule           no `superseded` (issue 18 defect 4)
//   npm run model-check -- --deep                         larger bounds (more crashes, forgets)
//
// Exit: 0 no violation, at least MIN_STATES states explored, the search complete; 1 a violation
// (or an incomplete search); 2 spin or gcc missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MODEL = fileURLToPath(new URL('./delivery.pml', import.meta.url));
/** The acceptance floor: an exhaustive check of a model this small must see at least this many states. */
export const MIN_STATES = 10_000;

const { values } = parseArgs({
  options: {
    'without-content-hash': { type: 'boolean', default: false },
    'without-order-rule': { type: 'boolean', default: false },
    deep: { type: 'boolean', default: false },
    /** Keep the build directory (pan, the trail) to replay a counterexample with `spin -t -p`. */
    keep: { type: 'boolean', default: false },
  },
});

for (const tool of ['spin', 'gcc']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`model-check: ${tool} is not installed; install it (Debian: apt-get install -y ${tool}; .ci/run does)`);
    process.exit(2);
  }
}

const defines: string[] = [];
if (values['without-content-hash']) defines.push('-DWITHOUT_CONTENT_HASH');
if (values['without-order-rule']) defines.push('-DWITHOUT_ORDER_RULE');
if (values.deep) defines.push('-DMAXCRASH=2', '-DMAXFORGET=2', '-DMAXSTALL=1');
const variant = defines.length === 0 ? 'the protocol as built' : defines.join(' ');

const work = mkdtempSync(join(tmpdir(), 'conductor-model-'));
try {
  copyFileSync(MODEL, join(work, 'delivery.pml'));
  execFileSync('spin', ['-a', ...defines, 'delivery.pml'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  // SAFETY: assertions and invalid end states (deadlocks); COLLAPSE: lossless state compression.
  execFileSync('gcc', ['-O2', '-DSAFETY', '-DNOFAIR', '-DCOLLAPSE', '-DMEMLIM=4096', '-o', 'pan', 'pan.c'], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const started = performance.now();
  const pan = spawnSync('./pan', ['-m100000'], { cwd: work, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const out = `${pan.stdout}${pan.stderr}`;
  const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? Number.NaN);
  const states = number(/(\d+) states, stored/);
  const transitions = number(/(\d+) transitions/);
  const errors = number(/errors: (\d+)/);
  const depth = number(/depth reached (\d+)/);
  const incomplete = /Search not completed|max search depth too small|out of memory/i.test(out) && errors === 0;
  console.log(
    `model-check (${variant}): ${states} states stored, ${transitions} transitions, depth ${depth}, ${errors} error(s), ${seconds} s`,
  );

  if (Number.isNaN(errors) || Number.isNaN(states)) {
    console.error(`model-check: could not read pan's report:\n${out}`);
    process.exitCode = 1;
  } else if (errors > 0) {
    const assertion = /assertion violated .*|invalid end state.*/.exec(out)?.[0] ?? 'an error';
    console.log(`VIOLATION: ${assertion}`);
    if (existsSync(join(work, 'delivery.pml.trail'))) {
      // The counterexample, replayed: the model's MSG lines name the invariant that failed.
      const replay = spawnSync('spin', ['-t', ...defines, 'delivery.pml'], { cwd: work, encoding: 'utf8' });
      const messages = replay.stdout.split('\n').filter((line) => line.includes('MSG:'));
      const outcome = ['none', 'succeeded', '?', 'failed (conflict)', 'superseded'];
      const last = messages
        .at(-1)
        ?.replace(/^.*MSG: /, '')
        .trim()
        .replace(/\(status (\d)\)/, (_, n: string) => `(status ${outcome[Number(n)]})`);
      console.log(`counterexample: ${last ?? '(no message)'}`);
      const lines = replay.stdout.split('\n').filter((line) => line.trim() !== '');
      console.log(lines.slice(-12).join('\n'));
    }
    process.exitCode = 1;
  } else if (incomplete) {
    console.error(`model-check: the search did not complete, so it proves nothing:\n${out}`);
    process.exitCode = 1;
  } else if (states < MIN_STATES) {
    console.error(`model-check: only ${states} states explored (at least ${MIN_STATES} expected): the model lost its breadth`);
    process.exitCode = 1;
  } else {
    console.log('model-check: no violation of ONE_EFFECT_PER_ID, EXACTLY_ONCE, NEWEST_WINS, STATUS_AGREES; no deadlock');
  }
} finally {
  if (values.keep) console.log(`model-check: build kept in ${work} (replay: cd there; spin -t -p ${defines.join(' ')} delivery.pml)`);
  else rmSync(work, { recursive: true, force: true });
}
