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
// The checked loop (`checked`) adds, the same shortest way, the work the product itself is
// required to do that the steps above leave out (step 8, the move out of handoff/, belongs to the
// file scenarios):
//   9. every string of the intent NFC-normalised and checked (control characters, blocked
//      patterns), as the shipped sanitizer does;
//  10. the content hash (sha256 of the intent's canonical JSON), to tell a conflicting intent
//      under a known id;
//  11. a ledger lookup by id before the sink (the duplicate check), and a checksum on every row;
//  12. the audit line hash-chained to the one before it;
//  13. the metrics the product documents: 17 observations per intent (per stage and per plugin).
import { createHash, hash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { Counter, Histogram, Registry } from 'prom-client';
import { GENESIS, hashRecord } from '../../plugins/audit-log/chain.ts';
import { combinedPattern, CONTROL, DEFAULT_BLOCKED_PATTERNS } from '../../plugins/sanitize/index.ts';

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
 * commit: the same durability per intent, far fewer commits). With `checked` (step 11) every
 * row carries a checksum of its fields, and `get` reads a row back and verifies it.
 */
export class BareLedger {
  readonly #db: DatabaseSync;
  readonly #put: ReturnType<DatabaseSync['prepare']>;
  readonly #get: ReturnType<DatabaseSync['prepare']>;
  readonly #group: boolean;
  readonly #checked: boolean;
  #waiters: (() => void)[] | undefined;

  constructor(path: string, options: { group?: boolean; checked?: boolean } = {}) {
    this.#group = options.group ?? false;
    this.#checked = options.checked ?? false;
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS intents (id TEXT PRIMARY KEY, file TEXT NOT NULL, status TEXT NOT NULL, receipt TEXT, updated_at INTEGER NOT NULL, checksum TEXT)',
    );
    this.#put = this.#db.prepare(
      'INSERT INTO intents (id, file, status, receipt, updated_at, checksum) VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET status=excluded.status, receipt=excluded.receipt, updated_at=excluded.updated_at, checksum=excluded.checksum',
    );
    this.#get = this.#db.prepare('SELECT id, file, status, receipt, updated_at, checksum FROM intents WHERE id = ?');
  }

  put(id: string, file: string, status: string, receipt: string | null = null): void {
    if (this.#group && this.#waiters === undefined) {
      this.#db.exec('BEGIN');
      this.#waiters = [];
      setImmediate(() => this.#commit());
    }
    const values = [id, file, status, receipt, Date.now()] as const;
    this.#put.run(...values, this.#checked ? checksumOf(values) : null);
  }

  /** The status recorded for `id`, if its row passes its checksum. */
  get(id: string): string | undefined {
    const row = this.#get.get(id) as Record<string, string | number | null> | undefined;
    if (row === undefined) return undefined;
    const values = [row['id'], row['file'], row['status'], row['receipt'], row['updated_at']] as const;
    return checksumOf(values) === row['checksum'] ? String(row['status']) : undefined;
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

function checksumOf(values: readonly unknown[]): string {
  return hash('sha256', JSON.stringify(values), 'hex').slice(0, 32);
}

/** Step 7: an append-only audit file, one synchronous write per line; with `chained`, step 12. */
export class BareAudit {
  readonly #fd: number;
  readonly #chained: boolean;
  #seq = 0;
  #prev = GENESIS;

  constructor(path: string, options: { chained?: boolean } = {}) {
    this.#fd = openSync(path, 'a');
    this.#chained = options.chained ?? false;
  }

  write(record: Record<string, unknown>): void {
    const line: Record<string, unknown> = { time: new Date().toISOString(), ...record };
    if (this.#chained) {
      line['seq'] = ++this.#seq;
      line['prev'] = this.#prev;
      line['hash'] = this.#prev = hashRecord(line);
    }
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

// The sanitizer's own checks: its control characters and its default patterns as one alternation.
const BLOCKED = combinedPattern(DEFAULT_BLOCKED_PATTERNS)!;

/** Step 9: every string NFC-normalised and checked; returns the cleaned copy, throws on a refusal. */
export function sanitized(value: unknown): unknown {
  if (typeof value === 'string') {
    const normalised = value.normalize('NFC');
    if (!normalised.isWellFormed() || CONTROL.test(normalised) || BLOCKED.test(normalised)) throw new Error('refused string');
    return normalised;
  }
  if (Array.isArray(value)) return value.map(sanitized);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = sanitized(item);
    return out;
  }
  return value;
}

const STAGES = ['validate', 'sanitize', 'rate-limit', 'submit', 'audit'] as const;

/**
 * Step 13: the documented per-intent metrics, in a registry of their own — per stage, the time
 * of its one plugin and the call counted, the stage's own time; per intent, its outcome and its
 * time from receipt.
 */
export class BareMetrics {
  readonly #registry = new Registry();
  readonly #tapTime = new Histogram({ name: 'tap_seconds', help: 'h', labelNames: ['stage', 'plugin'], registers: [this.#registry] });
  readonly #tapCalls = new Counter({
    name: 'tap_calls_total',
    help: 'h',
    labelNames: ['stage', 'plugin', 'result'],
    registers: [this.#registry],
  });
  readonly #stageTime = new Histogram({ name: 'stage_seconds', help: 'h', labelNames: ['stage', 'result'], registers: [this.#registry] });
  readonly #processed = new Counter({ name: 'processed_total', help: 'h', labelNames: ['outcome'], registers: [this.#registry] });
  readonly #latency = new Histogram({ name: 'processing_seconds', help: 'h', labelNames: ['outcome'], registers: [this.#registry] });

  /** `marks`: performance.now() at the start of each stage and at the end of the last. */
  record(marks: readonly number[], receivedAt: number): void {
    for (let i = 0; i < STAGES.length; i += 1) {
      const stage = STAGES[i]!;
      const seconds = (marks[i + 1]! - marks[i]!) / 1000;
      this.#tapTime.observe({ stage, plugin: stage }, seconds);
      this.#tapCalls.inc({ stage, plugin: stage, result: 'ok' });
      this.#stageTime.observe({ stage, result: 'ok' }, seconds);
    }
    this.#processed.inc({ outcome: 'succeeded' });
    this.#latency.observe({ outcome: 'succeeded' }, (Date.now() - receivedAt) / 1000);
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
