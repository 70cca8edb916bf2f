// A porch-like sink holding secrets, in a module of its own so that a JSON config can name it
// by path (the CLI's print-config loads it that way).
import { readFileSync } from 'node:fs';
import { ConductorError, definePlugin } from '../../../core/index.ts';

/**
 * A porch-like sink holding secrets: a token from the config (env-interpolated) and one read
 * from a token file at start. It logs the way a careless plugin might — its options and the
 * request headers — so that the logger's redaction is what keeps the secrets out.
 */
export default definePlugin<{ token: string; tokenFile: string }>({
  name: 'secret-sink',
  kind: 'submit',
  description: 'test: a sink with a bearer token',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { token: { type: 'string' }, tokenFile: { type: 'string' } },
    required: ['token', 'tokenFile'],
  },
  defaults: { token: '', tokenFile: '' },
  create(context, options) {
    context.log.debug({ options }, 'configured');
    let fileToken = '';
    const attempts = new Map<string, number>();
    return {
      start() {
        fileToken = readFileSync(options.tokenFile, 'utf8').trim();
        context.log.debug({ headers: { authorization: `Bearer ${fileToken}` } }, 'credentials loaded');
      },
      apply(hooks) {
        hooks.submit.tapPromise(context.id, async (intent, ctx) => {
          ctx.log.debug(
            { request: { method: 'POST', headers: { authorization: `Bearer ${fileToken}`, traceparent: ctx.trace.traceparent } } },
            'submitting',
          );
          const attempt = (attempts.get(ctx.intentId) ?? 0) + 1;
          attempts.set(ctx.intentId, attempt);
          if (intent.target.startsWith('retry') && attempt === 1) {
            throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'HTTP 503 Service Unavailable', {
              plugin: context.id,
              details: { status: 503 },
            });
          }
          return { sink: context.id, ref: `revision-${ctx.intentId.slice(0, 12)}` };
        });
      },
      status: () => ({ ready: true, details: { token: options.token, server: 'https://porch.invalid' } }),
    };
  },
});
