// Where the server is and how we prove who we are (docs/porch.md
// §Endpoint, §Credentials). Three sources, the first that applies wins as the base and
// explicit options override its parts: a kubeconfig; an explicit `server`; else the in-cluster
// service account. Token files are re-read as they rotate; file reads happen in start() or
// preflight, never in the factory.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecToken } from './exec-credential.ts';
import { readKubeconfig, type Pem } from './kubeconfig.ts';
import { redactText } from './redact.ts';
import type { PorchSinkOptions } from './options.ts';

/** The bearer token to send, re-read from its file as it rotates. */
export interface TokenSource {
  readonly description: string;
  /** The token for the next request (undefined: send none). */
  current(): Promise<string | undefined>;
  /** Reads the token again at once (after a 401); true when it changed. */
  reload(): Promise<boolean>;
  /** A client certificate that comes and goes with the token (an exec plugin's), if any. */
  clientCertificate?(): Promise<ClientCertificate | undefined>;
}

/** PEM certificate and key to present at the TLS handshake. */
export interface ClientCertificate {
  cert: string;
  key: string;
}

export class StaticToken implements TokenSource {
  readonly description = 'a token from the kubeconfig';
  readonly #token: string;
  constructor(token: string) {
    this.#token = token;
  }
  current(): Promise<string> {
    return Promise.resolve(this.#token);
  }
  reload(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/**
 * A token file, re-read every `refreshMs` and whenever the server says 401: kubelet replaces
 * projected service-account tokens before they expire (about hourly), and a rotated token must
 * be picked up without a restart (docs/porch.md §Credentials).
 */
export class FileToken implements TokenSource {
  readonly description: string;
  readonly #path: string;
  readonly #refreshMs: number;
  readonly #now: () => number;
  #token: string | undefined;
  #readAt = 0;

  constructor(path: string, refreshMs: number, now: () => number = Date.now) {
    this.#path = path;
    this.#refreshMs = refreshMs;
    this.#now = now;
    this.description = `the token file ${path}`;
  }

  async current(): Promise<string> {
    if (this.#token === undefined || this.#now() - this.#readAt >= this.#refreshMs) await this.reload();
    return this.#token!;
  }

  async reload(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      // Keep using the token we have while a rotation replaces the file; fail only without one.
      if (this.#token !== undefined) return false;
      throw new CredentialError(`cannot read ${this.description}: ${(error as Error).message}`, { cause: error });
    }
    const token = text.trim();
    if (token === '') {
      if (this.#token !== undefined) return false;
      throw new CredentialError(`${this.description} is empty`);
    }
    const changed = token !== this.#token;
    this.#token = token;
    this.#readAt = this.#now();
    return changed;
  }
}

/** Credentials could not be loaded (a missing file, an unreadable kubeconfig). */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

export interface Connection {
  /** `https://host:port`, what undici connects to. */
  origin: string;
  /** A path prefix of the server URL (a proxy such as `kubectl proxy` at /k8s), '' normally. */
  basePath: string;
  tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; servername?: string };
  token: TokenSource | undefined;
  /** Where these settings came from, for logs and preflight lines. */
  source: string;
  /** Settings that weaken the connection's security, said at start and by `validate`. */
  warnings: string[];
}

const OPTION_INSECURE_WARNING = 'insecureSkipTLSVerify is set: the server certificate is NOT verified; use this for development only';
const PLAIN_HTTP_WARNING = 'the server is plain HTTP: the token travels unencrypted';

function kubeconfigInsecureWarning(cluster: string, kubeconfig: string): string {
  return `insecure-skip-tls-verify is set for cluster "${cluster}" in kubeconfig ${kubeconfig}: the server certificate is NOT verified; use this for development only`;
}

/**
 * The warnings resolveConnection would give, without reading certificates or tokens: for
 * `print-config` and `validate` (the plugin's configWarnings). A kubeconfig that cannot be read
 * gives none here; start and preflight report it.
 */
export function connectionWarnings(options: PorchSinkOptions): string[] {
  if (options.insecureSkipTLSVerify) return [OPTION_INSECURE_WARNING];
  const warnings: string[] = [];
  let server = options.server;
  let hasToken = options.tokenFile !== undefined;
  if (options.kubeconfig !== undefined) {
    try {
      const kube = readKubeconfig(options.kubeconfig, options.context);
      if (kube.insecureSkipTLSVerify) warnings.push(kubeconfigInsecureWarning(kube.clusterName, options.kubeconfig));
      server ??= kube.server;
      hasToken ||= kube.token !== undefined || kube.tokenFile !== undefined || kube.exec !== undefined;
    } catch {
      return warnings;
    }
  }
  if (server?.startsWith('http:') && hasToken) warnings.push(PLAIN_HTTP_WARNING);
  return warnings;
}

export function resolveConnection(options: PorchSinkOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  let server = options.server;
  let ca: Pem | undefined = options.caFile === undefined ? undefined : { file: options.caFile };
  let cert: Pem | undefined = options.certFile === undefined ? undefined : { file: options.certFile };
  let key: Pem | undefined = options.keyFile === undefined ? undefined : { file: options.keyFile };
  let insecure = options.insecureSkipTLSVerify;
  let servername: string | undefined;
  let token: TokenSource | undefined =
    options.tokenFile === undefined ? undefined : new FileToken(options.tokenFile, options.tokenRefreshMs);
  let source: string;
  const warnings: string[] = [];

  if (options.kubeconfig !== undefined) {
    let kube;
    try {
      kube = readKubeconfig(options.kubeconfig, options.context);
    } catch (error) {
      throw new CredentialError((error as Error).message, { cause: error });
    }
    source = `kubeconfig ${options.kubeconfig}`;
    server ??= kube.server;
    ca ??= kube.ca;
    if (cert === undefined && kube.clientCert && kube.clientKey) {
      cert = kube.clientCert;
      key = kube.clientKey;
    }
    if (kube.insecureSkipTLSVerify && !insecure) warnings.push(kubeconfigInsecureWarning(kube.clusterName, options.kubeconfig));
    insecure ||= kube.insecureSkipTLSVerify;
    servername = kube.tlsServerName;
    if (kube.exec !== undefined) {
      // The plugin is run at the first request, not here: start() must not wait for a program.
      token ??= new ExecToken(kube.exec.config, kube.exec.cluster, kube.exec.user);
    }
    token ??=
      kube.tokenFile !== undefined
        ? new FileToken(kube.tokenFile, options.tokenRefreshMs)
        : kube.token !== undefined
          ? new StaticToken(kube.token)
          : undefined;
  } else if (server !== undefined) {
    source = `server ${server}`;
  } else {
    // In a pod: the API server's service and the projected service-account volume.
    const host = env['KUBERNETES_SERVICE_HOST'];
    const port = env['KUBERNETES_SERVICE_PORT'];
    if (!host || !port) {
      throw new CredentialError(
        'no server configured: set "server" or "kubeconfig", or run in a cluster (KUBERNETES_SERVICE_HOST/PORT are not set)',
      );
    }
    server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    source = `in-cluster service account (${options.serviceAccountDir})`;
    ca ??= { file: join(options.serviceAccountDir, 'ca.crt') };
    token ??= new FileToken(join(options.serviceAccountDir, 'token'), options.tokenRefreshMs);
  }

  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CredentialError(`server "${redactText(server)}" is not a URL`);
  }
  const tls: Connection['tls'] = { rejectUnauthorized: !insecure };
  if (ca) tls.ca = readPem(ca, 'CA certificate');
  if (cert) tls.cert = readPem(cert, 'client certificate');
  if (key) tls.key = readPem(key, 'client key');
  if (servername) tls.servername = servername;
  if (options.insecureSkipTLSVerify) warnings.push(OPTION_INSECURE_WARNING);
  else if (url.protocol === 'http:' && token !== undefined) warnings.push(PLAIN_HTTP_WARNING);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, ''), tls, token, source, warnings };
}

function readPem(pem: Pem, what: string): string {
  if ('data' in pem) return pem.data;
  try {
    return readFileSync(pem.file, 'utf8');
  } catch (error) {
    throw new CredentialError(`cannot read the ${what} ${pem.file}: ${(error as Error).message}`, { cause: error });
  }
}
