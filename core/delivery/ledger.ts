// The ledger (docs/architecture.md §Ledger): what Conductor knows about every intent, kept crash-safe in SQLite
// (node:sqlite, WAL). Each row carries a checksum of its fields; a row that fails it is moved
// to `quarantine` and reported, never a reason to stop: the intent is then simply unknown, and
// the idempotent sink turns its next delivery into a no-op. A database with damaged pages is
// set aside at open and a new, empty one started: the sinks recognise earlier effects by intent
// id and content hash, so the ledger can be rebuilt from nothing. A database another process
// holds (SQLITE_BUSY / SQLITE_LOCKED) is never taken for a damaged one.
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { hash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConductorError } from '../errors.ts';
import type { Receipt } from '../intent/types.ts';
import { crashPoint } from './crash-points.ts';

export type LedgerStatus = 'received' | 'submitting' | 'succeeded' | 'failed' | 'duplicate' | 'superseded';

export interface LedgerRecord {
  intentId: string;
  contentHash: string;
  file: string;
  target: string | null;
  status: LedgerStatus;
  stage: string;
  attempts: number;
  receipt: Receipt | null;
  code: string | null;
  message: string | null;
  createdAt: number;
  updatedAt: number;
  /** True once the source let go of the original (the file left handoff/). */
  settled: boolean;
}

export interface LedgerOptions {
  /** 'normal' survives a killed process (WAL); 'full' also survives power loss, at a cost. */
  sync?: 'normal' | 'full';
  onCorruption?: (report: { intentId: string; reason: string }) => void;
  /**
   * For readers (`conductor status`): opened read-only, so a reader can never quarantine a row,
   * repair or set aside a live database. Rows that fail their checksum are reported and skipped.
   */
  readOnly?: boolean;
  /** How long to wait for another connection's write lock before reporting CND_ERR_LOCKED. */
  busyTimeoutMs?: number;
}

