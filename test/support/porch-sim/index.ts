// A faithful simulator of the Porch API as reached through the kube-apiserver
// (docs/porch.md, ≥ v4.1 semantics at Porch HEAD). Tests start one per case with
// `startPorchSim`, talk to `sim.url` over real HTTP(S), and inspect state through the helpers.

import { Authenticator, Authorizer } from './auth.ts';
import type { HandlerContext } from './context.ts';
import { FaultInjector } from './faults.ts';
import type { FaultController, FaultSettings } from './faults.ts';
import { KPTFILE } from './kptfile.ts';
import { InFlightLocks, MutationGate } from './locks.ts';
import type { MutationHold } from './locks.ts';
import { packageRevisionJson } from './representation.ts';
import type { PackageRevisionObject } from './representation.ts';
import { applySeed } from './seed.ts';
import type { SeedInput, SeedPackage } from './seed.ts';
import { startServer } from './server.ts';
import { SimStore } from './store.ts';
import type { RepositoryInput } from './store.ts';
import type { CompatOptions, DenyRule, Lifecycle, RequestRecord, RevisionRecord, WriteOperation, WriteRecord } from './types.ts';

export type { FaultController, FaultSettings, ScriptedFault, ScriptOptions } from './faults.ts';
export type { MutationHold } from './locks.ts';
export type { PackageRevisionObject } from './representation.ts';
export type { SeedInput, SeedPackage } from './seed.ts';
export type { RepositoryInput } from './store.ts';
export type { CompatOptions, DenyRule, FaultKind, JsonObject, Lifecycle, RequestRecord, WriteOperation, WriteRecord } from './types.ts';
export { NF_SIM_DEPLOYMENT, NF_SIM_KPTFILE, nfSimPackage, nfSimResources } from './fixtures.ts';
export { LATEST_REVISION_LABEL } from './store.ts';

export interface PorchSimOptions {
  /** Namespace of seeded objects when they name none (default "nephoran"). */
  namespace?: string;
  /** Bearer token the server requires; omit to turn authentication off. */
  token?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  repositories?: RepositoryInput[];
  packages?: SeedPackage[];
  /** Seed of the fault PRNG and of the resourceVersion sequence (default 1). */
  seed?: number;
  /** The authenticated user; also `status.publishedBy` on approval. */
  userName?: string;
  /** RBAC denials (403 on requests, allowed:false in access reviews). */
  deny?: DenyRule[];
  /** Keep the `traceparent` header of each request in `requests()`. */
  recordTraceparent?: boolean;
  /** Version-matrix switches (docs/porch.md §Versions). */
  compat?: Partial<CompatOptions>;
  /** Clock for timestamps (default: real time). */
  now?: () => Date;
  /** Time every write spends inside its in-flight lock (docs/porch.md §Simulator state). */
  mutationLatencyMs?: number;
  /** Initial fault settings. */
  faults?: Partial<FaultSettings>;
  kubernetesVersion?: string;
  /** Request body limit (default 6 MiB, docs/porch.md §Transport). */
  maxBodyBytes?: number;
}

export interface RevisionQuery {
  namespace?: string;
  repository?: string;
  packageName?: string;
  workspaceName?: string;
  lifecycle?: Lifecycle;
  /** Main-branch placeholders are left out unless asked for. */
  includePlaceholders?: boolean;
}

export interface WriteQuery {
  namespace?: string;
  repository?: string;
  packageName?: string;
  workspaceName?: string;
  name?: string;
  operation?: WriteOperation;
}

export interface PorchSim {
  readonly url: string;
  readonly port: number;
  readonly namespace: string;
  readonly userName: string;
  readonly faults: FaultController;
  close(): Promise<void>;
  /** Rotate the accepted token; undefined turns authentication off. */
  setToken(token: string | undefined): void;
  /** Same as setToken with a token: authentication on, this token only. */
  requireToken(token: string): void;
  setDenyRules(rules: DenyRule[]): void;
  seed(input: SeedInput): void;
  /** Make writes wait inside their lock until released (to provoke the 409 path without sleeps). */
  holdMutations(): MutationHold;
  setMutationLatency(ms: number): void;
  /** PackageRevisions as the server would serve them. */
  listRevisions(query?: RevisionQuery): PackageRevisionObject[];
  getRevision(name: string, namespace?: string): PackageRevisionObject | undefined;
  /** The stored file map of a PackageRevision. */
  getResources(name: string, namespace?: string): Record<string, string> | undefined;
  /** Number of PackageRevisions per `<repository>/<packageName>/<workspaceName>`. */
  revisionsPerWorkspace(query?: RevisionQuery): Map<string, number>;
  /** Applied writes per `<repository>/<packageName>/<workspaceName>`, e.g. to assert one create each. */
  writesPerWorkspace(operation?: WriteOperation): Map<string, number>;
  /** Every applied write, oldest first. */
  writes(query?: WriteQuery): WriteRecord[];
  /**
   * Calls `listener` synchronously as each write is applied (before its answer is sent); the
   * listener may seed. Returns a function that removes it.
   */
  onWrite(listener: (write: WriteRecord) => void): () => void;
  writeCount(query?: WriteQuery): number;
  /** Every request received, oldest first (with traceparent when recorded). */
  requests(): RequestRecord[];
  /** The traceparent headers that reached the server, in order. */
  traceparents(): string[];
  /** Keys of in-flight locks currently held. */
  inFlight(): string[];
}

