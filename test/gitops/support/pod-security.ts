// Our own Pod Security Standards `restricted` check (the baseline rules plus the restricted
// ones, as the Kubernetes "Pod Security Standards" page defines them), run on every pod template.

import { isDeepStrictEqual } from 'node:util';
import {
  asArray,
  asObject,
  asString,
  at,
  containersOf,
  finding,
  podTemplates,
  type Container,
  type Finding,
  type Json,
  type JsonObject,
  type RenderedSet,
} from './objects.ts';

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** The violations of one pod spec, worded per container. */
export function restrictedViolations(pod: JsonObject, annotations: JsonObject = {}): string[] {
  const out: string[] = [];
  const podSc = asObject(pod['securityContext']);
  const containers = containersOf(pod);

  // --- baseline ---
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (pod[field] === true) out.push(`${field} must not be true`);
  }
  if (at(podSc, 'windowsOptions.hostProcess') === true) out.push('pod windowsOptions.hostProcess must not be true');
  for (const v of asArray(pod['volumes'])) {
    const volume = asObject(v);
    const name = asString(volume['name']) ?? '<unnamed>';
    const types = Object.keys(volume).filter((k) => k !== 'name');
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(type)) out.push(`volume ${name}: type ${type} is not allowed (restricted)`);
    }
  }
  for (const s of asArray(podSc['sysctls'])) {
    const name = asString(at(s, 'name')) ?? '';
    if (!SAFE_SYSCTLS.has(name)) out.push(`sysctl ${name} is not in the safe set`);
  }
  out.push(...seLinuxViolations('pod', podSc));
  out.push(...appArmorViolations('pod', podSc));
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/')) {
      const profile = asString(value) ?? '';
      if (profile !== 'runtime/default' && !profile.startsWith('localhost/')) {
        out.push(`annotation ${key}: AppArmor profile ${profile} is not allowed`);
      }
    }
  }
  const podSeccomp = asString(at(podSc, 'seccompProfile.type'));
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') {
    out.push(`pod seccompProfile.type must be RuntimeDefault or Localhost, not ${podSeccomp}`);
  }
  if (at(podSc, 'runAsUser') === 0) out.push('pod runAsUser must not be 0');
  if (podSc['runAsNonRoot'] === false) out.push('pod runAsNonRoot must not be false');

  for (const c of containers) out.push(...containerViolations(c, podSc));
  return out;
}

function containerViolations(c: Container, podSc: JsonObject): string[] {
  const out: string[] = [];
  const where = `${c.list === 'containers' ? 'container' : c.list.replace(/s$/, '')} ${c.name}`;
  const sc = asObject(c.spec['securityContext']);

  if (sc['privileged'] === true) out.push(`${where}: privileged must not be true`);
  if (at(sc, 'windowsOptions.hostProcess') === true) out.push(`${where}: windowsOptions.hostProcess must not be true`);
  const procMount = asString(sc['procMount']);
  if (procMount !== undefined && procMount !== 'Default') out.push(`${where}: procMount must be Default`);
  for (const p of asArray(c.spec['ports'])) {
    const hostPort = at(p, 'hostPort');
    if (hostPort !== undefined && hostPort !== 0) out.push(`${where}: hostPort ${String(hostPort)} is not allowed`);
  }
  out.push(...seLinuxViolations(where, sc));
  out.push(...appArmorViolations(where, sc));

  // --- restricted ---
  if (sc['allowPrivilegeEscalation'] !== false) out.push(`${where}: allowPrivilegeEscalation must be false`);

  const nonRoot = sc['runAsNonRoot'] ?? podSc['runAsNonRoot'];
  if (nonRoot !== true) out.push(`${where}: runAsNonRoot must be true (on the pod or the container)`);
  if (sc['runAsUser'] === 0) out.push(`${where}: runAsUser must not be 0`);

  const seccomp = asString(at(sc, 'seccompProfile.type')) ?? asString(at(podSc, 'seccompProfile.type'));
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
    out.push(`${where}: seccompProfile.type must be RuntimeDefault or Localhost (on the pod or the container)`);
  }

  const drop = asArray(at(sc, 'capabilities.drop'));
  if (!drop.includes('ALL')) out.push(`${where}: capabilities.drop must include ALL`);
  for (const cap of asArray(at(sc, 'capabilities.add'))) {
    if (cap !== 'NET_BIND_SERVICE') out.push(`${where}: capability ${String(cap)} may not be added`);
  }
  return out;
}

function seLinuxViolations(where: string, sc: JsonObject): string[] {
  const se = asObject(sc['seLinuxOptions']);
  const out: string[] = [];
  const type = asString(se['type']);
  if (type !== undefined && !SELINUX_TYPES.has(type)) out.push(`${where}: seLinuxOptions.type ${type} is not allowed`);
  if (se['user'] !== undefined) out.push(`${where}: seLinuxOptions.user must not be set`);
  if (se['role'] !== undefined) out.push(`${where}: seLinuxOptions.role must not be set`);
  return out;
}

function appArmorViolations(where: string, sc: JsonObject): string[] {
  const type = asString(at(sc, 'appArmorProfile.type'));
  if (type !== undefined && type !== 'RuntimeDefault' && type !== 'Localhost') {
    return [`${where}: appArmorProfile.type ${type} is not allowed`];
  }
  return [];
}

/** Every pod template in the set satisfies the Pod Security Standards `restricted` profile. */
export function checkPodSecurityRestricted(set: RenderedSet): Finding[] {
  return podTemplates(set).flatMap((t) => {
    const annotations = asObject(
      t.owner.kind === 'Pod' ? t.owner.metadata['annotations'] : at(t.owner, 'spec.template.metadata.annotations'),
    );
    return restrictedViolations(t.spec, annotations).map((m) => finding(t.owner, `pod security restricted: ${m}`));
  });
}

/** The guide's container security context, which the conductor container must carry exactly. */
export const GUIDE_SECURITY_CONTEXT: Json = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Every container runs with a read-only root filesystem (the app writes only to volumes). */
export function checkReadOnlyRootFilesystem(set: RenderedSet): Finding[] {
  return podTemplates(set).flatMap((t) =>
    containersOf(t.spec)
      .filter((c) => at(c.spec, 'securityContext.readOnlyRootFilesystem') !== true)
      .map((c) => finding(t.owner, `container ${c.name}: readOnlyRootFilesystem must be true`)),
  );
}

/** The conductor container's securityContext is exactly the guide's. */
export function checkGuideSecurityContext(set: RenderedSet): Finding[] {
  const out: Finding[] = [];
  for (const t of podTemplates(set)) {
    for (const c of containersOf(t.spec).filter((x) => x.name === 'conductor')) {
      const actual = c.spec['securityContext'];
      if (!isDeepStrictEqual(actual, GUIDE_SECURITY_CONTEXT)) {
        out.push(
          finding(
            t.owner,
            `container conductor: securityContext must be exactly the guide's ${JSON.stringify(GUIDE_SECURITY_CONTEXT)}, got ${JSON.stringify(actual ?? null)}`,
          ),
        );
      }
    }
  }
  return out;
}
