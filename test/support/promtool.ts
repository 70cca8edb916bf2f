// Runs promtool (Debian package "prometheus"; `PROMTOOL` names another binary) for the tests
// that check what Prometheus will read: scrapes (`check metrics`), alert rules and their unit
// tests, dashboard queries. A missing binary is an error that says what to install, never a pass.
import { spawn } from 'node:child_process';

export interface ToolResult {
  ok: boolean;
  /** The exit code; null when a signal ended it. */
  code: number | null;
  /** stdout and stderr, in the order they arrived. */
  output: string;
}

export function promtoolBinary(): string {
  return process.env['PROMTOOL'] ?? 'promtool';
}

/** `promtool <args>` in `cwd`, with `input` on stdin. */
export function promtool(args: string[], options: { cwd?: string; input?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolBinary(), args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error) => {
      reject(new Error(`${promtoolBinary()} could not run (install the Debian package "prometheus"): ${error.message}`, { cause: error }));
    });
    child.once('close', (code) => resolve({ ok: code === 0, code, output }));
    // A promtool that exits before reading its input must not turn into an EPIPE error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** `promtool check metrics` on a scrape: exit 0 and no output when every metric passes its lint rules. */
export function promtoolCheckMetrics(text: string): Promise<ToolResult> {
  return promtool(['check', 'metrics'], { input: text });
}
