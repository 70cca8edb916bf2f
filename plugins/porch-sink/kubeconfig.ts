// Reads the parts of a kubeconfig file the sink can use outside a cluster (porch-api.md §5
// "Endpoint"): the server, how to trust it, and who we are. Relative file paths in a kubeconfig
// are relative to the kubeconfig's own directory, as kubectl reads them. Exec plugins and
// auth-provider plugins run programs; the sink does not, and says so.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';

/** PEM material either inline (from a `*-data` field) or in a file. */
export type Pem = { data: string } | { file: string };

export interface KubeconfigCredentials {
  server: string;
  ca?: Pem;
  insecureSkipTLSVerify: boolean;
  tlsServerName?: string;
  token?: string;
  tokenFile?: string;
  clientCert?: Pem;
  clientKey?: Pem;
  namespace?: string;
}

type Named<T> = { name?: unknown } & T;
type Entry = Record<string, unknown>;

export function readKubeconfig(path: string, contextName?: string): KubeconfigCredentials {
  let document: unknown;
  try {
    document = YAML.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`kubeconfig ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  return credentialsOf(document, dirname(resolve(path)), path, contextName);
}

export function credentialsOf(document: unknown, baseDir: string, where: string, contextName?: string): KubeconfigCredentials {
  if (!isEntry(document)) throw new Error(`kubeconfig ${where} is not a YAML mapping`);
  const wanted = contextName ?? stringOr(document['current-context']);
  if (wanted === undefined) throw new Error(`kubeconfig ${where} has no current-context; set the "context" option`);
  const context = pick(document['contexts'], wanted, 'context', where);
  const clusterName = stringOr(context['cluster']);
  if (clusterName === undefined) throw new Error(`kubeconfig ${where}: context "${wanted}" names no cluster`);
  const cluster = pick(document['clusters'], clusterName, 'cluster', where);
  const userName = stringOr(context['user']);
  const user = userName === undefined ? {} : pick(document['users'], userName, 'user', where);

  const server = stringOr(cluster['server']);
  if (server === undefined) throw new Error(`kubeconfig ${where}: cluster "${clusterName}" has no server`);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) {
    throw new Error(`kubeconfig ${where}: user "${userName}" authenticates through an exec or auth-provider plugin, which the porch sink does not run; use a token, a token file or a client certificate`);
  }
  if (user['username'] !== undefined || user['password'] !== undefined) {
    throw new Error(`kubeconfig ${where}: user "${userName}" uses basic authentication, which the Kubernetes API no longer supports; use a token or a client certificate`);
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
  const result: KubeconfigCredentials = { server, insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true };
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
  if ((cert === undefined) !== (key === undefined)) throw new Error(`kubeconfig ${where}: user "${userName}" has a client certificate without a key, or a key without a certificate`);
  const namespace = stringOr(context['namespace']);
  if (namespace) result.namespace = namespace;
  return result;
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
  if (!isEntry(inner)) throw new Error(`kubeconfig ${where} has no ${kind} named "${name}"`);
  return inner;
}
