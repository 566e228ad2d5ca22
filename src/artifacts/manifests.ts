// Kubernetes manifests for a release on one environment: the same topology the drivers run
// (author, publish ×N, dispatcher ×N where dispatcher i fronts publish i, a load balancer in
// front of the dispatchers), written as a cluster would run it. One Deployment and one Service
// per node, so that a rolling procedure can act on one pair at a time as the drivers do
// (docs/kubernetes.md); the dispatchers' VCL in a ConfigMap; probes on the health path; images
// by digest reference (Slipway's registry), never by tag, so a cluster runs exactly the bytes
// that were tested on stage. Pure: input in, YAML text out.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { parseDispatcherPackage, type DispatcherPackage } from '../domain/contract.ts';
import type { EnvironmentType } from '../domain/model.ts';
import { DISPATCHER_HEALTH_PATH, generateVcl } from '../domain/vcl.ts';

export interface ManifestInput {
  program: { id: string; name: string };
  environment: { id: string; name: string; type: EnvironmentType; publishCount: number };
  /** The release version (artifactsVersion), as a label. */
  version: string;
  /** Image references by digest: `HOST:PORT/REPOSITORY@sha256:…`. */
  appImage: string;
  dispatcherImage?: string;
  /** The dispatcher package its VCL is generated from (defaults when absent). */
  dispatcherPackage?: DispatcherPackage;
  /** Port the app listens on ($PORT); the dispatcher listens on the same one. */
  appPort?: number;
  healthPath?: string;
}

/**
 * What each container asks for. The app's memory limit is the local driver's per-node cap
 * (APP_NODE_LIMITS, 2 GiB); Varnish's storage is malloc,32m as on the local driver.
 */
export const RESOURCES = {
  app: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '2Gi' } },
  dispatcher: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
} as const;

/** The label the load balancer's Service selects on: a rolling deploy sets it to "false" to drain a pair. */
export const IN_ROTATION_LABEL = 'io.slipway.in-rotation';
const VCL_DIR = '/etc/varnish/slipway';
const REFERENCE = /^[A-Za-z0-9.:-]+(?:\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/;

/** A DNS-1035 label: lower-case letters, digits and '-', a letter first, at most 40 characters. */
export function dnsName(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[-0-9]+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return slug || 'program';
}

type Doc = Record<string, unknown>;
type Labels = Record<string, string>;

function checkInput(input: ManifestInput): void {
  const count = input.environment.publishCount;
  if (!Number.isInteger(count) || count < 1 || count > 99) throw new Error(`publishCount must be a whole number 1-99, got ${count}`);
  for (const image of [input.appImage, input.dispatcherImage]) {
    if (image !== undefined && !REFERENCE.test(image)) throw new Error(`not an image reference by digest: ${image}`);
  }
}

function appContainer(input: ManifestInput, role: 'author' | 'publish', base: string, port: number, health: string): Doc {
  const probe = { httpGet: { path: health, port: 'http' }, timeoutSeconds: 2 };
  return {
    name: 'app',
    image: input.appImage,
    ports: [{ name: 'http', containerPort: port }],
    env: [
      { name: 'PORT', value: String(port) },
      { name: 'APP_MODE', value: role },
      { name: 'APP_VERSION', value: input.version },
    ],
    // The environment's variables for this service (secrets included) belong in a Secret that
    // these manifests do not carry: `kubectl create secret generic <name> --from-env-file=…`.
    envFrom: [{ secretRef: { name: `${base}-${role}-variables`, optional: true } }],
    startupProbe: { ...probe, periodSeconds: 2, failureThreshold: 60 },
    readinessProbe: { ...probe, periodSeconds: 2, failureThreshold: 2 },
    livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
    resources: RESOURCES.app,
    securityContext: { allowPrivilegeEscalation: false },
  };
}

function dispatcherContainer(image: string, port: number): Doc {
  return {
    name: 'dispatcher',
    image,
    // The VCL from the ConfigMap, Varnish in the foreground, its work dir on an emptyDir.
    command: ['varnishd'],
    args: ['-F', '-j', 'none', '-n', '/var/lib/varnish-work', '-a', `:${port}`, '-f', `${VCL_DIR}/default.vcl`, '-s', 'malloc,32m'],
    ports: [{ name: 'http', containerPort: port }],
    volumeMounts: [{ name: 'vcl', mountPath: VCL_DIR, readOnly: true }, { name: 'work', mountPath: '/var/lib/varnish-work' }],
    // Ready only while its publish node answers (the VCL maps this path to publish's health
    // path, as HAProxy checks it locally); alive as long as Varnish accepts connections.
    readinessProbe: { httpGet: { path: DISPATCHER_HEALTH_PATH, port: 'http' }, periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 2 },
    livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
    resources: RESOURCES.dispatcher,
    securityContext: { allowPrivilegeEscalation: false },
  };
}

/** One node: a Deployment of one pod (a new pod is ready before the old one goes) and its Service. */
function node(name: string, labels: Labels, selector: Labels, podLabels: Labels, pod: Doc, annotations: Labels = {}): Doc[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: { ...labels, ...podLabels }, ...(Object.keys(annotations).length ? { annotations } : {}) },
          spec: { automountServiceAccountToken: false, enableServiceLinks: false, terminationGracePeriodSeconds: 30, ...pod },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels },
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}

