// The build and buildImage handlers on a small real git repository: real git, real bwrap, real npm.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_TYPES } from '../../src/artifacts/artifact-types.ts';
import { readImageConfig, unpackImage } from '../../src/artifacts/oci.ts';
import { buildCacheDir, clearBuildCache } from '../../src/runner/build-cache.ts';
import { makeBuildImageHandler } from '../../src/steps/build-image.ts';
import type { Environment } from '../../src/domain/model.ts';
import { buildHandler } from '../../src/steps/build.ts';
import type { ExecutionArtifact } from '../../src/steps/handler.ts';
import { makeStepContext, type TestStepContext } from '../support/step-context.ts';

let root: string;
let url: string;
const contexts: TestStepContext[] = [];
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

const TEST_SCRIPT = `
import { mkdirSync, writeFileSync } from 'node:fs';
const fail = process.argv[2] === 'fail';
mkdirSync('reports/junit', { recursive: true });
mkdirSync('coverage', { recursive: true });
const cases = '<testcase classname="math" name="adds"/>' +
  (fail ? '<testcase classname="math" name="divides"><failure message="expected 2, got 3">boom</failure></testcase>' : '');
writeFileSync('reports/junit/unit.xml', '<?xml version="1.0"?><testsuites><testsuite name="math" tests="2">' + cases + '</testsuite></testsuites>');
writeFileSync('coverage/lcov.info', 'SF:src/app.js\\nLF:2\\nLH:2\\nend_of_record\\n');
console.log('CM_BUILD=' + process.env.CM_BUILD + ' BRANCH=' + process.env.BRANCH + ' VERSION=' + process.env.ARTIFACTS_VERSION);
console.log('secret is ' + process.env.MY_SECRET);
console.error('home is ' + process.env.HOME);
process.exit(fail ? 1 : 0);
`;

const BUILD_COMMANDS = {
  ok: 'npm test && npm run build',
  fail: 'npm test && npm run build',
  broken: "echo 'about to fail'; exit 7",
  slow: 'echo started; sleep 60',
} as const;

function commitFixture(work: string, branch: string, variant: 'ok' | 'fail' | 'broken' | 'slow'): void {
  mkdirSync(join(work, 'src'), { recursive: true });
  mkdirSync(join(work, 'dispatcher'), { recursive: true });
  mkdirSync(join(work, 'tests', 'functional'), { recursive: true });
  writeFileSync(join(work, 'package.json'), JSON.stringify({
    name: 'fixture', version: '1.4.0', type: 'module', private: true,
    scripts: { test: `node test.mjs ${variant === 'fail' ? 'fail' : 'ok'}`, build: 'node build.mjs' },
  }));
  writeFileSync(join(work, 'test.mjs'), TEST_SCRIPT);
  writeFileSync(join(work, 'build.mjs'), "import { cpSync } from 'node:fs'; cpSync('src', 'dist/src', { recursive: true }); cpSync('package.json', 'dist/package.json');\n");
  writeFileSync(join(work, 'src', 'app.js'), 'export const ok = true;\n');
  writeFileSync(join(work, 'dispatcher', 'dispatcher.yaml'), "cache:\n  - match: '^/assets/'\n    ttlSeconds: 60\n");
  writeFileSync(join(work, 'tests', 'functional', 'run.mjs'), 'console.log("functional");\n');
  writeFileSync(join(work, 'slipway.yaml'), [
    'build:',
    `  command: ${BUILD_COMMANDS[variant]}`,
    '  timeoutMinutes: 2',
    'app:',
    '  output: dist',
    '  start: node src/app.js',
    'dispatcher:',
    '  path: dispatcher',
    'tests:',
    '  functional:',
    '    path: tests/functional',
    '    command: node run.mjs',
    '',
  ].join('\n'));
  git(work, 'checkout', '--quiet', '-B', branch);
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '--allow-empty', '-m', variant);
  git(work, 'push', '--quiet', '--force', 'origin', `HEAD:${branch}`);
}

