// The audit trail: one pino JSON line with `audit: true` for every terminal outcome and every
// security event, in a file of its own, written synchronously so a killed process loses none
// of the lines it wrote, and flushed on stop.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pino from 'pino';
import { definePlugin, type Outcome } from '../../core/index.ts';

interface Options {
  /** The audit log file; `<dataDir>/audit/audit.log` by default. */
  path?: string;
}

export default definePlugin<Options>({
  name: 'audit-log',
  kind: 'audit',
  description: 'Writes every terminal outcome and security event as a JSON line with audit: true.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { path: { type: 'string', minLength: 1 } },
  },
  defaults: {},
  create(context, options) {
    const path = resolve(context.dataDir, options.path ?? 'audit/audit.log');
    let destination: pino.DestinationStream & { flushSync(): void; end(): void } | undefined;
    let logger: pino.Logger | undefined;

    const record = (event: string, fields: Record<string, unknown>) => logger?.info({ audit: true, event, ...fields });

    return {
      start() {
        mkdirSync(dirname(path), { recursive: true });
        destination = pino.destination({ dest: path, sync: true, mkdir: true }) as typeof destination;
        logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' }, destination);
      },
      stop() {
        destination?.flushSync();
        destination?.end();
        logger = undefined;
        destination = undefined;
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
            ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }),
            ...(outcome.traceId === undefined ? {} : { traceId: outcome.traceId }),
          });
        });
        context.host.events.security.tap(context.id, (event) => {
          record('security', { type: event.type, intentId: event.intentId, file: event.file, stage: event.stage, message: event.message });
        });
      },
    };
  },
});
