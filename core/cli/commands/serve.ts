// `conductor run` (watch until SIGTERM/SIGINT) and `conductor once` (drain the backlog, exit).
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadPipeline, lockDataDir } from '../setup.ts';
import { createConductor } from '../../app.ts';
import { drainInPasses } from '../once-passes.ts';
import { Supervisor } from '../../reload/supervisor.ts';
import { startProgress } from '../progress.ts';
import { mergeSummaries, summaryLine, type OutcomeSummary } from '../../delivery/outcome-log.ts';

export const RUN_HELP = `conductor run [--config FILE] [--data-dir DIR] [--log-level LEVEL]

Watches <data-dir>/handoff and processes every intent until SIGTERM or SIGINT. SIGHUP, or a
change to the config file, reloads the config: the new pipeline replaces the old one after the
old one drained; a config that does not validate is refused and the old pipeline keeps running.
A first signal
stops intake and lets in-flight intents finish (up to shutdownTimeoutMs), then exits 0; a
second signal exits at once (130 / 143), leaving unfinished intents in handoff/ for next time.`;

export const ONCE_HELP = `conductor once [--config FILE] [--data-dir DIR] [--log-level LEVEL]

Processes every intent present in <data-dir>/handoff, then exits:
  0  every intent succeeded or was a duplicate (or there was nothing to do)
  1  at least one intent failed permanently (see <data-dir>/failed/)
  3  some intents could not be delivered or read now (sink unreachable, file unreadable);
     they stay in handoff/
Intents the sink deferred are offered again in further passes while a pass delivers anything
(at most 5 passes), so a busy sink does not end the run early and one that is down ends it.
Progress is shown on a terminal; otherwise only JSON logs are written.`;

export async function runCommand(argv: string[]): Promise<number> {
  const { common } = parseCommand(argv, {});
  if (common.help) {
    console.log(RUN_HELP);
    return EXIT.ok;
  }
  const resolved = await loadPipeline(common);
  const { log, lock } = lockDataDir(resolved);
  let supervisor: Supervisor;
  try {
    supervisor = await Supervisor.create(resolved, { log, load: () => loadPipeline(common) });
    await supervisor.start();
  } catch (error) {
    lock.release();
    throw error;
  }
  let signals = 0;
  const onHangup = () => void supervisor.reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting now; unfinished intents stay in handoff/');
        lock.release();
        process.exit(signal === 'SIGINT' ? EXIT.interruptedInt : EXIT.interruptedTerm);
      }
      log.info({ signal }, 'stopping: intake closed, finishing in-flight intents');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.off('SIGHUP', onHangup);
  await supervisor.stop();
  lock.release();
  return EXIT.ok;
}

export async function onceCommand(argv: string[]): Promise<number> {
  const { common } = parseCommand(argv, {});
  if (common.help) {
    console.log(ONCE_HELP);
    return EXIT.ok;
  }
  const resolved = await loadPipeline(common);
  const { log, lock } = lockDataDir(resolved);
  try {
    // Intents deferred in one pass are offered again while passes make progress (once-passes.ts).
    const summaries: OutcomeSummary[] = [];
    const totals = await drainInPasses(
      () => createConductor(resolved, { log, mode: 'once' }),
      async (conductor) => {
        await conductor.start();
        const stopProgress = startProgress(conductor.pipeline);
        try {
          await conductor.idle();
          await conductor.stop();
        } finally {
          // After the drain, so the last frame shows the final counts.
          stopProgress();
        }
        summaries.push(conductor.outcomes.summary());
        return conductor.pipeline.stats();
      },
      { log, pauseMs: resolved.config.requeueDelayMs },
    );
    const summary = mergeSummaries(summaries);
    const line = summaryLine(summary);
    if (summary.failed > 0 || summary.deferred > 0) log.warn({ ...summary }, `once: ${line}`);
    else log.info({ ...summary }, `once: ${line}`);
    if (totals.deferred > 0) return EXIT.undone;
    if (totals.failed > 0) return EXIT.failed;
    return EXIT.ok;
  } finally {
    lock.release();
  }
}
