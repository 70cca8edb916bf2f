// Deterministic uids: a UUIDv5 of "packagerevision:porch.kpt.dev/v1alpha1/<ns>/<name>",
// so a deleted and re-created PackageRevision gets the same uid (docs/porch.md §PackageRevision, §Sharp edges item 12).

import { createHash } from 'node:crypto';

/** The namespace UUID Porch uses for its UUIDv5 uids. */
const PORCH_UID_NAMESPACE = 'aac71d91-5c67-456f-8fd2-902ef6da820e';

export function uuidV5(namespaceUuid: string, name: string): string {
  const namespaceBytes = Buffer.from(namespaceUuid.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Porch's uid for an object: prefix + "porch.kpt.dev/v1alpha1/" + ns + "/" + name, lower-cased. */
export function porchUid(prefix: string, namespace: string, name: string): string {
  return uuidV5(PORCH_UID_NAMESPACE, `${prefix}porch.kpt.dev/v1alpha1/${namespace.toLowerCase()}/${name.toLowerCase()}`);
}

export function packageRevisionUid(namespace: string, name: string): string {
  return porchUid('packagerevision:', namespace, name);
}
