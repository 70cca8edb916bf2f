// A small async wrapper around the git command line, with the identity and settings the sink
// needs passed on every call (no reliance on the user's or the machine's git config).
import { execFile, spawn } from 'node:child_process';

export interface GitIdentity {
  name: string;
  email: string;
}

function withIdentity(identity: GitIdentity, args: string[]): string[] {
  return [
    '-c',
    `user.name=${identity.name}`,
    '-c',
    `user.email=${identity.email}`,
    '-c',
    'commit.gpgsign=false',
    '-c',
    'core.hooksPath=/dev/null',
    ...args,
  ];
}

/** The environment every git child of the sink gets: no system config, no prompt, C locale. */
export const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } as const;

/** Runs git with the sink's identity and settings; resolves with its standard output. */
export function git(cwd: string, identity: GitIdentity, args: string[], input?: string): Promise<string> {
  return gitCommand(cwd, withIdentity(identity, args), input);
}

/**
 * Runs git as given (no identity: for commands that write no commit); resolves with its
 * standard output, rejects with its standard error. The error names the command, not the `-c`
 * settings before it.
 */
export function gitCommand(cwd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...GIT_ENV } },
      (error, stdout, stderr) => {
        const command = args.filter((a, i) => a !== '-c' && args[i - 1] !== '-c')[0];
        if (error) reject(new Error(`git ${command} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Runs git and hands its output over record by record (records end with a NUL, as `-z` writes
 * them), never holding more than one record and a chunk: a whole history's log can be far
 * larger than memory allows, or than an output buffer may hold.
 */
export function gitRecords(cwd: string, identity: GitIdentity, args: string[], onRecord: (record: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', withIdentity(identity, args), {
      cwd,
      env: { ...process.env, ...GIT_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let rest = Buffer.alloc(0);
    let failed: Error | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = `${stderr}${chunk}`.slice(-4000)));
    child.stdout.on('data', (chunk: Buffer) => {
      let data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      try {
        for (let end = data.indexOf(0); end !== -1; end = data.indexOf(0)) {
          onRecord(data.toString('utf8', 0, end));
          data = data.subarray(end + 1);
        }
      } catch (error) {
        failed ??= error as Error;
        child.kill();
      }
      // A copy: the unfinished record must not keep the whole chunk alive.
      rest = Buffer.from(data);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (failed !== undefined) reject(failed);
      else if (code !== 0) reject(new Error(`git ${args[0]} failed (${signal ?? code}): ${stderr.trim() || 'no message'}`));
      else {
        if (rest.length > 0) onRecord(rest.toString('utf8'));
        resolve();
      }
    });
  });
}
