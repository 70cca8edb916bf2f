// Lets several replicas share one handoff directory (docs/architecture.md §Scale-out): before a replica
// reads a file it claims it in Redis with an expiring lease (SET NX PX), renews the lease while
// the intent is in flight, and gives it back when the file settles. A replica that dies simply
// stops renewing; once its lease expires, another replica's rescan claims the file. Leases
// only spread the work: correctness still rests on the idempotent sinks.
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { ConductorError, definePlugin, type Claim, type PreflightCheck } from '../../core/index.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

// Delete / extend only a claim this replica still holds (compare-and-act, atomically).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export default definePlugin({
  name: 'redis-coordination',
  kind: 'service',
  description: 'Per-file claims with expiring, renewed leases in Redis, so replicas can share one handoff directory.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const replicaId = options.replicaId ?? `${hostname()}-${process.pid}`;
    const held = new Map<string, string>();
    let redis: Redis | undefined;
    let renewTimer: NodeJS.Timeout | undefined;
    let lastError: string | undefined;

    const keyOf = (name: string) => `${options.keyPrefix}:claim:${name}`;
    const connected = () => {
      if (redis === undefined || redis.status !== 'ready') {
        throw new ConductorError('CND_ERR_CLAIM', `redis is not connected${lastError ? `: ${lastError}` : ''}`, { plugin: context.id });
      }
      return redis;
    };

    const renewAll = async () => {
      if (redis?.status !== 'ready') return;
      for (const [name, key] of held) {
        const renewed = await redis.eval(RENEW, 1, key, replicaId, String(options.leaseMs)).catch(() => 0);
        if (renewed !== 1)
          context.log.warn({ file: name }, 'lost the claim on a file in flight; the sink keeps it from being applied twice');
      }
    };

    return {
      async start() {
        redis = new Redis(options.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectionName: `conductor-${replicaId}`,
        });
        redis.on('error', (error: Error) => (lastError = error.message));
        await redis.connect();
        renewTimer = setInterval(() => void renewAll(), Math.max(50, Math.floor(options.leaseMs / 3)));
        renewTimer.unref();
      },
      async stop() {
        if (renewTimer) clearInterval(renewTimer);
        const client = redis;
        redis = undefined;
        if (client === undefined) return;
        for (const key of held.values()) await client.eval(RELEASE, 1, key, replicaId).catch(() => undefined);
        held.clear();
        await client.quit().catch(() => client.disconnect());
      },
      status: () =>
        redis?.status === 'ready'
          ? { ready: true, details: { replicaId, claims: held.size } }
          : { ready: false, message: `redis ${redis?.status ?? 'not started'}${lastError ? `: ${lastError}` : ''}` },
      preflight: () => probeRedis(options.url),
      apply(hooks) {
        // A command that fails midway (the connection drops) is a claim error too, not an internal one.
        const claimError = (error: unknown, what: string) =>
          error instanceof ConductorError
            ? error
            : new ConductorError('CND_ERR_CLAIM', `could not ${what}: ${(error as Error).message}`, { plugin: context.id, cause: error });
        hooks.claim.tapPromise(context.id, async (name): Promise<Claim | null> => {
          const key = keyOf(name);
          const granted = await connected()
            .set(key, replicaId, 'PX', options.leaseMs, 'NX')
            .catch((error: unknown) => Promise.reject(claimError(error, `claim ${name}`)));
          if (granted !== 'OK') return null;
          held.set(name, key);
          return {
            release: async () => {
              held.delete(name);
              await connected()
                .eval(RELEASE, 1, key, replicaId)
                .catch((error: unknown) => Promise.reject(claimError(error, `release the claim on ${name}`)));
            },
          };
        });
      },
    };
  },
});

/**
 * One connection attempt, no retries; its error events are caught here (ioredis prints an
 * unhandled one with a stack to stderr), and the failure names host, port and reason.
 */
async function probeRedis(url: string): Promise<PreflightCheck[]> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let connectError: (Error & { code?: string }) | undefined;
  client.on('error', (error: Error) => (connectError ??= error));
  const where = redisAddress(url);
  try {
    await client.connect();
    const pong = await client.ping();
    return [{ name: 'redis reachable', ok: pong === 'PONG', message: `${where} answered ${pong}` }];
  } catch (error) {
    return [{ name: 'redis reachable', ok: false, message: `${where}: ${connectionReason(connectError ?? (error as Error))}` }];
  } finally {
    client.disconnect();
  }
}

/** `host:port` of a Redis URL (never its password), for messages. */
function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `redis at ${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
  } catch {
    return 'redis (unparsable URL)';
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is redis-server running and listening there?)',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed for now (DNS)',
  ETIMEDOUT: 'timed out connecting',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset by the server',
};

/** One line on why a connection failed: the system code in words, or the server's answer. */
function connectionReason(error: Error & { code?: string }): string {
  const reason = error.code === undefined ? undefined : REASONS[error.code];
  return reason === undefined ? error.message : `${reason} [${error.code}]`;
}
