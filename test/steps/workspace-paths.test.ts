// The workspace is hostile after the build: paths that slipway.yaml names are resolved inside
// it (symlinks included), symlinks are packed as symlinks, and nothing outside is ever read.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackImage } from '../../src/artifacts/oci.ts';
import { readWorkspaceFile, resolveInWorkspace } from '../../src/runner/workspace-path.ts';
import { buildHandler } from '../../src/steps/build.ts';
import { makeStepContext, type TestStepContext } from '../support/step-context.ts';

const HOST_SECRET = 'host-secret-that-must-stay-put';
let root: string;
let outside: string;
const contexts: TestStepContext[] = [];
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-wspath-'));
  outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.key'), HOST_SECRET);
});
afterAll(() => {
  for (const ctx of contexts) ctx.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('resolveInWorkspace', () => {
  let ws: string;
  beforeAll(() => {
    ws = join(root, 'ws');
    mkdirSync(join(ws, 'dist', 'inner'), { recursive: true });
    writeFileSync(join(ws, 'dist', 'inner', 'a.txt'), 'a');
    symlinkSync('dist/inner', join(ws, 'inside-link'));
    symlinkSync(outside, join(ws, 'outside-dir'));
    symlinkSync(join(outside, 'secret.key'), join(ws, 'outside-file'));
    symlinkSync('../../outside/secret.key', join(ws, 'dist', 'relative-escape'));
    symlinkSync('loop', join(ws, 'loop'));
    execFileSync('mkfifo', [join(ws, 'fifo')]);
  });

  it('resolves paths and symlinks that stay inside', async () => {
    expect(await resolveInWorkspace(ws, 'dist/inner/a.txt')).toBe(join(ws, 'dist', 'inner', 'a.txt'));
    expect(await resolveInWorkspace(ws, 'inside-link')).toBe(join(ws, 'dist', 'inner'));
    expect(await readWorkspaceFile(ws, 'inside-link/a.txt')).toBe('a');
    expect(await resolveInWorkspace(ws, 'missing/x')).toBeUndefined();
  });

  it('refuses "..", absolute paths and symlinks that leave, a loop or a fifo', async () => {
    await expect(resolveInWorkspace(ws, '../outside')).rejects.toThrow(/not a path inside/);
    await expect(resolveInWorkspace(ws, '/etc')).rejects.toThrow(/not a path inside/);
    await expect(resolveInWorkspace(ws, 'outside-dir')).rejects.toThrow(/outside the workspace/);
    await expect(readWorkspaceFile(ws, 'outside-file')).rejects.toThrow(/outside the workspace/);
    await expect(readWorkspaceFile(ws, 'dist/relative-escape')).rejects.toThrow(/outside the workspace/);
    await expect(readWorkspaceFile(ws, 'outside-dir/secret.key')).rejects.toThrow(/outside the workspace/);
    await expect(resolveInWorkspace(ws, 'loop')).rejects.toThrow(/loop/);
    await expect(readWorkspaceFile(ws, 'fifo')).rejects.toThrow(/not a regular file/);
  });
});

describe('build step on a repository full of symlinks', () => {
  /** A bare repository whose one commit is written by `fill` into a work tree. */
  function repository(name: string, fill: (work: string) => void): string {
    git(root, 'init', '--quiet', '--bare', '-b', 'main', `${name}.git`);
    const url = `file://${join(root, `${name}.git`)}`;
    git(root, 'clone', '--quiet', url, `${name}-work`);
    const work = join(root, `${name}-work`);
    fill(work);
    git(work, 'checkout', '--quiet', '-B', 'main');
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', name);
    git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    return url;
  }
  async function build(url: string): Promise<TestStepContext> {
    const ctx = makeStepContext();
    contexts.push(ctx);
    ctx.repository.url = url;
    await buildHandler.run(ctx).then((r) => Object.assign(ctx.details, { result: r }));
    return ctx;
  }
  const contract = (output: string, extra = ''): string =>
    `build:\n  command: 'true'\napp:\n  output: ${output}\ndispatcher:\n  path: dispatcher\n${extra}`;
  const dispatcher = (work: string): void => {
    mkdirSync(join(work, 'dispatcher'));
    writeFileSync(join(work, 'dispatcher', 'dispatcher.yaml'), 'cache: []\n');
  };

  it('refuses an app.output that is a symlink out of the workspace', async () => {
    const url = repository('escape-output', (work) => {
      dispatcher(work);
      symlinkSync(outside, join(work, 'dist'));
      writeFileSync(join(work, 'slipway.yaml'), contract('dist'));
    });
    const ctx = await build(url);
    expect(ctx.details.result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/refused: "dist" leads outside the workspace/) });
    expect(ctx.recorded.map((a) => a.type)).not.toContain('BUILD_OUTPUT');
  });

  it('refuses a slipway.yaml or dispatcher package that links to a host file', async () => {
    const viaContract = await build(repository('escape-contract', (work) => {
      symlinkSync(join(outside, 'secret.key'), join(work, 'slipway.yaml'));
    }));
    expect(viaContract.details.result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/slipway.yaml.*outside the workspace/) });

    const viaDispatcher = await build(repository('escape-dispatcher', (work) => {
      mkdirSync(join(work, 'dist'));
      writeFileSync(join(work, 'dist', 'index.html'), 'hi');
      mkdirSync(join(work, 'dispatcher'));
      symlinkSync(join(outside, 'secret.key'), join(work, 'dispatcher', 'dispatcher.yaml'));
      writeFileSync(join(work, 'slipway.yaml'), contract('dist'));
    }));
    expect(viaDispatcher.details.result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/dispatcher.yaml.*outside the workspace/) });
    // The app output, packed while the dispatcher package was checked, is not recorded.
    expect(viaDispatcher.recorded.map((a) => a.type)).not.toContain('BUILD_OUTPUT');
    for (const ctx of [viaContract, viaDispatcher]) expect(ctx.log.text()).not.toContain(HOST_SECRET);
  });

  it('reads no report through a report directory that links out of the workspace', async () => {
    mkdirSync(join(outside, 'junit'), { recursive: true });
    writeFileSync(join(outside, 'junit', 'host.xml'), `<testsuite name="${HOST_SECRET}" tests="1" failures="1"><testcase name="${HOST_SECRET}"><failure/></testcase></testsuite>`);
    const ctx = await build(repository('escape-reports', (work) => {
      dispatcher(work);
      mkdirSync(join(work, 'dist'));
      writeFileSync(join(work, 'dist', 'index.html'), 'hi');
      // The globs' directories themselves are the links: a walk from them would read the host's files.
      symlinkSync(outside, join(work, 'reports'));
      writeFileSync(join(work, 'slipway.yaml'), contract('dist', "reports:\n  junit: ['reports/junit/*.xml']\n  coverage: ['reports/*.key']\n"));
    }));
    expect(ctx.details.result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    expect(ctx.recorded.map((a) => a.type)).not.toContain('TEST_RESULTS');
    expect(ctx.recorded.map((a) => a.type)).not.toContain('COVERAGE');
    expect(ctx.log.text()).not.toContain(HOST_SECRET);
  });

  it('packs symlinks inside outputs and test bundles as symlinks, never their targets', async () => {
    const ctx = await build(repository('links-packed', (work) => {
      dispatcher(work);
      mkdirSync(join(work, 'dist'));
      writeFileSync(join(work, 'dist', 'index.html'), 'hi');
      symlinkSync(join(outside, 'secret.key'), join(work, 'dist', 'key'));
      mkdirSync(join(work, 'tests', 'functional'), { recursive: true });
      symlinkSync(outside, join(work, 'tests', 'functional', 'data'));
      writeFileSync(join(work, 'tests', 'functional', 'run.mjs'), '');
      writeFileSync(join(work, 'slipway.yaml'), contract('dist', 'tests:\n  functional: { path: tests/functional, command: node run.mjs }\n'));
    }));
    expect(ctx.details.result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    for (const [type, link, target] of [['BUILD_OUTPUT', 'key', join(outside, 'secret.key')], ['FUNCTIONAL_TESTS', 'data', outside]] as const) {
      const artifact = ctx.recorded.find((a) => a.type === type);
      expect(artifact, type).toBeDefined();
      const dir = join(ctx.workDir, `unpacked-${type}`);
      await unpackImage(ctx.artifacts, artifact?.digest ?? '', dir);
      expect(lstatSync(join(dir, link)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, link))).toBe(target);
    }
    // No blob in the store holds the host file's content.
    const blobs = join(ctx.dataDir, 'artifacts', 'blobs', 'sha256');
    for (const name of execFileSync('ls', [blobs], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      expect(readFileSync(join(blobs, name), 'utf8')).not.toContain(HOST_SECRET);
    }
  });
});
