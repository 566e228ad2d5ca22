// functionalTest and uiTest with real bundles (OCI images in a real store), run in real test
// containers (podman, the test base image) and, forced, in the real sandbox, against real
// sample-site processes; uiTest with the real chromedriver and Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionalTest } from '../../src/steps/functional-test.ts';
import { uiTest } from '../../src/steps/ui-test.ts';
import { SAMPLE_SERVER, startNodeServer, staticView, type RunningApp } from '../support/static-topology.ts';
import type { TopologyView } from '../../src/topology/driver.ts';
import type { TestStepContext } from '../support/step-context.ts';
import { stageContext } from './stage-context.ts';
import { processesWith } from '../support/processes.ts';

const SAMPLE_TESTS = fileURLToPath(new URL('../../examples/sample-site/tests', import.meta.url));
const CONTRACT = {
  tests: {
    functional: { path: 'tests/functional', command: 'node run.mjs', timeoutMinutes: 2 },
    ui: { path: 'tests/ui', command: 'node run.mjs', timeoutMinutes: 2 },
  },
};

const FAILING_JUNIT = `<?xml version="1.0"?><testsuite name="broken" tests="2"><testcase name="works"/><testcase name="checkout button"><failure message="button missing"/></testcase></testsuite>`;

let author: RunningApp;
let publish: RunningApp;
let view: TopologyView;
let scratch: string;
const contexts: TestStepContext[] = [];

async function bundleDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

async function ctxFor(action: 'functionalTest' | 'uiTest', bundles: { type: string; dir: string }[], contract: unknown = CONTRACT): Promise<TestStepContext> {
  const ctx = await stageContext({ action, view, bundles, contract });
  contexts.push(ctx);
  return ctx;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'slipway-bundles-'));
  [author, publish] = await Promise.all([
    startNodeServer(SAMPLE_SERVER, { APP_MODE: 'author', APP_DATA_DIR: join(scratch, 'author-data') }),
    startNodeServer(SAMPLE_SERVER, { APP_MODE: 'publish', APP_DATA_DIR: join(scratch, 'publish-data') }),
  ]);
  view = staticView(author.url, publish.url);
});

