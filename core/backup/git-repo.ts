// Turning the repository's carried parts (HEAD, refs, objects) back into a working repository.
// The config is written afresh rather than restored (see format.ts: an archive brings no
// settings git would act on), and the working tree — which a backup cannot copy consistently
// with the refs — is checked out from the restored branch.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** What `git init` would have written, and nothing more. */
const FRESH_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n';

/** Adds what git needs beside the carried parts: a config and the directories it expects. */
export async function completeRepository(gitDir: string): Promise<void> {
  await fs.writeFile(join(gitDir, 'config'), FRESH_CONFIG);
  for (const dir of ['refs/heads', 'refs/tags', 'objects/info', 'objects/pack']) await fs.mkdir(join(gitDir, dir), { recursive: true });
}

/**
 * Checks the restored branch out into the working tree (and writes the index), as the git sink
 * keeps it with its `worktree` option. Returns undefined on success, else why not — the history
 * is restored either way, and the sink works without a working tree.
 */
export async function checkOutWorktree(repo: string): Promise<string | undefined> {
  // Plumbing rather than `reset --hard`: it writes the index and the files, and no reflog.
  const args = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-C', repo, 'read-tree', '--reset', '-u', 'HEAD'];
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } },
      (error, _stdout, stderr) => {
        resolve(error === null ? undefined : `git read-tree failed: ${stderr.trim() || error.message}`);
      },
    );
  });
}