function revisionMatches(r: RevisionRecord, q: RevisionQuery): boolean {
  return (
    (q.includePlaceholders === true || !r.placeholder) &&
    (q.namespace === undefined || r.namespace === q.namespace) &&
    (q.repository === undefined || r.repository === q.repository) &&
    (q.packageName === undefined || r.packageName === q.packageName) &&
    (q.workspaceName === undefined || r.workspaceName === q.workspaceName) &&
    (q.lifecycle === undefined || r.lifecycle === q.lifecycle)
  );
}

function writeMatches(w: WriteRecord, q: WriteQuery): boolean {
  return (
    (q.namespace === undefined || w.namespace === q.namespace) &&
    (q.repository === undefined || w.repository === q.repository) &&
    (q.packageName === undefined || w.packageName === q.packageName) &&
    (q.workspaceName === undefined || w.workspaceName === q.workspaceName) &&
    (q.name === undefined || w.name === q.name) &&
    (q.operation === undefined || w.operation === q.operation)
  );
}

export async function startPorchSim(options: PorchSimOptions = {}): Promise<PorchSim> {
  const namespace = options.namespace ?? 'nephoran';
  const seed = options.seed ?? 1;
  const userName = options.userName ?? `system:serviceaccount:${namespace}:conductor`;
  const store = new SimStore({
    seed,
    now: options.now ?? (() => new Date()),
    defaultNamespace: namespace,
    compat: {
      rejectInitOfExistingPackage: true,
      renderedCondition: true,
      packageMetadata: true,
      ...options.compat,
    },
  });
  const authenticator = new Authenticator(options.token);
  const authorizer = new Authorizer(userName, options.deny ?? []);
  const faults = new FaultInjector(seed);
  if (options.faults !== undefined) faults.set(options.faults);
  const gate = new MutationGate();
  gate.setLatency(options.mutationLatencyMs ?? 0);
  const locks = new InFlightLocks();
  const context: HandlerContext = { store, locks, gate, authorizer };
  applySeed(store, { repositories: options.repositories ?? [], packages: options.packages ?? [] }, userName);

  const server = await startServer({
    context,
    store,
    authenticator,
    authorizer,
    faults,
    recordTraceparent: options.recordTraceparent ?? false,
    kubernetesVersion: options.kubernetesVersion ?? 'v1.33.1',
    maxBodyBytes: options.maxBodyBytes ?? 6 * 1024 * 1024,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });

  const find = (name: string, ns?: string) => store.getRevision(ns ?? namespace, name);
  return {
    url: server.url,
    port: server.port,
    namespace,
    userName,
    faults,
    async close() {
      gate.hold().release();
      await server.close();
    },
    setToken: (token) => authenticator.setToken(token),
    requireToken: (token) => authenticator.setToken(token),
    setDenyRules: (rules) => authorizer.setDenyRules(rules),
    seed: (input) => {
      applySeed(store, input, userName);
    },
    holdMutations: () => gate.hold(),
    setMutationLatency: (ms) => gate.setLatency(ms),
    listRevisions: (query = {}) =>
      store
        .allRevisions()
        .filter((r) => revisionMatches(r, query))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((r) => packageRevisionJson(store, r)),
    getRevision: (name, ns) => {
      const r = find(name, ns);
      return r === undefined ? undefined : packageRevisionJson(store, r);
    },
    getResources: (name, ns) => {
      const r = find(name, ns);
      return r === undefined ? undefined : { ...r.files };
    },
    revisionsPerWorkspace: (query = {}) => {
      const counts = new Map<string, number>();
      for (const r of store.allRevisions()) {
        if (!revisionMatches(r, query)) continue;
        const key = `${r.repository}/${r.packageName}/${r.workspaceName}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    writesPerWorkspace: (operation) => {
      const counts = new Map<string, number>();
      for (const w of store.writes()) {
        if (operation !== undefined && w.operation !== operation) continue;
        const key = `${w.repository}/${w.packageName}/${w.workspaceName}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    writes: (query = {}) => store.writes().filter((w) => writeMatches(w, query)),
    onWrite: (listener) => store.onWrite(listener),
    writeCount: (query = {}) => store.writes().filter((w) => writeMatches(w, query)).length,
    requests: () => server.requests.map((r) => ({ ...r })),
    traceparents: () => server.requests.flatMap((r) => (r.traceparent === undefined ? [] : [r.traceparent])),
    inFlight: () => locks.heldKeys(),
  };
}

/** The file name of the Kptfile in resource maps. */
export const KPTFILE_NAME = KPTFILE;
