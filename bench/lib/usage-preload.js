// Loaded into the real CLI with `node --import` (the CLI itself is unchanged): at exit, writes
// the process's peak RSS and CPU time to $BENCH_USAGE_FILE. JavaScript, not TypeScript: a .ts
// preload would make Node load its type stripper before the CLI turns the compile cache on,
// adding its start time and memory to every measurement.
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_USAGE_FILE;
if (out !== undefined) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKiB: usage.maxRSS, userUs: usage.userCPUTime, systemUs: usage.systemCPUTime }));
  });
}
