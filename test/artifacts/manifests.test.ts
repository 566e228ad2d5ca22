import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { dnsName, imageReference, kubernetesDocuments, kubernetesManifests } from '../../src/artifacts/manifests.ts';

const app = `sha256:${'a'.repeat(64)}`;
const dispatcher = `sha256:${'d'.repeat(64)}`;

describe('kubernetesManifests', () => {
  it('writes author (1 replica), publish (N), dispatcher (N) and their services, images by digest', () => {
    const yaml = kubernetesManifests({ program: 'Harbour Outfitters!', version: '2026.102.030405.0000000042', appImage: app, dispatcherImage: dispatcher, publishReplicas: 3 });
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Deployment/harbour-outfitters-author', 'Service/harbour-outfitters-author',
      'StatefulSet/harbour-outfitters-publish', 'Service/harbour-outfitters-publish',
      'Deployment/harbour-outfitters-dispatcher', 'Service/harbour-outfitters-dispatcher',
    ]);
    expect(docs[0]?.spec.replicas).toBe(1);
    expect(docs[2]?.spec.replicas).toBe(3);
    expect(docs[4]?.spec.replicas).toBe(3);
    expect(yaml).toContain(`image: slipway.local/harbour-outfitters/app@${app}`);
    expect(yaml).toContain(`image: slipway.local/harbour-outfitters/dispatcher@${dispatcher}`);
    expect(yaml).toContain('slipway.io/version: 2026.102.030405.0000000042');
    expect(yaml).not.toMatch(/image: .*:latest/);
  });

  it('leaves the dispatcher out when there is no dispatcher image', () => {
    const kinds = kubernetesDocuments({ program: 'p', version: '1', appImage: app, publishReplicas: 1 }).map((d) => d.kind);
    expect(kinds).toEqual(['Deployment', 'Service', 'StatefulSet', 'Service']);
  });

  it('is a pure function of its input', () => {
    const input = { program: 'p', version: '1', appImage: app, dispatcherImage: dispatcher, publishReplicas: 2 };
    expect(kubernetesManifests(input)).toBe(kubernetesManifests({ ...input }));
  });

  it('refuses tags and bad replica counts', () => {
    expect(() => imageReference('p', 'app', 'latest')).toThrow(/digest/);
    expect(() => kubernetesDocuments({ program: 'p', version: '1', appImage: app, publishReplicas: 0 })).toThrow(/publishReplicas/);
    expect(dnsName('---')).toBe('program');
  });
});