/** The manifest documents, in apply order. */
export function kubernetesDocuments(input: ManifestInput): Doc[] {
  checkInput(input);
  const env = input.environment;
  const base = `${dnsName(input.program.name)}-${env.type}`;
  const port = input.appPort ?? 8080;
  const health = input.healthPath ?? '/health';
  const common: Labels = {
    'app.kubernetes.io/part-of': dnsName(input.program.name),
    'app.kubernetes.io/managed-by': 'slipway',
    'io.slipway.program': input.program.id,
    'io.slipway.environment': env.id,
  };
  const nodeLabels = (nodeName: string, role: string): Labels => ({
    ...common, 'app.kubernetes.io/component': role, 'io.slipway.node': nodeName,
  });
  const selector = (nodeName: string): Labels => ({ 'io.slipway.environment': env.id, 'io.slipway.node': nodeName });
  const release = { 'io.slipway.version': input.version };
  const frontRole = input.dispatcherImage ? 'dispatcher' : 'publish';

  const docs: Doc[] = [];
  const vcls: Record<string, string> = {};
  if (input.dispatcherImage) {
    const pkg = input.dispatcherPackage ?? parseDispatcherPackage({});
    for (let i = 1; i <= env.publishCount; i++) {
      vcls[`dispatcher-${i}.vcl`] = generateVcl({
        dispatcherName: `dispatcher-${i}`, backends: [{ name: 'publish_node', host: `${base}-publish-${i}`, port: 80 }], healthPath: health, pkg,
      });
    }
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${base}-vcl`, labels: common }, data: vcls });
  }

  docs.push(...node(`${base}-author`, nodeLabels('author', 'author'), selector('author'), release,
    { containers: [appContainer(input, 'author', base, port, health)] }));
  for (let i = 1; i <= env.publishCount; i++) {
    const inRotation = { ...release, ...(frontRole === 'publish' ? { [IN_ROTATION_LABEL]: 'true' } : {}) };
    docs.push(...node(`${base}-publish-${i}`, nodeLabels(`publish-${i}`, 'publish'), selector(`publish-${i}`), inRotation,
      { containers: [appContainer(input, 'publish', base, port, health)] }));
    if (!input.dispatcherImage) continue;
    const vclKey = `dispatcher-${i}.vcl`;
    // A changed VCL changes this annotation, so the pod is replaced (a ConfigMap edit alone restarts nothing).
    const vclDigest = `sha256:${createHash('sha256').update(vcls[vclKey] ?? '').digest('hex')}`;
    docs.push(...node(`${base}-dispatcher-${i}`, nodeLabels(`dispatcher-${i}`, 'dispatcher'), selector(`dispatcher-${i}`),
      { ...release, [IN_ROTATION_LABEL]: 'true' }, {
        containers: [dispatcherContainer(input.dispatcherImage, port)],
        volumes: [
          { name: 'vcl', configMap: { name: `${base}-vcl`, items: [{ key: vclKey, path: 'default.vcl' }] } },
          { name: 'work', emptyDir: {} },
        ],
      }, { 'io.slipway.vcl-digest': vclDigest }));
  }
  docs.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: base, labels: { ...common, 'app.kubernetes.io/component': 'load-balancer' } },
    spec: {
      type: 'LoadBalancer',
      selector: { 'io.slipway.environment': env.id, 'app.kubernetes.io/component': frontRole, [IN_ROTATION_LABEL]: 'true' },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    },
  });
  return docs;
}

/** The manifests as one multi-document YAML file (`kubectl apply -f`). */
export function kubernetesManifests(input: ManifestInput): string {
  const envName = input.environment.name.replace(/[\r\n]+/g, ' ');
  const head = `# Generated by Slipway: program ${input.program.id}, environment ${envName} (${input.environment.type}), `
    + `version ${input.version}\n`;
  return head + kubernetesDocuments(input).map((doc) => `---\n${stringify(doc, { lineWidth: 0 })}`).join('');
}
