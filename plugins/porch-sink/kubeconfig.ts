// Reads the parts of a kubeconfig file the sink can use outside a cluster (docs/porch.md
// §Endpoint): the server, how to trust it, and who we are. Relative file paths in a kubeconfig
// are relative to the kubeconfig's own directory, as kubectl reads them. Exec credential plugins
// are run as kubectl runs them (exec-credential.ts); the deprecated auth-provider plugins (gcp,
// azure, oidc, all removed from kubectl) are refused with a pointer to their exec successors.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { ConductorError } from '../../core/index.ts';
import { execConfigOf, type ClusterInfo, type ExecConfig } from './exec-credential.ts';

/** A kubeconfig that reads but cannot be used: a problem of the configuration, not of the server. */
function invalid(message: string): ConductorError {
  return new ConductorError('CND_ERR_CONFIG_INVALID', message);
}

/** PEM material either inline (from a `*-data` field) or in a file. */
export type Pem = { data: string } | { file: string };

export interface KubeconfigCredentials {
  server: string;
  clusterName: string;
  ca?: Pem;
  insecureSkipTLSVerify: boolean;
  tlsServerName?: string;
  token?: string;
  tokenFile?: string;
  clientCert?: Pem;
  clientKey?: Pem;
  /** The user's exec credential plugin, with what it may be told about the cluster. */
  exec?: { config: ExecConfig; cluster: ClusterInfo; user: string };
  namespace?: string;
}

type Named<T> = { name?: unknown } & T;
type Entry = Record<string, unknown>;

export function readKubeconfig(path: string, contextName?: string): KubeconfigCredentials {
  let document: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConductorError('CND_ERR_CONFIG_LOAD', `kubeconfig ${path} cannot be read: ${(error as Error).message}`, {
      cause: error,
      details: { file: path },
    });
  }
  try {
    document = YAML.parse(text);
  } catch (error) {
    // The parser's message quotes the offending line, which may hold a token or key: name the
    // place and the kind of error, never the content (and drop the cause, which holds it too).
    throw new ConductorError('CND_ERR_CONFIG_LOAD', `kubeconfig ${path} is not valid YAML: ${yamlErrorPlace(error)}`, {
      details: { file: path },
    });
  }
  return credentialsOf(document, dirname(resolve(path)), path, contextName);
}

export function credentialsOf(document: unknown, baseDir: string, where: string, contextName?: string): KubeconfigCredentials {
  if (!isEntry(document)) throw invalid(`kubeconfig ${where} is not a YAML mapping`);
  const wanted = contextName ?? stringOr(document['current-context']);
  if (wanted === undefined) throw invalid(`kubeconfig ${where} has no current-context; set the "context" option`);
  const context = pick(document['contexts'], wanted, 'context', where);
  const clusterName = stringOr(context['cluster']);
  if (clusterName === undefined) throw invalid(`kubeconfig ${where}: context "${wanted}" names no cluster`);
  const cluster = pick(document['clusters'], clusterName, 'cluster', where);
  const userName = stringOr(context['user']);
  const user = userName === undefined ? {} : pick(document['users'], userName, 'user', where);

  const server = stringOr(cluster['server']);
  if (server === undefined) throw invalid(`kubeconfig ${where}: cluster "${clusterName}" has no server`);
  if (user['auth-provider'] !== undefined) {
    const provider = isEntry(user['auth-provider']) ? stringOr(user['auth-provider']['name']) : undefined;
    throw invalid(
      `kubeconfig ${where}: user "${userName}" authenticates through the auth-provider plugin${provider ? ` "${provider}"` : ''}, which kubectl ` +
        'no longer runs and the porch sink does not support; use an exec credential plugin instead (e.g. gke-gcloud-auth-plugin, kubelogin, ' +
        '`aws eks get-token`), or a token, token file or client certificate',
    );
  }
  if (user['username'] !== undefined || user['password'] !== undefined) {
    throw invalid(
      `kubeconfig ${where}: user "${userName}" uses basic authentication, which the Kubernetes API no longer supports; use a token or a client certificate`,
    );
  }
  const path = (value: unknown) => {
    const text = stringOr(value);
    return text === undefined ? undefined : isAbsolute(text) ? text : resolve(baseDir, text);
  };
  const pem = (data: unknown, file: unknown): Pem | undefined => {
    const inline = stringOr(data);
    if (inline !== undefined) return { data: Buffer.from(inline, 'base64').toString('utf8') };
    const onDisk = path(file);
    return onDisk === undefined ? undefined : { file: onDisk };
  };
  const result: KubeconfigCredentials = { server, clusterName, insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) result.ca = ca;
  const serverName = stringOr(cluster['tls-server-name']);
  if (serverName) result.tlsServerName = serverName;
  const token = stringOr(user['token']);
  if (token) result.token = token;
  const tokenFile = path(user['tokenFile']);
  if (tokenFile) result.tokenFile = tokenFile;
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  if (cert) result.clientCert = cert;
  if (key) result.clientKey = key;
  if ((cert === undefined) !== (key === undefined))
    throw invalid(`kubeconfig ${where}: user "${userName}" has a client certificate without a key, or a key without a certificate`);
  if (user['exec'] !== undefined && user['exec'] !== null) {
    if (!isEntry(user['exec'])) throw invalid(`kubeconfig ${where}: user "${userName}": exec must be a mapping`);
    // What provideClusterInfo hands the plugin (ExecCredential spec.cluster).
    const clusterInfo: ClusterInfo = { server };
    const caData = stringOr(cluster['certificate-authority-data']);
    if (caData) clusterInfo['certificate-authority-data'] = caData;
    if (serverName) clusterInfo['tls-server-name'] = serverName;
    if (result.insecureSkipTLSVerify) clusterInfo['insecure-skip-tls-verify'] = true;
    result.exec = {
      config: execConfigOf(user['exec'], baseDir, `kubeconfig ${where}: user "${userName}"`),
      cluster: clusterInfo,
      user: userName ?? '',
    };
  }
  const namespace = stringOr(context['namespace']);
  if (namespace) result.namespace = namespace;
  return result;
}

/** "line 3, column 7 (BAD_INDENT)" from a yaml parse error, without the quoted source line. */
function yamlErrorPlace(error: unknown): string {
  const { linePos, code } = (error ?? {}) as { linePos?: { line: number; col: number }[]; code?: unknown };
  const at = linePos?.[0];
  const where = at === undefined ? 'syntax error' : `syntax error at line ${at.line}, column ${at.col}`;
  return typeof code === 'string' ? `${where} (${code})` : where;
}

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `contexts: [{name, context: {...}}]` → the inner mapping of the named entry. */
function pick(list: unknown, name: string, kind: 'context' | 'cluster' | 'user', where: string): Entry {
  const entries = Array.isArray(list) ? (list as unknown[]) : [];
  const found = entries.find((entry): entry is Named<Entry> => isEntry(entry) && entry.name === name);
  const inner = found?.[kind];
  if (!isEntry(inner)) throw invalid(`kubeconfig ${where} has no ${kind} named "${name}"`);
  return inner;
}
