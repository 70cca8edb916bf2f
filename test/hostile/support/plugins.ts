// Test plugins, built with the public definePlugin like any custom plugin, that let a test act
// at an exact moment of an intent's life: between detection and read (the claim hook runs just
// before the source reads the file), while it is being submitted, or while its outcome is being
// recorded. Each holds the intent until the test lets it go, so "during processing" is a state
// the test waits for, not a guess about timing.
import { definePlugin, type Intent, type Outcome, type PluginDefinition } from '../../../core/index.ts';

const EMPTY = { type: 'object', additionalProperties: false } as const;

/** Runs `act(name)` once per name, when the source has detected the file and is about to read it. */
export function beforeRead(act: (name: string) => void | Promise<void>): PluginDefinition<any> {
  const done = new Set<string>();
  return definePlugin({
    name: 'before-read',
    kind: 'service',
    description: 'acts between detection and read',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({
      apply(hooks) {
        hooks.claim.tapPromise(context.id, async (name) => {
          if (!done.has(name)) {
            done.add(name);
            await act(name);
          }
          return undefined; // no opinion: the claim is granted as for a single process
        });
      },
    }),
  });
}

/** A gate that holds callers until opened; `waiting` resolves when the first caller arrives. */
export class Gate<T> {
  readonly arrivals: T[] = [];
  #open = false;
  #release: (() => void) | undefined;
  readonly #released: Promise<void>;
  #arrived: ((value: T) => void) | undefined;
  readonly waiting: Promise<T>;

  constructor() {
    this.#released = new Promise<void>((resolve) => (this.#release = resolve));
    this.waiting = new Promise<T>((resolve) => (this.#arrived = resolve));
  }

  async pass(value: T): Promise<void> {
    this.arrivals.push(value);
    this.#arrived?.(value);
    if (!this.#open) await this.#released;
  }

  open(): void {
    this.#open = true;
    this.#release?.();
  }
}

/**
 * A submit tap placed before the real sink: the first submission of `file` waits at the gate,
 * then falls through (returns no receipt) to the git sink. Later submissions pass at once.
 */
export function holdSubmit(file: string, gate: Gate<Intent>): PluginDefinition<any> {
  let held = false;
  return definePlugin({
    name: 'hold-submit',
    kind: 'submit',
    description: 'holds the first submission of one file',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({
      apply(hooks) {
        hooks.submit.tapPromise(context.id, async (intent, ctx) => {
          if (ctx.file === file && !held) {
            held = true;
            await gate.pass(intent);
          }
          return undefined;
        });
      },
    }),
  });
}

/** An audit tap that holds the first failed outcome of `file` until the gate opens. */
export function holdFailure(file: string, gate: Gate<Outcome>): PluginDefinition<any> {
  let held = false;
  return definePlugin({
    name: 'hold-failure',
    kind: 'audit',
    description: 'holds the first failure of one file while its outcome is recorded',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({
      apply(hooks) {
        hooks.audit.tapPromise(context.id, async (outcome) => {
          if (outcome.file === file && outcome.status === 'failed' && !held) {
            held = true;
            await gate.pass(outcome);
          }
        });
      },
    }),
  });
}
