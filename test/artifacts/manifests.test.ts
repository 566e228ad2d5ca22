// The Kubernetes manifests, validated against the official Kubernetes schemas (kubernetes-models:
// the OpenAPI definitions of Kubernetes compiled to JSON-schema validators, offline). No cluster
// runs here; what a cluster would refuse for its shape, these tests refuse too.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { dnsName, IN_ROTATION_LABEL, kubernetesDocuments, kubernetesManifests, type ManifestInput } from '../../src/artifacts/manifests.ts';
import { parseDispatcherPackage } from '../../src/domain/contract.ts';

const app = `127.0.0.1:8080/7/app@sha256:${'a'.repeat(64)}`;
const dispatcher = `127.0.0.1:8080/7/dispatcher@sha256:${'d'.repeat(64)}`;
const input: ManifestInput = {
  program: { id: '7', name: 'Harbour Outfitters!' },
  environment: { id: '22', name: 'harbour-prod', type: 'prod', publishCount: 3 },
  version: '2026.102.030405.0000000042',
  appImage: app,
  dispatcherImage: dispatcher,
  dispatcherPackage: parseDispatcherPackage({ cache: [{ match: '^/assets/', ttlSeconds: 60 }], deny: ['^/admin'] }),
  appPort: 8080,
  healthPath: '/healthz',
};

type K8sDoc = {
  apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, any>; data?: Record<string, string>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

const MODELS: Record<string, { validate(): void }> = {};
/** Validates one document against the schema of its kind (throws with the schema's message). */
function validate(doc: K8sDoc): void {
  const model = doc.kind === 'Deployment' ? new Deployment(doc as never)
    : doc.kind === 'Service' ? new Service(doc as never)
      : doc.kind === 'ConfigMap' ? new ConfigMap(doc as never) : undefined;
  if (!model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  MODELS[doc.kind] = model;
  model.validate();
  // The API server also checks names, which the schemas do not: DNS-1035 labels for Services.
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(doc.metadata.name)) throw new Error(`bad name ${doc.metadata.name}`);
}

function parse(yaml: string): K8sDoc[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as K8sDoc);
}