/** SQLite primary result codes that mean "someone else holds the database", not damage. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

const COLUMNS =
  'intent_id, content_hash, file, target, status, stage, attempts, receipt, code, message, created_at, updated_at, settled, checksum';

interface Row {
  intent_id: string;
  content_hash: string;
  file: string;
  target: string | null;
  status: string;
  stage: string;
  attempts: number;
  receipt: string | null;
  code: string | null;
  message: string | null;
  created_at: number;
  updated_at: number;
  settled: number;
  checksum: string;
}

export class Ledger {
  readonly path: string;
  #db: DatabaseSync;
  readonly #onCorruption: LedgerOptions['onCorruption'];
  readonly #readOnly: boolean;
  readonly #upsert: ReturnType<DatabaseSync['prepare']>;
  readonly #get: ReturnType<DatabaseSync['prepare']>;
  readonly #settle: ReturnType<DatabaseSync['prepare']>;
  /** Waiters on the open transaction, which commits at the next turn of the event loop. */
  #batch: ((failure?: Error) => void)[] | undefined;

  constructor(path: string, options: LedgerOptions = {}) {
    this.path = path;
    this.#onCorruption = options.onCorruption;
    this.#readOnly = options.readOnly === true;
    const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    if (this.#readOnly) this.#db = openReadOnly(path, busyTimeoutMs);
    else {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.#db = this.#open(path, options.sync ?? 'normal', busyTimeoutMs);
    }
    this.#upsert = this.#db.prepare(
      `INSERT INTO intents (${COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
       ON CONFLICT(intent_id) DO UPDATE SET content_hash=excluded.content_hash, file=excluded.file, target=excluded.target,
         status=excluded.status, stage=excluded.stage, attempts=excluded.attempts, receipt=excluded.receipt, code=excluded.code,
         message=excluded.message, updated_at=excluded.updated_at, settled=excluded.settled, checksum=excluded.checksum`,
    );
    this.#get = this.#db.prepare(`SELECT ${COLUMNS} FROM intents WHERE intent_id = ?`);
    // Only when the row still holds what the caller wrote (its checksum): the new checksum is
    // computed from the caller's copy, so a row that changed meanwhile must not get it.
    this.#settle = this.#db.prepare('UPDATE intents SET settled = 1, updated_at = ?, checksum = ? WHERE intent_id = ? AND checksum = ?');
  }

  #open(path: string, sync: 'normal' | 'full', busyTimeoutMs: number): DatabaseSync {
    let db: DatabaseSync | undefined;
    let damage: string | undefined;
    try {
      db = new DatabaseSync(path);
      initialise(db, sync, busyTimeoutMs);
      damage = path === ':memory:' ? undefined : integrityProblem(db);
      if (damage === undefined) return db;
    } catch (error) {
      // Damage may fail the open, the initialising or the check itself ("malformed"): whichever
      // it was, the connection is closed once, here.
      if (db?.isOpen) db.close();
      db = undefined;
      if (isBusy(error)) throw lockedError(path, error);
      // Only a database SQLite itself calls damaged (or not a database) is set aside; any other
      // failure (permissions, a full disk) is reported as it is.
      if (!existsSync(path) || !isDamage(error)) {
        throw new ConductorError('CND_ERR_LEDGER', `cannot open the ledger ${path}: ${(error as Error).message}`, { cause: error });
      }
      damage = `ledger database unreadable (${(error as Error).message})`;
    }
    db?.close();
    // The damaged file is kept for inspection and a new one started: the sinks are the truth.
    const aside = `${path}.corrupt-${Date.now()}`;
    renameSync(path, aside);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(`${path}${suffix}`)) renameSync(`${path}${suffix}`, `${aside}${suffix}`);
    }
    this.#onCorruption?.({ intentId: '*', reason: `${damage}; moved to ${aside}, a new ledger was started` });
    return initialise(new DatabaseSync(path), sync, busyTimeoutMs);
  }

  get(intentId: string): LedgerRecord | undefined {
    const row = this.#get.get(intentId) as Row | undefined;
    return row === undefined ? undefined : this.#verified(row);
  }

  /**
   * Writes a record. Writes made in the same turn of the event loop share one transaction
   * (group commit), committed at the next turn; `flush()` resolves once it is.
   */
  put(record: LedgerRecord): void {
    const values = toValues(record);
    this.#begin();
    this.#upsert.run(...values, checksumOf(values));
  }

  /**
   * Marks a record settled (its source let go of the file), in the open group commit like `put`.
   * Only the two columns change, none indexed, so SQLite rewrites the row alone (an upsert of
   * every column also rewrites index entries) — and only while the row still holds `record`
   * (its checksum), since the new checksum is made from `record`'s values. A row that changed
   * or vanished meanwhile, or a `record` changed since it was written, is written whole instead.
   */
  markSettled(record: LedgerRecord, at: number = Date.now()): void {
    const before = toValues(record);
    const after = [...before];
    after[UPDATED_AT] = at;
    after[SETTLED] = 1;
    this.#begin();
    const checksum = checksumOf(after);
    if (Number(this.#settle.run(at, checksum, record.intentId, checksumOf(before)).changes) === 1) return;
    this.#upsert.run(...after, checksum);
  }

  /** Opens the group commit of this turn of the event loop, unless one is open. */
  #begin(): void {
    if (this.#batch !== undefined) return;
    this.#db.exec('BEGIN');
    this.#batch = [];
    setImmediate(() => this.commit());
  }

  /** Resolves once every write made so far is committed. */
  flush(): Promise<void> {
    const batch = this.#batch;
    if (batch === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => batch.push((failure) => (failure === undefined ? resolve() : reject(failure))));
  }

  /**
   * Commits the open transaction now. A failed commit is rolled back and rejects the writes'
   * waiters with CND_ERR_LEDGER (their intents are retried), never thrown from the timer.
   */
  commit(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    let failure: ConductorError | undefined;
    crashPoint('ledger.before-commit');
    try {
      if (this.#db.isOpen) this.#db.exec('COMMIT');
    } catch (error) {
      failure = isBusy(error)
        ? lockedError(this.path, error)
        : new ConductorError('CND_ERR_LEDGER', `the ledger could not commit: ${(error as Error).message}`, { cause: error });
      try {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // Nothing more to undo.
      }
    }
    for (const waiter of batch) waiter(failure);
  }

  /** Records matching a file name, an intent id or its prefix; newest first (a scan: for people, not the hot path). */
  find(query: string): LedgerRecord[] {
    const rows = this.#db
      .prepare(`SELECT ${COLUMNS} FROM intents WHERE file = ? OR intent_id LIKE ? ORDER BY updated_at DESC LIMIT 100`)
      .all(query, `${query.replace(/[%_]/g, '')}%`) as unknown as Row[];
    return rows.map((row) => this.#verified(row)).filter((r): r is LedgerRecord => r !== undefined);
  }

  /**
   * Removes records of intents that settled (terminal and handed back to their source) before
   * `before` (ms since the epoch); returns how many. A pruned intent delivered again is no
   * longer known here, and the idempotent sink recognises it instead.
   */
  prune(before: number): number {
    this.commit();
    const result = this.#db
      .prepare(`DELETE FROM intents WHERE settled = 1 AND status IN ('succeeded', 'failed', 'duplicate', 'superseded') AND updated_at < ?`)
      .run(before);
    return Number(result.changes);
  }

  /** A consistent copy of the ledger at `path`, taken while writers go on (VACUUM INTO). */
  snapshot(path: string): void {
    this.commit();
    this.#db.prepare('VACUUM INTO ?').run(path);
  }

  counts(): Record<string, number> {
    const rows = this.#db.prepare('SELECT status, COUNT(*) AS n FROM intents GROUP BY status').all() as unknown as {
      status: string;
      n: number;
    }[];
    const counts: Record<string, number> = {};
    for (const row of rows) counts[row.status] = row.n;
    counts['quarantined'] = (this.#db.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number }).n;
    return counts;
  }

  close(): void {
    this.commit();
    if (this.#db.isOpen) this.#db.close();
  }

  /** Test and repair hook: run raw SQL against the ledger (used by the chaos and corruption tests). */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  #verified(row: Row): LedgerRecord | undefined {
    const record = fromRow(row);
    const values = record === undefined ? undefined : toValues(record);
    if (record !== undefined && values !== undefined && checksumOf(values) === row.checksum) return record;
    const reason = record === undefined ? 'unreadable fields' : 'checksum mismatch';
    if (this.#readOnly) {
      // A reader reports the row and skips it; the writer quarantines it when it meets it.
      this.#onCorruption?.({ intentId: row.intent_id, reason });
      return undefined;
    }
    this.#db
      .prepare('INSERT INTO quarantine (intent_id, row_json, reason, at) VALUES (?,?,?,?)')
      .run(row.intent_id, JSON.stringify(row), reason, Date.now());
    this.#db.prepare('DELETE FROM intents WHERE intent_id = ?').run(row.intent_id);
    this.#onCorruption?.({ intentId: row.intent_id, reason });
    return undefined;
  }
}

function initialise(db: DatabaseSync, sync: 'normal' | 'full', busyTimeoutMs: number): DatabaseSync {
  // The busy timeout first: the journal mode switch itself may have to wait for another connection.
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))};`);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'};`);
  // Earlier versions kept an index on file. No query can use it (`find` matches an id prefix with
  // LIKE under OR, so it scans the table), while every write paid for it: it is dropped.
  db.exec(`CREATE TABLE IF NOT EXISTS intents (
      intent_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, file TEXT NOT NULL, target TEXT,
      status TEXT NOT NULL, stage TEXT NOT NULL, attempts INTEGER NOT NULL, receipt TEXT, code TEXT, message TEXT,
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, settled INTEGER NOT NULL, checksum TEXT NOT NULL);
    DROP INDEX IF EXISTS intents_file;
    CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY, intent_id TEXT, row_json TEXT, reason TEXT, at INTEGER);`);
  return db;
}

