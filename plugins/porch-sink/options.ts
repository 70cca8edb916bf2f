// The porch-sink options: their JSON Schema (validated by the core like every plugin's), with the
// description and default of each — the one place an option is written: the options type, the
// defaults and the README derive from it — and what the README says beyond the options. Which
// connection settings apply is decided in auth.ts: explicit `server`, else a kubeconfig, else
// the in-cluster service account.
import { defaultsOf, type OptionsOf, type PluginDocs } from '../../core/index.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
// A package name may be a path; every segment is a DNS-1123 label (docs/porch.md §Names).
const PACKAGE_PATH = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const FILE = { type: 'string', minLength: 1 } as const;

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'string',
      pattern: '^https?://[^\\s/]+(/.*)?$',
      description:
        'The kube-apiserver URL (Porch is an aggregated API behind it). Unset: from `kubeconfig`, else the ' +
        'in-cluster service account.',
    },
    namespace: {
      type: 'string',
      maxLength: 63,
      pattern: DNS_LABEL,
      default: 'porch-demo',
      description: 'The namespace of the Porch repository.',
    },
    repository: {
      type: 'string',
      maxLength: 63,
      pattern: DNS_LABEL,
      default: 'deployments',
      description: 'The Porch repository the PackageRevisions are created in.',
    },
    packageName: {
      type: 'string',
      maxLength: 200,
      pattern: PACKAGE_PATH,
      description: 'Overrides the package name derived from the intent (`constraints.kpt_package_name`, else the target).',
    },
    approve: { type: 'boolean', default: false, description: 'Publish (approve) every revision after proposing it.' },
    blueprint: {
      type: 'object',
      additionalProperties: false,
      description:
        "The upstream package a new target's package is cloned from, as Nephio does: a package in a Porch " +
        'repository of the ' +
        'same namespace, at `revision` or its latest Published revision. Without it, an intent for a target that ' +
        'has no package is refused.',
      properties: {
        repository: {
          type: 'string',
          maxLength: 63,
          pattern: DNS_LABEL,
          description: 'The Porch repository holding the blueprint package.',
        },
        package: {
          type: 'string',
          maxLength: 200,
          pattern: PACKAGE_PATH,
          description: "The blueprint package's name.",
        },
        revision: {
          type: 'integer',
          minimum: 1,
          description: 'A Published revision number; the latest Published revision when left out.',
        },
      },
      required: ['repository', 'package'],
    },
    tokenFile: {
      ...FILE,
      description: 'A file holding the bearer token (re-read every `tokenRefreshMs` and on a 401).',
    },
    caFile: { ...FILE, description: "A PEM file of the CA certificates that sign the server's certificate." },
    certFile: { ...FILE, description: 'A PEM client certificate (with `keyFile`).' },
    keyFile: { ...FILE, description: 'The PEM private key of `certFile`.' },
    kubeconfig: {
      ...FILE,
      description: 'A kubeconfig file to take the server and credentials from (when `server` is unset).',
    },
    context: {
      type: 'string',
      minLength: 1,
      description: 'Which kubeconfig context to use; its current-context by default.',
    },
    insecureSkipTLSVerify: {
      type: 'boolean',
      default: false,
      description: "Skip the check of the server's certificate (reported as a weakened setting).",
    },
    timeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 600_000,
      // The kube-apiserver front door cuts proxied requests at 60 s.
      default: 60_000,
      description: 'The limit of one request; a write that times out is read back before it is repeated.',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 1024,
      default: 16,
      description: 'At most this many requests (connections) to the server at once.',
    },
    circuitBreaker: {
      type: 'object',
      additionalProperties: false,
      description: 'Consecutive failed requests (network, TLS, 5xx) that open the circuit, and how long it stays open.',
      properties: {
        failureThreshold: {
          type: 'integer',
          minimum: 1,
          description: 'Consecutive failed requests that open the circuit.',
        },
        resetMs: {
          type: 'integer',
          minimum: 1,
          description: 'How long the circuit stays open before a probe request is let through.',
        },
      },
      required: ['failureThreshold', 'resetMs'],
      // Random 5xx on a busy server must not open it; a dead server (every request failing) must.
      default: { failureThreshold: 10, resetMs: 5_000 },
    },
    tokenRefreshMs: {
      type: 'integer',
      minimum: 0,
      // client-go re-reads projected token files about once a minute; a 401 re-reads at once.
      default: 60_000,
      description: 'How often a token file is re-read even without a 401 (bound service-account tokens rotate).',
    },
    serviceAccountDir: {
      ...FILE,
      default: SERVICE_ACCOUNT_DIR,
      description: 'Where the in-cluster credentials live; only tests change it.',
    },
  },
  dependencies: { certFile: ['keyFile'], keyFile: ['certFile'] },
} as const;

/** The options create() receives (defaults merged), derived from the schema. */
export type PorchSinkOptions = OptionsOf<typeof OPTIONS_SCHEMA>;
export type BlueprintOptions = NonNullable<PorchSinkOptions['blueprint']>;

export const DEFAULT_OPTIONS = defaultsOf(OPTIONS_SCHEMA);

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    {
      name: 'porch circuit opened',
      via: 'log',
      when:
        'consecutive failed requests reached `circuitBreaker.failureThreshold` (warn); `porch circuit half-open` / ' +
        '`closed` follow (info)',
    },
    {
      name: 'porch server not usable yet',
      via: 'log',
      when: 'the server could not be reached or refused the credentials at start (warn)',
    },
    {
      name: 'porch: replacing an outdated revision by a copy of the latest',
      via: 'log',
      when: 'a Draft left by an earlier attempt is older than the latest Published revision (info)',
    },
    {
      name: 'circuit',
      via: 'http',
      when:
        "the circuit state (`closed`, `half-open`, `open`) in the plugin's `/ready` details, read by the " +
        '`conductor_sink_circuit_state` metric',
    },
  ],
  example: {
    'porch-sink': {
      namespace: 'porch-demo',
      repository: 'deployments',
      approve: true,
      blueprint: { repository: 'blueprints', package: 'deployment' },
    },
  },
};
