// /version and API discovery, which clients probe before talking to a group (docs/porch.md §Resources,
// §Simulator endpoints item 1).

import { jsonResponse } from '../http.ts';
import type { SimResponse } from '../http.ts';
import { pathNotFound } from '../k8s-status.ts';
import { AUTHORIZATION_GROUP, CONFIG_GROUP, PORCH_GROUP } from '../routes.ts';

interface ResourceInfo {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
}

const RESOURCES: Record<string, { version: string; resources: ResourceInfo[] }> = {
  [PORCH_GROUP]: {
    version: 'v1alpha1',
    resources: [
      {
        name: 'packagerevisionresources',
        singularName: '',
        namespaced: true,
        kind: 'PackageRevisionResources',
        verbs: ['get', 'list', 'patch', 'update'],
      },
      {
        name: 'packagerevisions',
        singularName: '',
        namespaced: true,
        kind: 'PackageRevision',
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      { name: 'packagerevisions/approval', singularName: '', namespaced: true, kind: 'PackageRevision', verbs: ['get', 'patch', 'update'] },
      {
        name: 'packages',
        singularName: '',
        namespaced: true,
        kind: 'PorchPackage',
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
      },
    ],
  },
  [CONFIG_GROUP]: {
    version: 'v1alpha1',
    resources: [
      {
        name: 'repositories',
        singularName: 'repository',
        namespaced: true,
        kind: 'Repository',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: ['repo'],
      },
      { name: 'repositories/status', singularName: '', namespaced: true, kind: 'Repository', verbs: ['get', 'patch', 'update'] },
    ],
  },
  [AUTHORIZATION_GROUP]: {
    version: 'v1',
    resources: [
      {
        name: 'selfsubjectaccessreviews',
        singularName: 'selfsubjectaccessreview',
        namespaced: false,
        kind: 'SelfSubjectAccessReview',
        verbs: ['create'],
      },
    ],
  },
};

export function versionInfo(kubernetesVersion: string): SimResponse {
  const [major = '1', minor = '0'] = kubernetesVersion.replace(/^v/, '').split('.');
  return jsonResponse(200, {
    major,
    minor,
    gitVersion: kubernetesVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.24.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  });
}

function groupJson(group: string): Record<string, unknown> {
  const version = RESOURCES[group]?.version ?? 'v1';
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function discovery(target: 'apis' | 'api' | 'group' | 'group-version', group: string): SimResponse {
  switch (target) {
    case 'api':
      return jsonResponse(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    case 'apis':
      return jsonResponse(200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [AUTHORIZATION_GROUP, CONFIG_GROUP, PORCH_GROUP].map(groupJson),
      });
    case 'group':
      return jsonResponse(200, { kind: 'APIGroup', apiVersion: 'v1', ...groupJson(group) });
    case 'group-version': {
      const entry = RESOURCES[group];
      if (entry === undefined) throw pathNotFound();
      return jsonResponse(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${group}/${entry.version}`,
        resources: entry.resources,
      });
    }
  }
}
