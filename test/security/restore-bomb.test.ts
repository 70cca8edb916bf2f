// Issue 19, defect 4: a restore archive is bounded by its manifest. A small archive that
// expands to gigabytes (gzip members of zeros) is refused at the member that exceeds what the
// manifest lists, before a byte of it is staged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { restoreBackup } from '../../core/backup/restore.ts';
import { fileHeader, padding, TAR_END } from '../../core/backup/tar.ts';
import { tempDir } from '../support/data-dir.ts';

const MIB = 1024 * 1024;
const BOMB_SIZE = 2048 * MIB;
/** Far more than the honest members below, far less than the bomb: the old code crossed it. */
const WATCHDOG = 64 * MIB;

function member(path: string, body: Buffer): Buffer {
  return Buffer.concat([fileHeader(path, body.length, 0o644, Date.now()), body, padding(body.length)]);
}

/** Bytes of every file under the restore's staging directories, right now. */
function stagedBytes(dataDir: string): number {
  let total = 0;
  for (const entry of readdirSync(dataDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name), { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

test('an archive of 2 MB that expands to 2 GB is refused after staging no more than its manifest lists', async (t) => {
  const dataDir = tempDir('conductor-bomb-');
  const createdAt = new Date().toISOString();
  const marker = Buffer.from(JSON.stringify({ format: 'conductor-backup', formatVersion: 2, createdAt, conductorVersion: '0.1.0' }));
  const honest = Buffer.from('{"intent_type":"scaling"}\n');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const files = [{ path: 'data/handoff/a.json', size: honest.length, sha256: sha(honest), mode: 0o644, mtimeMs: Date.now() }];
  const manifest = Buffer.from(
    JSON.stringify({
      format: 'conductor-backup',
      formatVersion: 2,
      createdAt,
      conductorVersion: '0.1.0',
      ledger: null,
      git: null,
      files,
      skipped: [],
      vanished: 0,
    }),
  );
  const leading = gzipSync(
    Buffer.concat([
      member('conductor-backup.json', marker),
      member('manifest.json', manifest),
      member('manifest.json.sha256', Buffer.from(`${sha(manifest)}  manifest.json\n`)),
    ]),
  );
  // The member the manifest lists with 26 bytes claims 2 GiB of zeros: 2048 gzip members of 1 MiB each.
  const bombHeader = gzipSync(fileHeader('data/handoff/a.json', BOMB_SIZE, 0o644, Date.now()));
  const zeros = gzipSync(Buffer.alloc(MIB));
  const end = gzipSync(TAR_END);
  const archiveBytes = leading.length + bombHeader.length + end.length + zeros.length * (BOMB_SIZE / MIB);
  assert.ok(archiveBytes < 3 * MIB, `the archive is small (${archiveBytes} bytes)`);

  let peak = 0;
  let read = 0;
  async function* archive(): AsyncGenerator<Buffer> {
    yield leading;
    yield bombHeader;
    for (let i = 0; i < BOMB_SIZE / MIB; i += 1) {
      peak = Math.max(peak, stagedBytes(dataDir));
      // Fail fast on a reader that stages without bound, instead of filling the disk.
      if (peak > WATCHDOG) throw new Error(`staged ${peak} bytes, more than the manifest allows`);
      read += zeros.length;
      yield zeros;
    }
    yield end;
  }
  try {
    await assert.rejects(
      restoreBackup({ input: Readable.from(archive()), source: 'bomb.tar.gz', dataDir, stateDir: join(dataDir, 'state'), force: false }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CND_ERR_BACKUP_DAMAGED', error.message);
        assert.match(error.message, /member data\/handoff\/a\.json has 2147483648 bytes, the manifest says 26/);
        return true;
      },
    );
    const allowed = marker.length + manifest.length + 1024;
    assert.ok(peak <= allowed, `staged at most ${peak} bytes (the manifest allows ${allowed})`);
    t.diagnostic(`bomb: refused after reading ${read} bytes of zeros members; peak staged ${peak} bytes`);
    assert.deepEqual(
      readdirSync(dataDir).filter((n) => n !== 'state'),
      [],
      'nothing is left in the data directory',
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
