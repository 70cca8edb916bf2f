// `promtool check metrics` (Debian package `prometheus`) on a scrape: exit 0 and no output
// when every metric passes its lint rules.
import { spawn } from 'node:child_process';

export function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error) => reject(new Error(`promtool could not run (install the Debian package "prometheus"): ${error.message}`)));
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
