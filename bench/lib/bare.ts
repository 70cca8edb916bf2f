// The parts of the bare loops: what any correct intent processor has to do, written the
// shortest way, with no framework. What counts as "necessary" is documented in RESULTS.md:
//   1. decode the bytes as strict UTF-8 and JSON.parse them;
//   2. validate with the same JSON schema (ajv, same options as schema-validate);
//   3. derive an intent id (sha256 over the name and the bytes) for idempotence;
//   4. a durable record before the sink is called (SQLite WAL, synchronous=NORMAL: the same
//      durability as the ledger), so a crash between the sink call and the ack is recognised;
//   5. the sink action (per scenario);
//   6. a durable record after it (succeeded);
//   7. one audit line appended synchronously.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

const SCHEMA_PATH = new URL('../../plugins/schema-validate/intent.schema.json', import.meta.url);

export function intentValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  ajvFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Steps 1–3: bytes → a validated intent and its id; throws on anything invalid. */
export function parseAndValidate(
  validate: ValidateFunction,
  file: string,
  bytes: Uint8Array,
): { intent: Record<string, unknown>; id: string } {
  const intent = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
  if (!validate(intent)) throw new Error(`${file}: invalid intent: ${JSON.stringify(validate.errors)}`);
  const id = createHash('sha256').update(file).update('\0').update(bytes).digest('hex').slice(0, 40);
  return { intent, id };
}

/**
 * Steps 4 and 6: one row per intent, written before and after the sink call. Each write is its
 * own transaction (as the ledger does today), or — with `group` — the writes of one turn of the
 * event loop share a transaction committed at the next turn, and `flush()` waits for it (group
 * commit: the same durability per intent, far fewer commits).
 */
export class BareLedger {
  readonly #db: DatabaseSync;
  readonly #put: ReturnType<DatabaseSync['prepare']>;
  readonly #group: boolean;
  #waiters: (() => void)[] | undefined;

  constructor(path: string, options: { group?: boolean } = {}) {
    this.#group = options.group ?? false;
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS intents (id TEXT PRIMARY KEY, file TEXT NOT NULL, status TEXT NOT NULL, receipt TEXT, updated_at INTEGER NOT NULL)',
    );
    this.#put = this.#db.prepare(
      'INSERT INTO intents (id, file, status, receipt, updated_at) VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET status=excluded.status, receipt=excluded.receipt, updated_at=excluded.updated_at',
    );
  }

  put(id: string, file: string, status: string, receipt: string | null = null): void {
    if (this.#group && this.#waiters === undefined) {
      this.#db.exec('BEGIN');
      this.#waiters = [];
      setImmediate(() => this.#commit());
    }
    this.#put.run(id, file, status, receipt, Date.now());
  }

  /** Resolves once every write so far is committed (at once without `group`). */
  flush(): Promise<void> {
    const waiters = this.#waiters;
    return waiters === undefined ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
  }

  #commit(): void {
    const waiters = this.#waiters;
    if (waiters === undefined) return;
    this.#waiters = undefined;
    this.#db.exec('COMMIT');
    for (const resolve of waiters) resolve();
  }

  close(): void {
    this.#commit();
    this.#db.close();
  }
}

/** Step 7: an append-only audit file, one synchronous write per line. */
export class BareAudit {
  readonly #fd: number;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  write(record: Record<string, unknown>): void {
    writeSync(this.#fd, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Runs `work` over `items` with `concurrency` workers pulling from one queue. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void> | void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
