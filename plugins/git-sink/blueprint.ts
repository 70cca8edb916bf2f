// Where the git sink's new packages come from: a blueprint, a kpt package directory someone
// wrote (the Nephio way: packages are cloned from an upstream, never made up). A new target is
// the blueprint instantiated for the intent (the core's instantiateBlueprint: Kptfile named
// after the package, the Deployment renamed, put in the namespace and scaled; every other byte
// kept). Without a blueprint a new target is refused: a package Conductor invented would have no
// image, and the first sync of it would fail.
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConductorError, instantiateBlueprint, type Intent, type PackageFiles } from '../../core/index.ts';

/** Instantiated once at start, so that a blueprint that cannot become a package stops the start. */
const PROBE: Intent = { intent_type: 'scaling', target: 'blueprint-check', namespace: 'default', replicas: 1 };
/** A blueprint is a small package; more than this is a wrong directory (a home, a repository). */
const MAX_FILES = 1_000;
const MAX_BYTES = 10 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface BlueprintContext {
  /** The plugin instance id (`git-sink`). */
  id: string;
  /** Where the config came from: a file path, whose directory relative paths start from. */
  configSource: string;
}

export class Blueprint {
  /** The absolute blueprint directory, or undefined when none is configured. */
  readonly dir: string | undefined;
  readonly #context: BlueprintContext;
  #files: PackageFiles | undefined;

  constructor(context: BlueprintContext, option: string | undefined) {
    this.#context = context;
    // Relative to the config file, like module paths: a config and its blueprint travel together.
    const base = isAbsolute(context.configSource) ? dirname(context.configSource) : process.cwd();
    this.dir = option === undefined ? undefined : resolve(base, option);
  }

  get #option(): string {
    return `plugins.${this.#context.id}.blueprint`;
  }

  /** Reads the blueprint and proves it can be instantiated; a problem refuses the start. */
  async load(): Promise<void> {
    if (this.dir === undefined) return;
    const refuse = (message: string, cause?: unknown) =>
      new ConductorError('CND_ERR_BLUEPRINT', `${this.#option}: ${this.dir}: ${message}`, {
        plugin: this.#context.id,
        path: this.#option,
        ...(cause === undefined ? {} : { cause }),
      });
    const stat = await fs.stat(this.dir).catch(() => undefined);
    if (!stat?.isDirectory()) throw refuse('is not a directory (give a kpt package directory, relative to the config file or absolute)');
    const files = await readPackage(this.dir, refuse);
    try {
      instantiateBlueprint(files, PROBE, { source: this.dir, plugin: this.#context.id });
    } catch (error) {
      throw refuse((error as Error).message.replace(`blueprint ${this.dir}: `, ''), error);
    }
    this.#files = files;
  }

  /**
   * The files of a new package for an intent whose package does not exist yet. Without a
   * blueprint the intent is refused (CND_ERR_BLUEPRINT, permanent) with how to configure one.
   */
  newPackage(intent: Intent, intentId: string): PackageFiles {
    if (this.#files === undefined) {
      throw new ConductorError(
        'CND_ERR_BLUEPRINT',
        `there is no package for ${intent.namespace}/${intent.target} and no blueprint to create it from: ` +
          `set ${this.#option} to a kpt package directory holding the Deployment new targets start from ` +
          '(the project ships examples/blueprints/deployment), or create the package in the repository first',
        { plugin: this.#context.id, intentId },
      );
    }
    return instantiateBlueprint(this.#files, intent, { source: this.dir!, plugin: this.#context.id, intentId });
  }
}

/** Every regular file under `dir` (a `.git` directory aside), by its package-relative path. */
async function readPackage(dir: string, refuse: (message: string) => ConductorError): Promise<PackageFiles> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const files: PackageFiles = {};
  let bytes = 0;
  for (const entry of entries.sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(dir, path).split(sep).join('/');
    if (name === '.git' || name.startsWith('.git/')) continue;
    if (entry.isDirectory()) continue;
    if (!entry.isFile()) throw refuse(`${name} is not a regular file (symbolic links and special files are not copied into packages)`);
    if (Object.keys(files).length >= MAX_FILES) throw refuse(`holds more than ${MAX_FILES} files; is it the right directory?`);
    const content = await fs.readFile(path);
    bytes += content.length;
    if (bytes > MAX_BYTES) throw refuse(`holds more than ${MAX_BYTES} bytes; is it the right directory?`);
    try {
      files[name] = utf8.decode(content);
    } catch {
      throw refuse(`${name} is not UTF-8 text`);
    }
  }
  return files;
}
