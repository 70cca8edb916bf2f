// The client-go exec credential plugin protocol (client.authentication.k8s.io/v1 and v1beta1),
// which EKS, GKE and AKS kubeconfigs use: run the user's `exec.command` with its args and env
// plus KUBERNETES_EXEC_INFO, read an ExecCredential from its stdout, and use status.token (or
// status.clientCertificateData/clientKeyData) until status.expirationTimestamp; run it again
// after that, or at once when the server answers 401.
//
// Implemented here rather than by adopting @kubernetes/client-node's KubeConfig: the protocol is
// one child process and one JSON document, while that library brings a large dependency tree
// (an HTTP stack, WebSocket, tar, OpenID and JOSE clients) into a process whose start-up is
// measured (bench/RESULTS.md (f): start → /ready within 400 ms, plugin imports ~95 ms of it), and
// the sink already owns its transport (undici), TLS and token rotation.
import { execFile } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { CredentialError, type ClientCertificate, type TokenSource } from './auth.ts';
import { redactText } from './redact.ts';

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;

export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** Never and IfAvailable work without a terminal; Always cannot run in a service. */
  interactiveMode: string | undefined;
  provideClusterInfo: boolean;
  installHint: string | undefined;
}

/** What the cluster entry tells a plugin when provideClusterInfo is set (ExecCredential spec.cluster). */
export interface ClusterInfo {
  server: string;
  'certificate-authority-data'?: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

export interface ExecResult {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** ms since the epoch; undefined: valid until the server refuses it. */
  expiresAt?: number;
}

/** How long before its expiry a credential is replaced (a request must not race the deadline). */
const EXPIRY_MARGIN_MS = 1_000;
const PLUGIN_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Reads the `exec` entry of a kubeconfig user; `where` names the file and user in errors. */
export function execConfigOf(exec: Record<string, unknown>, baseDir: string, where: string): ExecConfig {
  const command = exec['command'];
  if (typeof command !== 'string' || command === '') throw new Error(`${where}: exec.command is missing`);
  const apiVersion = exec['apiVersion'];
  if (typeof apiVersion !== 'string' || !(EXEC_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new Error(`${where}: exec.apiVersion ${JSON.stringify(apiVersion)} is not supported (use ${EXEC_API_VERSIONS.join(' or ')})`);
  }
  const args = exec['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new Error(`${where}: exec.args must be a list of strings`);
  const envList = exec['env'] ?? [];
  if (!Array.isArray(envList)) throw new Error(`${where}: exec.env must be a list of {name, value}`);
  const env = envList.map((entry: unknown, i) => {
    const { name, value } = (entry ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== 'string' || name === '' || typeof value !== 'string')
      throw new Error(`${where}: exec.env[${i}] needs a name and a string value`);
    return { name, value };
  });
  const interactiveMode = typeof exec['interactiveMode'] === 'string' ? exec['interactiveMode'] : undefined;
  if (interactiveMode === 'Always')
    throw new Error(`${where}: exec.interactiveMode Always needs a terminal, which a service has not; use Never or IfAvailable`);
  // As kubectl: a command with a path separator that is relative is relative to the kubeconfig's directory.
  const resolved = !isAbsolute(command) && /[\\/]/.test(command) ? resolve(baseDir, command) : command;
  return {
    command: resolved,
    args: args as string[],
    env,
    apiVersion,
    interactiveMode,
    provideClusterInfo: exec['provideClusterInfo'] === true,
    installHint: typeof exec['installHint'] === 'string' ? exec['installHint'] : undefined,
  };
}

/** Runs the plugin once and reads its ExecCredential. */
export function runExecPlugin(
  config: ExecConfig,
  cluster: ClusterInfo | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExecResult> {
  const info = {
    apiVersion: config.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, ...(config.provideClusterInfo && cluster !== undefined ? { cluster } : {}) },
  };
  const childEnv: NodeJS.ProcessEnv = { ...env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const { name, value } of config.env) childEnv[name] = value;
  const what = `exec credential plugin ${config.command}`;
  return new Promise((resolvePromise, reject) => {
    execFile(
      config.command,
      config.args,
      { env: childEnv, timeout: PLUGIN_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
          // Its stderr may quote what it was handling: keep a short, redacted excerpt.
          const said = redactText(String(stderr).trim()).slice(0, 300);
          const hint = notFound && config.installHint ? ` (${config.installHint.trim()})` : '';
          reject(
            new CredentialError(
              `${what} ${notFound ? 'was not found' : `failed (${error.code ?? error.signal ?? 'error'})`}${hint}${said ? `: ${said}` : ''}`,
              { cause: error },
            ),
          );
          return;
        }
        try {
          resolvePromise(parseExecCredential(String(stdout), config.apiVersion, what));
        } catch (parseError) {
          reject(parseError);
        }
      },
    );
  });
}

/** The ExecCredential a plugin printed; errors name the field, never quote the output (it holds secrets). */
export function parseExecCredential(stdout: string, apiVersion: string, what: string): ExecResult {
  let document: unknown;
  try {
    document = JSON.parse(stdout);
  } catch {
    throw new CredentialError(`${what} did not print an ExecCredential (its output is not JSON)`);
  }
  const { kind, apiVersion: version, status } = (document ?? {}) as { kind?: unknown; apiVersion?: unknown; status?: unknown };
  if (kind !== 'ExecCredential') throw new CredentialError(`${what} printed kind ${JSON.stringify(kind)}, not ExecCredential`);
  if (version !== apiVersion)
    throw new CredentialError(`${what} answered apiVersion ${JSON.stringify(version)}; the kubeconfig asked for ${apiVersion}`);
  if (status === null || typeof status !== 'object') throw new CredentialError(`${what}: the ExecCredential has no status`);
  const { token, clientCertificateData, clientKeyData, expirationTimestamp } = status as Record<string, unknown>;
  const result: ExecResult = {};
  if (typeof token === 'string' && token !== '') result.token = token;
  if (typeof clientCertificateData === 'string' && clientCertificateData !== '') result.clientCertificateData = clientCertificateData;
  if (typeof clientKeyData === 'string' && clientKeyData !== '') result.clientKeyData = clientKeyData;
  if ((result.clientCertificateData === undefined) !== (result.clientKeyData === undefined)) {
    throw new CredentialError(`${what}: status.clientCertificateData and status.clientKeyData come together`);
  }
  if (result.token === undefined && result.clientCertificateData === undefined) {
    throw new CredentialError(`${what}: the ExecCredential has neither status.token nor status.clientCertificateData`);
  }
  if (expirationTimestamp !== undefined && expirationTimestamp !== null) {
    const at = typeof expirationTimestamp === 'string' ? Date.parse(expirationTimestamp) : Number.NaN;
    if (Number.isNaN(at)) throw new CredentialError(`${what}: status.expirationTimestamp is not an RFC 3339 time`);
    result.expiresAt = at;
  }
  return result;
}

/**
 * A token from an exec plugin, cached until it expires. Concurrent requests share one run of the
 * plugin; a failed run is not cached (the next request tries again).
 */
export class ExecToken implements TokenSource {
  readonly description: string;
  readonly #config: ExecConfig;
  readonly #cluster: ClusterInfo | undefined;
  readonly #now: () => number;
  #current: ExecResult | undefined;
  #running: Promise<ExecResult> | undefined;

  constructor(config: ExecConfig, cluster: ClusterInfo | undefined, user: string, now: () => number = Date.now) {
    this.#config = config;
    this.#cluster = cluster;
    this.#now = now;
    this.description = `the exec credential plugin ${config.command} of kubeconfig user "${user}"`;
  }

  /** The credential in force (running the plugin when there is none or it expired). */
  async credential(): Promise<ExecResult> {
    const current = this.#current;
    if (current !== undefined && (current.expiresAt === undefined || this.#now() < current.expiresAt - EXPIRY_MARGIN_MS)) return current;
    return this.#run();
  }

  async current(): Promise<string | undefined> {
    return (await this.credential()).token;
  }

  async clientCertificate(): Promise<ClientCertificate | undefined> {
    const { clientCertificateData: cert, clientKeyData: key } = await this.credential();
    return cert === undefined || key === undefined ? undefined : { cert, key };
  }

  async reload(): Promise<boolean> {
    const before = this.#current;
    const next = await this.#run();
    return next.token !== before?.token || next.clientCertificateData !== before?.clientCertificateData;
  }

  #run(): Promise<ExecResult> {
    this.#running ??= runExecPlugin(this.#config, this.#cluster)
      .then((result) => {
        this.#current = result;
        return result;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }
}