/** A branch whose build puts a package into npm's cache, and shows what the cache holds. */
function commitCacheFixture(work: string): void {
  git(work, 'checkout', '--quiet', '-B', 'cache');
  git(work, 'rm', '-r', '--quiet', '.');
  mkdirSync(join(work, 'dep'), { recursive: true });
  writeFileSync(join(work, 'dep', 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
  writeFileSync(join(work, 'slipway.yaml'), [
    'build:',
    '  command: >-',
    '    npm cache verify &&',
    '    cd dep && npm pack --silent --pack-destination "$TMPDIR" && npm cache add "$TMPDIR/dep-1.0.0.tgz"',
    '  timeoutMinutes: 2',
    '',
  ].join('\n'));
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'cache');
  git(work, 'push', '--quiet', '--force', 'origin', 'HEAD:cache');
}

function context(branch: string, extra: Parameters<typeof makeStepContext>[0] = {}): TestStepContext {
  const ctx = makeStepContext({ variables: { MY_SECRET: 's3cr3t-Value' }, secrets: ['s3cr3t-Value'], ...extra });
  ctx.repository.url = url;
  ctx.pipeline.branch = branch;
  contexts.push(ctx);
  return ctx;
}

function byType(artifacts: ExecutionArtifact[], type: string): ExecutionArtifact[] {
  return artifacts.filter((a) => a.type === type);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-build-'));
  git(root, 'init', '--quiet', '--bare', '-b', 'main', 'repo.git');
  url = `file://${join(root, 'repo.git')}`;
  const work = join(root, 'work');
  git(root, 'clone', '--quiet', url, 'work');
  commitFixture(work, 'main', 'ok');
  commitFixture(work, 'failing', 'fail');
  commitFixture(work, 'broken', 'broken');
  commitFixture(work, 'slow', 'slow');
  commitCacheFixture(work);
});
afterAll(() => {
  for (const ctx of contexts) ctx.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('build step', () => {
  let built: TestStepContext;

  it('builds the branch commit in the sandbox, streams a masked log and records the artifacts', async () => {
    built = context('main');
    const result = await buildHandler.run(built);
    const log = built.log.text();
    expect(result, log).toMatchObject({ outcome: 'finished' });
    expect(built.details.commitId).toBe(git(join(root, 'work'), 'rev-parse', 'main'));
    expect(built.details.artifactsVersion).toBe('2026.102.030405.0000000042');
    expect(built.details.tests).toEqual({ total: 1, failures: 0, errors: 0, skipped: 0 });
    expect(log).toContain('CM_BUILD=true BRANCH=main VERSION=2026.102.030405.0000000042');
    expect(log).toContain('secret is ****');
    expect(log).not.toContain('s3cr3t-Value');
    expect(log).toContain(`home is ${join(built.workDir, 'home')}`);

    const types = built.recorded.map((a) => a.type).sort();
    expect(types).toEqual([
      'BUILD_OUTPUT', 'CONTRACT', 'COVERAGE', 'DISPATCHER_PACKAGE', 'FUNCTIONAL_TESTS', 'SOURCE', 'TEST_RESULTS',
    ]);
    expect(byType(built.recorded, ARTIFACT_TYPES.TEST_RESULTS)[0]?.name).toBe('reports/junit/unit.xml');
    const contract = JSON.parse((await built.artifacts.read(byType(built.recorded, 'CONTRACT')[0]?.digest ?? '')).toString()) as { app: { start: string } };
    expect(contract.app.start).toBe('node src/app.js');

    const source = join(built.workDir, 'check-source');
    await unpackImage(built.artifacts, byType(built.recorded, 'SOURCE')[0]?.digest ?? '', source);
    expect(readFileSync(join(source, 'src', 'app.js'), 'utf8')).toContain('ok = true');
    expect(() => readFileSync(join(source, '.git', 'HEAD'))).toThrow();
    expect(() => readFileSync(join(source, 'dist', 'package.json'))).toThrow(); // before the build

    const output = join(built.workDir, 'check-output');
    await unpackImage(built.artifacts, byType(built.recorded, 'BUILD_OUTPUT')[0]?.digest ?? '', output);
    expect(JSON.parse(readFileSync(join(output, 'package.json'), 'utf8'))).toMatchObject({ version: '1.4.0' });
  });

  it('makes reproducible app and dispatcher images, their registry references and manifests per environment in buildImage', async () => {
    // The test context's pipeline targets stage 21 and prod 22.
    const environments: Record<string, Environment> = Object.fromEntries([['21', 'stage', 2], ['22', 'prod', 3]].map(([id, type, n]) => [id, {
      id: String(id), programId: '7', name: `site-${type}`, description: '', type: type as Environment['type'], status: 'ready', region: 'local',
      settings: { publishCount: Number(n) }, createdAt: new Date(0), updatedAt: new Date(0),
    }]));
    const handler = makeBuildImageHandler({ environment: async (id) => environments[id], publicUrl: () => 'http://127.0.0.1:8080/slipway' });
    const run = async (from: TestStepContext): Promise<TestStepContext> => {
      const ctx = context('main', {
        artifacts: from.artifacts,
        priorArtifacts: from.recorded,
        execution: { ...built.execution, steps: [{ ...built.step, details: { ...built.details } }] },
      });
      const result = await handler.run(ctx);
      expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
      return ctx;
    };
    const first = await run(built);
    const images = first.details.images as { name: string; digest: string; reference: string }[];
    expect(images.map((i) => i.name)).toEqual(['app', 'dispatcher']);
    for (const image of images) {
      expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(image.reference).toBe(`127.0.0.1:8080/${first.program.id}/${image.name}@${image.digest}`);
    }
    const [app, dispatcher] = images;
    if (!app || !dispatcher) throw new Error('images missing');
    expect(first.recorded.map((a) => `${a.type} ${a.name}`).sort()).toEqual([
      'APP_IMAGE app', 'DISPATCHER_IMAGE dispatcher', 'K8S_MANIFESTS kubernetes-prod.yaml', 'K8S_MANIFESTS kubernetes-stage.yaml',
    ]);

    const config = await readImageConfig(first.artifacts, app.digest);
    expect(config.config.Cmd).toEqual(['/bin/sh', '-c', 'node src/app.js']);
    // The version label is the execution's artifacts version (the app's own is in package.json).
    expect(config.config.Labels?.['org.opencontainers.image.version']).toBe(built.details.artifactsVersion);
    expect(built.details.artifactsVersion).toMatch(/^\d{4}\.\d+\.\d{6}\.\d{10}$/);
    expect(config.config.Labels?.['org.opencontainers.image.revision']).toBe(built.details.commitId);
    const manifest = async (name: string) => (await first.artifacts.read(first.recorded.find((a) => a.name === name)?.digest ?? '')).toString();
    const prod = await manifest('kubernetes-prod.yaml');
    expect(prod).toContain(`image: ${app.reference}`);
    expect(prod).toContain(`image: ${dispatcher.reference}`);
    // The environments' own node counts: 1 author + 3 publish on prod, 1 + 2 on stage.
    expect(prod.match(new RegExp(`image: ${app.reference}`, 'g'))?.length).toBe(4);
    expect((await manifest('kubernetes-stage.yaml')).match(new RegExp(`image: ${app.reference}`, 'g'))?.length).toBe(3);
    // The repository's dispatcher.yaml is in the dispatchers' VCL.
    expect(prod).toContain('{"^/assets/"}');

    // A second, independent build of the same commit gives the same image digests.
    const rebuilt = context('main');
    expect((await buildHandler.run(rebuilt)).outcome).toBe('finished');
    const second = await run(rebuilt);
    expect(second.details.images).toEqual(images);
  });

  it('fails with the names of the failed unit tests', async () => {
    const ctx = context('failing');
    const result = await buildHandler.run(ctx);
    expect(result).toMatchObject({ outcome: 'failed', reason: '1 unit test failed: math › divides' });
    // The reports of a failed build are kept; its outputs are not.
    expect(ctx.recorded.map((a) => a.type)).toContain('TEST_RESULTS');
    expect(ctx.recorded.map((a) => a.type)).not.toContain('BUILD_OUTPUT');
  });

  it('fails with the exit code of a failing build command', async () => {
    const ctx = context('broken');
    const result = await buildHandler.run(ctx);
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result.outcome === 'failed' && result.reason).toMatch(/exit code 7/);
    expect(ctx.log.text()).toContain('about to fail');
  });

  it('stops the build when cancelled', async () => {
    const controller = new AbortController();
    const ctx = context('slow', { signal: controller.signal });
    const running = buildHandler.run(ctx);
    const deadline = Date.now() + 30_000;
    while (!ctx.log.text().includes('started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const cancelledAt = Date.now();
    controller.abort();
    await expect(running).rejects.toThrow(/cancelled/);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
  });

  it('fails for a branch that does not exist', async () => {
    const result = await buildHandler.run(context('no-such-branch'));
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/no-such-branch/) });
  });

  it("keeps npm's cache in the pipeline's build cache, across builds, until it is cleared", async () => {
    const first = context('cache');
    const result = await buildHandler.run(first);
    expect(result, first.log.text()).toMatchObject({ outcome: 'finished' });
    expect(first.log.text()).toMatch(/Content verified: 0 /);
    const cache = buildCacheDir(first.dataDir, first.pipeline.id);
    expect(readdirSync(join(cache, 'npm', '_cacache')).length).toBeGreaterThan(0);

    const second = context('cache', { dataDir: first.dataDir });
    expect((await buildHandler.run(second)).outcome).toBe('finished');
    expect(second.log.text()).toMatch(/Content verified: 1 /);

    await clearBuildCache(first.dataDir, first.pipeline.id);
    expect(existsSync(cache)).toBe(false);
    const third = context('cache', { dataDir: first.dataDir });
    expect((await buildHandler.run(third)).outcome).toBe('finished');
    expect(third.log.text()).toMatch(/Content verified: 0 /);
  });

  it('re-uses the source execution artifacts on RE_EXECUTE without building', async () => {
    const prior: ExecutionArtifact[] = [{ digest: `sha256:${'b'.repeat(64)}`, type: 'APP_IMAGE', name: 'app', size: 10, stepId: 'old' }];
    const ctx = context('no-such-branch', { priorArtifacts: prior });
    ctx.execution.trigger = 'RE_EXECUTE';
    ctx.execution.sourceExecutionId = '41';
    const result = await buildHandler.run(ctx);
    expect(result.outcome).toBe('finished');
    expect(ctx.log.text()).toContain('artifacts of execution 41 are reused by reference');
    expect(ctx.log.text()).toContain('b'.repeat(64));
    expect(ctx.recorded).toEqual([]);
  });

  it('names the commit the reused build was made from (its app image\'s revision), not the branch head', async () => {
    const ctx = context('no-such-branch');
    const commit = 'c0ffee'.padEnd(40, '0');
    const config = await ctx.artifacts.putBytes(JSON.stringify({ config: { Labels: { 'org.opencontainers.image.revision': commit } } }));
    const manifest = await ctx.artifacts.putBytes(JSON.stringify({
      schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size }, layers: [],
    }));
    const reuse = context('no-such-branch', { dataDir: ctx.dataDir, priorArtifacts: [{ ...manifest, type: 'APP_IMAGE', name: 'app', stepId: 'old' }] });
    reuse.execution.trigger = 'RE_EXECUTE';
    const result = await buildHandler.run(reuse);
    expect(result).toMatchObject({ outcome: 'finished', details: { commitId: commit } });
  });
});
