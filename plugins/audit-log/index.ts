// The audit trail: one JSON line in pino's format with `audit: true` for every terminal outcome
// and every security event, in a file of its own, written synchronously so a killed process
// loses none of the lines it wrote. The lines form a hash chain (chain.ts) that
// `conductor audit verify` checks; the chain continues across restarts from the last line.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pino from 'pino';
import { definePlugin, redactConfig, type Outcome } from '../../core/index.ts';
import { CheckpointWriter, linkRecord, resumeChain, type ChainHead } from './chain.ts';
import { auditCommand, DEFAULT_AUDIT_PATH } from './verify-command.ts';

interface Options {
  /** The audit log file, relative to the data directory; `audit/audit.log` by default. */
  path?: string;
}

/** pino's number for `info`: the records read like any other pino line. */
const INFO_LEVEL = 30;

type Destination = pino.DestinationStream & { flushSync(): void; end(): void };

export default definePlugin<Options>({
  name: 'audit-log',
  kind: 'audit',
  description: 'Writes every terminal outcome and security event as a hash-chained JSON line with audit: true.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { path: { type: 'string', minLength: 1 } },
  },
  defaults: {},
  commands: { audit: auditCommand },
  create(context, options) {
    const path = resolve(context.dataDir, options.path ?? DEFAULT_AUDIT_PATH);
    let destination: Destination | undefined;
    let head: ChainHead | undefined;
    let checkpoint: CheckpointWriter | undefined;

    // The line is built here rather than by a pino logger because its hash must cover exactly
    // the fields written; pino's synchronous destination still does the writing.
    const record = (event: string, fields: Record<string, unknown>) => {
      if (destination === undefined || head === undefined || checkpoint === undefined) return;
      const linked = linkRecord(head, { level: INFO_LEVEL, time: new Date().toISOString(), audit: true, event, ...redactConfig(fields) });
      destination.write(`${linked.line}\n`);
      head = linked.head;
      checkpoint.write(head);
    };

    return {
      start() {
        mkdirSync(dirname(path), { recursive: true });
        const resumed = resumeChain(path);
        if (resumed.warning !== undefined) context.log.warn({ seq: resumed.head.seq }, resumed.warning);
        head = resumed.head;
        destination = pino.destination({ dest: path, sync: true, mkdir: true }) as Destination;
        // The cut line stays a line of its own (verify names it), not the start of the next record.
        if (resumed.cut) destination.write('\n');
        checkpoint = new CheckpointWriter(path);
        checkpoint.write(head);
      },
      stop() {
        destination?.flushSync();
        destination?.end();
        destination = undefined;
        checkpoint?.close();
        checkpoint = undefined;
      },
      apply(hooks) {
        hooks.audit.tap(context.id, (outcome: Outcome) => {
          record('outcome', {
            intentId: outcome.intentId,
            file: outcome.file,
            outcome: outcome.status,
            stage: outcome.stage,
            message: outcome.message,
            attempts: outcome.attempts,
            ...(outcome.code === undefined ? {} : { code: outcome.code }),
            ...(outcome.plugin === undefined ? {} : { plugin: outcome.plugin }),
            ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }),
            ...(outcome.traceId === undefined ? {} : { traceId: outcome.traceId }),
          });
        });
        context.host.events.security.tap(context.id, (event) => {
          record('security', { type: event.type, intentId: event.intentId, file: event.file, stage: event.stage, message: event.message });
        });
        context.host.events.retention.tap(context.id, (event) => {
          record('retention', { area: event.area, removed: event.removed, olderThan: event.olderThan, plugin: event.plugin });
        });
      },
    };
  },
});
