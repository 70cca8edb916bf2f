// Ready-made package contents for tests: a published network-function package whose Deployment
// runs 2 replicas, with comments, unrelated fields and files a client must leave untouched.

import type { SeedPackage } from './seed.ts';

export const NF_SIM_KPTFILE = `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: ran-nf-sim
  annotations:
    config.kubernetes.io/local-config: "true"
  labels:
    nephoran.io/component: nf-sim # owned by the RAN team
info:
  description: nf-sim network function
  keywords:
  - nephoran
  - ran
pipeline:
  mutators:
  - image: gcr.io/kpt-fn/set-namespace:v0.4.1
    configMap:
      namespace: ran
`;

export const NF_SIM_DEPLOYMENT = `# nf-sim Deployment, scaled by intents
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nf-sim
  namespace: ran
  labels:
    app: nf-sim
spec:
  replicas: 2 # current scale
  selector:
    matchLabels:
      app: nf-sim
  template:
    metadata:
      labels:
        app: nf-sim
    spec:
      containers:
      - name: nf-sim
        image: registry.example/nf-sim:1.4.2
        ports:
        - containerPort: 38412
          protocol: SCTP
        resources:
          limits:
            cpu: "2"
            memory: 1Gi
`;

export const NF_SIM_SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: nf-sim
  namespace: ran
spec:
  selector:
    app: nf-sim
  ports:
  - port: 38412
    protocol: SCTP
`;

export const NF_SIM_README = '# ran-nf-sim\n\nThe nf-sim network function. Scaled by Nephoran intents.\n';

export const NF_SIM_PACKAGE_CONTEXT = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: ran-nf-sim
`;

export function nfSimResources(): Record<string, string> {
  return {
    Kptfile: NF_SIM_KPTFILE,
    'README.md': NF_SIM_README,
    'package-context.yaml': NF_SIM_PACKAGE_CONTEXT,
    'deployment.yaml': NF_SIM_DEPLOYMENT,
    'service.yaml': NF_SIM_SERVICE,
  };
}

/** Revision 1 of `ran-nf-sim`, Published, in the given repository. */
export function nfSimPackage(repository: string, overrides: Partial<SeedPackage> = {}): SeedPackage {
  return { repository, packageName: 'ran-nf-sim', resources: nfSimResources(), ...overrides };
}