/** Opens an existing ledger for reading only; it is never created, changed or set aside here. */
function openReadOnly(path: string, busyTimeoutMs: number): DatabaseSync {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))};`);
    // A ledger written by an older version may lack the quarantine table; counts() needs it.
    db.prepare('SELECT COUNT(*) FROM intents').get();
    return db;
  } catch (error) {
    if (isBusy(error)) throw lockedError(path, error);
    throw new ConductorError('CND_ERR_LEDGER', `cannot read the ledger ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** What `PRAGMA quick_check` finds wrong (undefined when the database is whole). */
function integrityProblem(db: DatabaseSync): string | undefined {
  const rows = db.prepare('PRAGMA quick_check(5)').all() as { quick_check: string }[];
  const findings = rows.map((r) => r.quick_check);
  if (findings.length === 1 && findings[0] === 'ok') return undefined;
  return `ledger database damaged (quick_check: ${findings.join('; ').slice(0, 300)})`;
}

/** The primary SQLite result code of a node:sqlite error (extended codes carry it in the low byte). */
function sqliteCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === SQLITE_BUSY || code === SQLITE_LOCKED;
}

function isDamage(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === SQLITE_CORRUPT || code === SQLITE_NOTADB;
}

function lockedError(path: string, cause: unknown): ConductorError {
  return new ConductorError(
    'CND_ERR_LOCKED',
    `the ledger ${path} is held by another process (${(cause as Error).message}); it was left as it is`,
    { cause },
  );
}

function toValues(r: LedgerRecord): SQLInputValue[] {
  return [
    r.intentId,
    r.contentHash,
    r.file,
    r.target,
    r.status,
    r.stage,
    r.attempts,
    r.receipt === null ? null : JSON.stringify(r.receipt),
    r.code,
    r.message,
    r.createdAt,
    r.updatedAt,
    r.settled ? 1 : 0,
  ];
}

/** Where `updated_at` and `settled` are in `toValues`. */
const UPDATED_AT = 11;
const SETTLED = 12;

function checksumOf(values: SQLInputValue[]): string {
  // The one-shot form: the same digest as a Hash object's, without making one per row.
  return hash('sha256', JSON.stringify(values), 'hex').slice(0, 32);
}

const STATUSES = new Set<string>(['received', 'submitting', 'succeeded', 'failed', 'duplicate', 'superseded']);

function fromRow(row: Row): LedgerRecord | undefined {
  if (!STATUSES.has(row.status)) return undefined;
  let receipt: Receipt | null = null;
  try {
    receipt = row.receipt === null ? null : (JSON.parse(row.receipt) as Receipt);
  } catch {
    return undefined;
  }
  return {
    intentId: row.intent_id,
    contentHash: row.content_hash,
    file: row.file,
    target: row.target,
    status: row.status as LedgerStatus,
    stage: row.stage,
    attempts: Number(row.attempts),
    receipt,
    code: row.code,
    message: row.message,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    settled: Number(row.settled) === 1,
  };
}
