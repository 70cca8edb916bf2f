// Keeps `conductor run` going across config changes (issue: hot reload). On SIGHUP, or when the
// config file changes (a Kubernetes ConfigMap update swaps a symlink in the file's directory):
// load and validate the new config → build the new pipeline → drain the old one → start the
// new one. A config that fails validation, or a new pipeline that fails to build or start, is
// refused with a clear log line and the running pipeline keeps going (or is restarted as it was).
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createConductor, configHash, type Conductor } from '../app.ts';
import type { ResolvedPipelineConfig } from '../config/validate.ts';
import type { RuntimeInfo } from '../delivery/host.ts';
import { toConductorError } from '../errors.ts';
import type { Logger } from '../log.ts';

export type ReloadResult = 'applied' | 'refused' | 'unchanged';

export interface SupervisorOptions {
  log: Logger;
  /** Loads and validates the config afresh (the same way the process started). */
  load: () => Promise<ResolvedPipelineConfig>;
  /** Debounce for file-change events (editors write in several steps). */
  settleMs?: number;
}

export class Supervisor {
  readonly runtime: RuntimeInfo;
  #current: Conductor;
  readonly #log: Logger;
  readonly #load: () => Promise<ResolvedPipelineConfig>;
  readonly #settleMs: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #fileHash: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;

  private constructor(current: Conductor, runtime: RuntimeInfo, options: SupervisorOptions) {
    this.#current = current;
    this.runtime = runtime;
    this.#log = options.log;
    this.#load = options.load;
    this.#settleMs = options.settleMs ?? 200;
  }

  static async create(resolved: ResolvedPipelineConfig, options: SupervisorOptions): Promise<Supervisor> {
    const runtime: RuntimeInfo = {
      configHash: configHash(resolved.config),
      configSource: resolved.config.source,
      reloads: { applied: 0, refused: 0 },
    };
    const conductor = await createConductor(resolved, { log: options.log, mode: 'run', runtime });
    return new Supervisor(conductor, runtime, options);
  }

  get current(): Conductor {
    return this.#current;
  }

  async start(): Promise<void> {
    await this.#current.start();
    this.#watch(this.runtime.configSource);
  }

  /** Reloads now; calls are serialised, so a burst of triggers reloads one after another. */
  reload(reason: string): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(reason));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#queue;
    await this.#current.stop();
  }

  async #reload(reason: string): Promise<ReloadResult> {
    if (this.#stopped) return 'unchanged';
    const old = this.#current;
    try {
      const resolved = await this.#load();
      const hash = configHash(resolved.config);
      if (hash === this.runtime.configHash) {
        this.#log.info({ reason, configHash: hash }, 'config reload: nothing changed');
        return 'unchanged';
      }
      if (resolved.config.dataDir !== old.config.dataDir || resolved.config.stateDir !== old.config.stateDir) {
        throw new Error('dataDir and stateDir cannot change while running; restart instead');
      }
      // Built first without touching anything, to find a plugin that cannot be created before
      // the old pipeline is drained; the real one is built after the old one stopped, so the
      // two never hold the same ports or ledger at once.
      (await createConductor(resolved, { log: this.#log, mode: 'check' })).ledger.close();
      await old.stop();
      let next: Conductor;
      try {
        next = await createConductor(resolved, { log: this.#log, mode: 'run', runtime: this.runtime });
        await next.start();
      } catch (error) {
        this.#log.error({ err: toConductorError(error) }, 'config reload: the new pipeline failed to start; restarting the previous one');
        this.#current = await createConductor(await this.#previous(old), { log: this.#log, mode: 'run', runtime: this.runtime });
        await this.#current.start();
        throw error;
      }
      this.#current = next;
      this.runtime.configHash = hash;
      this.runtime.reloads.applied += 1;
      this.#log.info({ reason, configHash: hash }, 'config reload applied');
      return 'applied';
    } catch (error) {
      this.runtime.reloads.refused += 1;
      const conductorError = toConductorError(error);
      this.#log.error(
        { reason, code: conductorError.code, err: conductorError },
        `config reload refused; the running pipeline is unchanged: ${conductorError.message}`,
      );
      return 'refused';
    }
  }

  /** The pipeline that was running, rebuilt from its own resolved config. */
  async #previous(old: Conductor): Promise<ResolvedPipelineConfig> {
    return { config: old.config, definitions: new Map(old.plugins.map((p) => [p.id, p.definition])) };
  }

  /**
   * Watches the directory, not the file: a ConfigMap update replaces a symlink (`..data`), and
   * editors often write a new file and rename it over the old one.
   */
  #watch(file: string): void {
    this.#fileHash = hashOf(file);
    try {
      this.#watcher = watch(dirname(file), () => {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          const now = hashOf(file);
          if (now === undefined || now === this.#fileHash) return;
          this.#fileHash = now;
          void this.reload(`${basename(file)} changed`);
        }, this.#settleMs);
      });
      this.#watcher.on('error', (error) => this.#log.warn({ err: error }, 'config watch failed; SIGHUP still reloads'));
    } catch (error) {
      this.#log.warn({ err: error }, 'cannot watch the config file; SIGHUP still reloads');
    }
  }
}

function hashOf(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