describe('kubernetesManifests', () => {
  it('passes the official Kubernetes schemas, every document', () => {
    const docs = parse(kubernetesManifests(input));
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) validate(doc);
    expect(Object.keys(MODELS).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
  });

  it('fails the schemas when a field has the wrong type (the validation is real)', () => {
    const docs = parse(kubernetesManifests(input));
    const deployment = docs.find((d) => d.kind === 'Deployment');
    if (!deployment?.spec) throw new Error('no deployment');
    deployment.spec.replicas = 'one';
    expect(() => validate(deployment)).toThrow(/replicas/);
    const service = docs.find((d) => d.kind === 'Service');
    if (!service?.spec) throw new Error('no service');
    service.spec.ports[0].port = '80';
    expect(() => validate(service)).toThrow(/port/);
    const probe = docs.find((d) => d.kind === 'Deployment');
    if (!probe?.spec) throw new Error('no deployment');
    probe.spec.template.spec.containers[0].readinessProbe.periodSeconds = 'often';
    expect(() => validate(probe)).toThrow(/periodSeconds/);
  });

  it('has a Deployment and a Service per node, the environment\'s counts, and a load balancer', () => {
    const docs = parse(kubernetesManifests(input));
    const names = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    const base = 'harbour-outfitters-prod';
    expect(names).toEqual([
      `ConfigMap/${base}-vcl`,
      `Deployment/${base}-author`, `Service/${base}-author`,
      ...[1, 2, 3].flatMap((i) => [
        `Deployment/${base}-publish-${i}`, `Service/${base}-publish-${i}`,
        `Deployment/${base}-dispatcher-${i}`, `Service/${base}-dispatcher-${i}`,
      ]),
      `Service/${base}`,
    ]);
    for (const d of docs.filter((x) => x.kind === 'Deployment')) expect(d.spec?.replicas).toBe(1);
    const lb = docs.at(-1);
    expect(lb?.spec?.type).toBe('LoadBalancer');
    expect(lb?.spec?.selector).toEqual({ 'io.slipway.environment': '22', 'app.kubernetes.io/component': 'dispatcher', [IN_ROTATION_LABEL]: 'true' });
    // Every dispatcher pod is selected by the load balancer; no publish or author pod is.
    for (const d of docs.filter((x) => x.kind === 'Deployment')) {
      const labels = d.spec?.template.metadata.labels as Record<string, string>;
      const selected = Object.entries(lb?.spec?.selector as Record<string, string>).every(([k, v]) => labels[k] === v);
      expect([d.metadata.name, selected]).toEqual([d.metadata.name, d.metadata.name.includes('-dispatcher-')]);
      // Each Deployment's selector picks its own pods only (labels of one node).
      expect(Object.entries(d.spec?.selector.matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v)).toBe(true);
      expect(labels['io.slipway.version']).toBe(input.version);
    }
  });

  it('runs the images by digest with probes on the health path, resources and the VCL per dispatcher', () => {
    const docs = parse(kubernetesManifests(input));
    const byName = new Map(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d]));
    const publish = byName.get('Deployment/harbour-outfitters-prod-publish-2')?.spec?.template.spec;
    const container = publish?.containers[0];
    expect(container.image).toBe(app);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.resources.limits.memory).toBe('2Gi');
    expect(container.env).toContainEqual({ name: 'APP_MODE', value: 'publish' });
    expect(container.env).toContainEqual({ name: 'PORT', value: '8080' });

    const dispatcherPod = byName.get('Deployment/harbour-outfitters-prod-dispatcher-2')?.spec?.template.spec;
    expect(dispatcherPod.containers[0].image).toBe(dispatcher);
    expect(dispatcherPod.volumes[0].configMap).toEqual({ name: 'harbour-outfitters-prod-vcl', items: [{ key: 'dispatcher-2.vcl', path: 'default.vcl' }] });
    const vcl = byName.get('ConfigMap/harbour-outfitters-prod-vcl')?.data?.['dispatcher-2.vcl'] ?? '';
    // Dispatcher 2 fronts publish 2, through its Service; the package's rules are in its VCL.
    expect(vcl).toContain('.host = "harbour-outfitters-prod-publish-2"');
    expect(vcl).not.toContain('127.0.0.1');
    expect(vcl).toContain('{"^/assets/"}');
    expect(vcl).toContain('{"^/admin"}');
    expect(vcl).toContain('.url = {"/healthz"}');
    const yaml = kubernetesManifests(input);
    expect(yaml).not.toMatch(/image: .*:latest/);
    expect(yaml.match(/@sha256:/g)?.length).toBe(1 + 3 + 3);
  });

  it('holds VCL that Varnish compiles (with the Service name resolvable)', async () => {
    const docs = parse(kubernetesManifests(input));
    const vcl = docs.find((d) => d.kind === 'ConfigMap')?.data?.['dispatcher-1.vcl'] ?? '';
    // varnishd resolves backend hosts while compiling; the cluster's Service name does not resolve here.
    const local = vcl.replaceAll('"harbour-outfitters-prod-publish-1"', '"localhost"');
    expect(local).not.toBe(vcl);
    const dir = mkdtempSync(join(tmpdir(), 'slw-k8s-vcl-'));
    try {
      writeFileSync(join(dir, 'default.vcl'), local);
      const { stdout, stderr } = await promisify(execFile)('varnishd', ['-j', 'none', '-C', '-f', join(dir, 'default.vcl'), '-n', join(dir, 'w')],
        { maxBuffer: 64 * 1024 * 1024 });
      expect(`${stdout}${stderr}`).toContain('VGC_function_vcl_recv');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a dispatcher image, the load balancer fronts the publish nodes', () => {
    const docs = kubernetesDocuments({ ...input, dispatcherImage: undefined, environment: { ...input.environment, publishCount: 1 } }) as K8sDoc[];
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Service', 'Deployment', 'Service', 'Service']);
    expect(docs.at(-1)?.spec?.selector['app.kubernetes.io/component']).toBe('publish');
    for (const doc of docs) validate(doc);
  });

  it('is a pure function of its input, and refuses tags and bad counts', () => {
    expect(kubernetesManifests(input)).toBe(kubernetesManifests({ ...input }));
    expect(() => kubernetesDocuments({ ...input, appImage: '127.0.0.1:8080/7/app:latest' })).toThrow(/digest/);
    expect(() => kubernetesDocuments({ ...input, environment: { ...input.environment, publishCount: 0 } })).toThrow(/publishCount/);
    expect(dnsName('---')).toBe('program');
    expect(dnsName('1 Shop')).toBe('shop');
  });
});
