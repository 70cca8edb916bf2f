// The porch-sink options: their JSON Schema (validated by the core like every plugin's) and
// defaults. Which connection settings apply is decided in auth.ts: explicit `server`, else a
// kubeconfig, else the in-cluster service account.
import type { JsonSchema } from '../../core/index.ts';

export interface PorchSinkOptions {
  /** The kube-apiserver URL (Porch is an aggregated API behind it, porch-api.md §1). */
  server?: string;
  namespace: string;
  repository: string;
  /** Overrides the package name derived from the intent (constraints.kpt_package_name, else target). */
  packageName?: string;
  /** Publish (approve) every revision after proposing it. */
  approve: boolean;
  /**
   * The upstream package a new target's package is cloned from, as Nephio does (porch-api.md §2.6
   * `clone`): a package in a Porch repository of the same namespace, at `revision` or its latest
   * Published revision. Without it, an intent for a target that has no package is refused.
   */
  blueprint?: BlueprintOptions;
  tokenFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  kubeconfig?: string;
  /** Which kubeconfig context to use; its current-context by default. */
  context?: string;
  insecureSkipTLSVerify: boolean;
  /** Per request; a write that times out is re-read before it is repeated (porch-api.md §5). */
  timeoutMs: number;
  /** At most this many requests (connections) to the server at once. */
  concurrency: number;
  /** Consecutive failed requests (network, TLS, 5xx) that open the circuit, and how long it stays open. */
  circuitBreaker: { failureThreshold: number; resetMs: number };
  /** How often a token file is re-read even without a 401 (bound tokens rotate, porch-api.md §5). */
  tokenRefreshMs: number;
  /** Where the in-cluster credentials live; only tests change it. */
  serviceAccountDir: string;
}

export interface BlueprintOptions {
  repository: string;
  package: string;
  /** A Published revision number; the latest Published revision when left out. */
  revision?: number;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
// A package name may be a path; every segment is a DNS-1123 label (porch-api.md §2.4).
const PACKAGE_PATH = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const FILE = { type: 'string', minLength: 1 };

export const OPTIONS_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: { type: 'string', pattern: '^https?://[^\\s/]+(/.*)?$' },
    namespace: { type: 'string', maxLength: 63, pattern: DNS_LABEL },
    repository: { type: 'string', maxLength: 63, pattern: DNS_LABEL },
    packageName: { type: 'string', maxLength: 200, pattern: PACKAGE_PATH },
    approve: { type: 'boolean' },
    blueprint: {
      type: 'object',
      additionalProperties: false,
      properties: {
        repository: { type: 'string', maxLength: 63, pattern: DNS_LABEL },
        package: { type: 'string', maxLength: 200, pattern: PACKAGE_PATH },
        revision: { type: 'integer', minimum: 1 },
      },
      required: ['repository', 'package'],
    },
    tokenFile: FILE,
    caFile: FILE,
    certFile: FILE,
    keyFile: FILE,
    kubeconfig: FILE,
    context: { type: 'string', minLength: 1 },
    insecureSkipTLSVerify: { type: 'boolean' },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
    concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    circuitBreaker: {
      type: 'object',
      additionalProperties: false,
      properties: {
        failureThreshold: { type: 'integer', minimum: 1 },
        resetMs: { type: 'integer', minimum: 1 },
      },
      required: ['failureThreshold', 'resetMs'],
    },
    tokenRefreshMs: { type: 'integer', minimum: 0 },
    serviceAccountDir: FILE,
  },
  required: ['namespace', 'repository', 'approve', 'insecureSkipTLSVerify', 'timeoutMs', 'concurrency', 'circuitBreaker', 'tokenRefreshMs', 'serviceAccountDir'],
  dependencies: { certFile: ['keyFile'], keyFile: ['certFile'] },
};

export const DEFAULT_OPTIONS: PorchSinkOptions = {
  namespace: 'porch-demo',
  repository: 'deployments',
  approve: false,
  insecureSkipTLSVerify: false,
  // The kube-apiserver front door cuts proxied requests at 60 s (porch-api.md §5 "Timeouts").
  timeoutMs: 60_000,
  concurrency: 16,
  // Random 5xx on a busy server must not open it; a dead server (every request failing) must.
  circuitBreaker: { failureThreshold: 10, resetMs: 5_000 },
  // client-go re-reads projected token files about once a minute; a 401 re-reads at once.
  tokenRefreshMs: 60_000,
  serviceAccountDir: SERVICE_ACCOUNT_DIR,
};