afterAll(async () => {
  await Promise.all([author?.stop(), publish?.stop()]);
  for (const ctx of contexts) ctx.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('functionalTest', () => {
  it('passes the sample site functional bundle and stores its JUnit report', async () => {
    const ctx = await ctxFor('functionalTest', [{ type: 'FUNCTIONAL_TESTS', dir: join(SAMPLE_TESTS, 'functional') }]);
    const result = await functionalTest.run(ctx);
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    expect(ctx.recorded.filter((a) => a.type === 'TEST_RESULTS').map((a) => a.name)).toEqual(['functional.xml']);
    expect(ctx.log.text()).toContain(`functional tests against ${publish.url}`);
    expect(ctx.log.text()).toContain('functional tests run in a container');
  }, 120_000);

  it('reaches the environment under test and nothing else of the host', async () => {
    const other = createServer((_req, res) => res.end('host service'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    let hits = 0;
    other.on('request', () => { hits++; });
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    try {
      const dir = await bundleDir('network-functional', {
        'run.mjs': [
          "import { writeFileSync } from 'node:fs';",
          'const reach = (url) => fetch(url).then(() => true, () => false);',
          `const [publish, author, host] = await Promise.all([reach(process.env.AEM_PUBLISH_URL), reach(process.env.AEM_AUTHOR_URL), reach(${JSON.stringify(otherUrl)})]);`,
          "const fail = (ok, name) => ok ? `<testcase name=\"${name}\"/>` : `<testcase name=\"${name}\"><failure message=\"${name}\"/></testcase>`;",
          "writeFileSync(process.env.REPORTS_PATH + '/net.xml', `<testsuite name=\"net\" tests=\"3\">${fail(publish, 'publish reachable')}${fail(author, 'author reachable')}${fail(!host, 'host service unreachable')}</testsuite>`);",
        ].join('\n'),
      });
      const ctx = await ctxFor('functionalTest', [{ type: 'FUNCTIONAL_TESTS', dir }]);
      const result = await functionalTest.run(ctx);
      expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
      expect(hits).toBe(0);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('fails with the failing test named when a test fails', async () => {
    const dir = await bundleDir('failing-functional', {
      'run.mjs': `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.REPORTS_PATH + '/it.xml', ${JSON.stringify(FAILING_JUNIT)});\nif (!process.env.AEM_PUBLISH_URL || process.env.MY_VAR !== 'set') process.exit(7);\nprocess.exit(1);\n`,
    });
    const ctx = await ctxFor('functionalTest', [{ type: 'FUNCTIONAL_TESTS', dir }]);
    ctx.variables = { MY_VAR: 'set' };
    const result = await functionalTest.run(ctx);
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.reason).toContain('checkout button: button missing');
    expect(ctx.log.text()).toContain('exited with 1');
  });

  it('fails clearly when no report is written, and passes when there is no bundle', async () => {
    const dir = await bundleDir('silent-functional', { 'run.mjs': 'console.log("I test nothing")\n' });
    const silent = await functionalTest.run(await ctxFor('functionalTest', [{ type: 'FUNCTIONAL_TESTS', dir }]));
    expect(silent.outcome === 'failed' && silent.reason).toContain('no JUnit XML report');
    const none = await functionalTest.run(await ctxFor('functionalTest', []));
    expect(none).toMatchObject({ outcome: 'finished', details: { reason: 'no functional tests' } });
  });
});

describe('where there are no test containers', () => {
  it('runs the sample functional and UI bundles in the sandbox and says so', async () => {
    const previous = process.env.SLIPWAY_TEST_ISOLATION;
    process.env.SLIPWAY_TEST_ISOLATION = 'sandbox';
    try {
      const functional = await ctxFor('functionalTest', [{ type: 'FUNCTIONAL_TESTS', dir: join(SAMPLE_TESTS, 'functional') }]);
      expect(await functionalTest.run(functional), functional.log.text()).toMatchObject({ outcome: 'finished' });
      expect(functional.log.text()).toContain('functional tests run in the sandbox (SLIPWAY_TEST_ISOLATION=sandbox)');
      const ui = await ctxFor('uiTest', [{ type: 'UI_TESTS', dir: join(SAMPLE_TESTS, 'ui') }]);
      expect(await uiTest.run(ui), ui.log.text()).toMatchObject({ outcome: 'finished' });
      expect(ui.log.text()).toContain('UI tests run in the sandbox');
      expect(ui.recorded.filter((a) => a.type === 'UI_TEST_SCREENSHOT').length).toBeGreaterThanOrEqual(1);
    } finally {
      if (previous === undefined) delete process.env.SLIPWAY_TEST_ISOLATION;
      else process.env.SLIPWAY_TEST_ISOLATION = previous;
    }
  }, 90_000);
});

describe('uiTest', () => {
  it('is incomplete without a bundle or without the opt-in marker', async () => {
    expect(await uiTest.run(await ctxFor('uiTest', []))).toMatchObject({ outcome: 'incomplete' });
    const dir = await bundleDir('unmarked-ui', { 'run.mjs': 'process.exit(0)\n' });
    const result = await uiTest.run(await ctxFor('uiTest', [{ type: 'UI_TESTS', dir }]));
    expect(result.outcome).toBe('incomplete');
  });

  it('runs the sample UI tests through chromedriver and keeps their screenshots', async () => {
    const ctx = await ctxFor('uiTest', [{ type: 'UI_TESTS', dir: join(SAMPLE_TESTS, 'ui') }]);
    const result = await uiTest.run(ctx);
    expect(result, ctx.log.text()).toMatchObject({ outcome: 'finished' });
    expect(ctx.recorded.some((a) => a.type === 'UI_TEST_RESULTS')).toBe(true);
    expect(ctx.recorded.filter((a) => a.type === 'UI_TEST_SCREENSHOT').length).toBeGreaterThanOrEqual(1);
    // The bundle's own chromedriver ran inside its sandbox, not as root, and ended with the step.
    expect(ctx.log.text()).toContain('UI tests run in a container');
    const started = /chromedriver \d+ listening on http:\/\/127\.0\.0\.1:(\d+) as uid (\d+)/.exec(ctx.log.text());
    expect(started, ctx.log.text()).not.toBeNull();
    expect(Number(started?.[2])).not.toBe(0);
    expect(processesWith(`--port=${started?.[1]}`)).toEqual([]);
  }, 90_000);

  it('fails on a failing JUnit test although the process exits 0; uploads become screenshots', async () => {
    const dir = await bundleDir('failing-ui', {
      'testing.properties': 'ui-tests.version=1\n',
      'run.mjs': [
        "import { writeFileSync } from 'node:fs';",
        `writeFileSync(process.env.REPORTS_PATH + '/ui.xml', ${JSON.stringify(FAILING_JUNIT)});`,
        "const ready = await fetch(process.env.SELENIUM_BASE_URL + '/status').then((r) => r.json());",
        "if (!ready.value.ready) throw new Error('no chromedriver');",
        "const form = new FormData(); form.append('file', new Blob([Buffer.from('PNG-ish')]), 'failure.png');",
        "const res = await fetch(process.env.UPLOAD_URL, { method: 'POST', body: form });",
        "console.log('upload handle', res.status, await res.text());",
        'process.exit(0);',
      ].join('\n'),
    });
    const ctx = await ctxFor('uiTest', [{ type: 'UI_TESTS', dir }]);
    const result = await uiTest.run(ctx);
    expect(result.outcome, ctx.log.text()).toBe('failed');
    expect(result.outcome === 'failed' && result.reason).toContain('button missing');
    expect(ctx.log.text()).toMatch(/upload handle 200 [0-9a-f-]{36}/);
    expect(ctx.recorded.filter((a) => a.type === 'UI_TEST_SCREENSHOT').map((a) => a.name)).toEqual(['failure.png']);
  }, 60_000);
});
