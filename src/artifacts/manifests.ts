// Kubernetes manifests for a release: what the local topology runs, written as a Kubernetes
// cluster would run it. Images are referenced by digest, never by tag, so the manifests name
// exactly the bytes that were tested on stage. Pure: input in, YAML text out.
import { stringify } from 'yaml';

export const IMAGE_REGISTRY = 'slipway.local';

export interface ManifestInput {
  /** Program name (made DNS-safe) used for names, labels and image repositories. */
  program: string;
  /** The release version (artifactsVersion), as a label. */
  version: string;
  appImage: string; // sha256:...
  dispatcherImage?: string; // sha256:...
  publishReplicas: number;
  /** Port the app listens on ($PORT); the dispatcher listens on 80. */
  appPort?: number;
  healthPath?: string;
}

/** Lower-case DNS-1123 label: letters, digits and '-', at most 40 characters. */
export function dnsName(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return slug || 'program';
}

export function imageReference(program: string, name: string, digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`image ${name}: not a sha256 digest: ${digest}`);
  return `${IMAGE_REGISTRY}/${dnsName(program)}/${name}@${digest}`;
}

type Doc = Record<string, unknown>;

function container(name: string, image: string, port: number, healthPath: string, env: Record<string, string>): Doc {
  return {
    name,
    image,
    ports: [{ name: 'http', containerPort: port }],
    env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
    readinessProbe: { httpGet: { path: healthPath, port: 'http' }, periodSeconds: 2, failureThreshold: 2 },
  };
}

function podTemplate(labels: Record<string, string>, containers: Doc[]): Doc {
  return { metadata: { labels }, spec: { containers } };
}

function service(name: string, labels: Record<string, string>, selector: Record<string, string>, port: number): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: { selector, ports: [{ name: 'http', port, targetPort: 'http' }] },
  };
}

/** The manifest documents, in apply order. */
export function kubernetesDocuments(input: ManifestInput): Doc[] {
  if (!Number.isInteger(input.publishReplicas) || input.publishReplicas < 1) {
    throw new Error(`publishReplicas must be a positive integer, got ${input.publishReplicas}`);
  }
  const program = dnsName(input.program);
  const port = input.appPort ?? 8080;
  const health = input.healthPath ?? '/health';
  const app = imageReference(program, 'app', input.appImage);
  const common = { 'app.kubernetes.io/part-of': program, 'slipway.io/version': input.version };
  const roleLabels = (role: string): Record<string, string> => ({ ...common, 'app.kubernetes.io/component': role });
  const selector = (role: string): Record<string, string> => ({ 'app.kubernetes.io/part-of': program, 'app.kubernetes.io/component': role });

  const docs: Doc[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `${program}-author`, labels: roleLabels('author') },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector('author') },
        template: podTemplate(roleLabels('author'), [container('app', app, port, health, { PORT: String(port), SLIPWAY_RUNMODE: 'author' })]),
      },
    },
    service(`${program}-author`, roleLabels('author'), selector('author'), port),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: `${program}-publish`, labels: roleLabels('publish') },
      spec: {
        replicas: input.publishReplicas,
        serviceName: `${program}-publish`,
        selector: { matchLabels: selector('publish') },
        // One pod at a time, as the rolling deployment does with its publish/dispatcher pairs.
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        template: podTemplate(roleLabels('publish'), [container('app', app, port, health, { PORT: String(port), SLIPWAY_RUNMODE: 'publish' })]),
      },
    },
    service(`${program}-publish`, roleLabels('publish'), selector('publish'), port),
  ];
  if (input.dispatcherImage) {
    const dispatcher = imageReference(program, 'dispatcher', input.dispatcherImage);
    docs.push(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `${program}-dispatcher`, labels: roleLabels('dispatcher') },
        spec: {
          replicas: input.publishReplicas,
          selector: { matchLabels: selector('dispatcher') },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
          template: podTemplate(roleLabels('dispatcher'), [container('dispatcher', dispatcher, 80, health, {
            PUBLISH_BACKEND: `http://${program}-publish:${port}`,
          })]),
        },
      },
      service(`${program}-dispatcher`, roleLabels('dispatcher'), selector('dispatcher'), 80),
    );
  }
  return docs;
}

/** The manifests as one multi-document YAML file. */
export function kubernetesManifests(input: ManifestInput): string {
  return kubernetesDocuments(input).map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
}
