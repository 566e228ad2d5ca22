// Pushing to a configured registry: a real registry (Debian's docker-registry, the reference
// implementation of the Distribution API) with password authentication, skopeo pushing, and
// skopeo reading back what was pushed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import { buildImage } from '../../src/artifacts/oci.ts';
import { pushImage, type PushRegistry } from '../../src/artifacts/push.ts';
import type { Environment } from '../../src/domain/model.ts';
import { freePort } from '../../src/runner/free-port.ts';
import { makeBuildImageHandler } from '../../src/steps/build-image.ts';
import { makeStepContext } from '../support/step-context.ts';

const run = promisify(execFile);
const USER = 'pusher';
const PASSWORD = 'push-secret';
/** bcrypt of PASSWORD (the registry's htpasswd format). */
const HTPASSWD = `${USER}:$2b$04$QtyLOZBrh/DFUMvnoqM4qeA4VQuN/dKmPHiJ35gJm1641zlqUUtb.\n`;

let dir: string;
let registryProcess: ChildProcess | undefined;
let location: string;
let target: PushRegistry;
let store: FsArtifactStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-push-'));
  const port = await freePort();
  location = `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'htpasswd'), HTPASSWD);
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'registry')} } }`,
    `http: { addr: "${location}" }`,
    `auth: { htpasswd: { realm: test, path: ${join(dir, 'htpasswd')} } }`,
  ].join('\n'));
  registryProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await fetch(`http://${location}/v2/`).then((r) => r.status, () => 0);
    if (status === 401) break;
    if (Date.now() > deadline) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const authFile = join(dir, 'auth.json');
  writeFileSync(authFile, JSON.stringify({ auths: { [location]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
  target = { location: `${location}/team`, tlsVerify: false, authFile };
  store = new FsArtifactStore(join(dir, 'data'));
});

afterAll(() => {
  registryProcess?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function imageOf(text: string): Promise<{ digest: string; size: number }> {
  const tree = join(dir, `tree-${text}`);
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'index.html'), text);
  return buildImage(store, { dir: tree, config: { labels: { 'io.slipway.test': text } } });
}

async function inspect(reference: string): Promise<{ Digest: string; Labels: Record<string, string> }> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${reference}`]);
  return JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> };
}

describe('pushing to a configured registry', () => {
  it('pushes an image with its digest unchanged, under the artifacts version as tag', async () => {
    const image = await imageOf('pushed');
    const reference = await pushImage(store, target, { repository: '7/app', digest: image.digest, tag: '2026.335.1' });
    expect(reference).toBe(`${location}/team/7/app@${image.digest}`);
    expect((await inspect(reference)).Digest).toBe(image.digest);
    expect((await inspect(`${location}/team/7/app:2026.335.1`)).Labels['io.slipway.test']).toBe('pushed');
  });

  it('fails with the registry\'s reason when the credentials are missing', async () => {
    const image = await imageOf('refused');
    await expect(pushImage(store, { ...target, authFile: undefined }, { repository: '7/app', digest: image.digest, tag: 'x1' }))
      .rejects.toThrow(/pushing 7\/app to .* failed: .*(unauthorized|authentication required)/i);
  });

  it('makes buildImage list the pushed references, and the manifests name them', async () => {
    const output = await imageOf('build output');
    const prod: Environment = {
      id: '22', programId: '7', name: 'site-prod', description: '', type: 'prod', status: 'ready', region: 'local',
      settings: { publishCount: 2 }, createdAt: new Date(0), updatedAt: new Date(0),
    };
    const handler = makeBuildImageHandler({ environment: async (id) => (id === prod.id ? prod : undefined), pushTo: () => target });
    const ctx = makeStepContext({ artifacts: store, priorArtifacts: [{ ...output, type: ARTIFACT_TYPES.BUILD_OUTPUT, name: 'output', stepId: 's0' }] });
    try {
      const result = await handler.run(ctx);
      expect(result.outcome, ctx.log.text()).toBe('finished');
      const [app] = ctx.details.images as { name: string; digest: string; reference: string }[];
      expect(app?.reference).toBe(`${location}/team/${ctx.program.id}/app@${app?.digest}`);
      expect((await inspect(app?.reference ?? '')).Digest).toBe(app?.digest);
      const manifests = ctx.recorded.find((a) => a.name === 'kubernetes-prod.yaml');
      expect((await store.read(manifests?.digest ?? '')).toString()).toContain(`image: ${app?.reference}`);
    } finally {
      ctx.cleanup();
    }
  });
});
