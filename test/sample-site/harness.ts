// Helpers for the sample-site tests: temp copies of the site, running its commands, starting
// the app and chromedriver on ephemeral ports, reading JUnit reports. Every process started here
// is tracked and stopped by PID.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { copySampleSite } from '../support/sample-repo.ts';
import type { SampleVariant } from '../support/sample-repo.ts';
import { freePort } from '../../src/runner/free-port.ts';

export interface RunResult { code: number | null; stdout: string; stderr: string }

const tempDirs: string[] = [];
const children = new Set<ChildProcess>();

/** A fresh copy of the sample site (with variants applied) in a temp directory. */
export async function sampleCopy(variant: SampleVariant | SampleVariant[] = 'default'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sample-site-'));
  tempDirs.push(dir);
  await copySampleSite(dir, variant);
  return dir;
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Stops every process still running and removes the temp directories. */
export async function cleanUp(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Environment for child processes: ours, minus anything npm or vitest put there for us. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_OPTIONS$|NODE_TEST_CONTEXT$|VITEST|TEST$|NODE_ENV$)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

export function runCommand(cwd: string, command: string, args: string[], env: Record<string, string> = {},
  timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export interface RunningSite {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Starts `node src/server.js` in `dir` on an ephemeral port; resolves once it listens. */
export async function startSite(dir: string, env: Record<string, string> = {}): Promise<RunningSite> {
  const child = track(spawn(process.execPath, ['src/server.js'], {
    cwd: dir, env: childEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`site did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`site exited (${code}):\n${output}`)); });
  });
  return {
    url,
    child,
    output: () => output,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}


/** Starts Debian's chromedriver on a free port and waits until /status says ready. */
export async function startChromedriver(): Promise<{ url: string; stop: () => Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = track(spawn('/usr/bin/chromedriver', [`--port=${port}`, '--allowed-ips=127.0.0.1'],
      { stdio: 'ignore', env: childEnv({}) }));
    const url = `http://127.0.0.1:${port}`;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const ready = await fetch(`${url}/status`).then(async (r) => (await r.json() as { value?: { ready?: boolean } }).value?.ready)
        .catch(() => false);
      if (ready) return { url, stop: async () => { child.kill('SIGTERM'); await exited; } };
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    if (attempt >= 2) throw new Error('chromedriver did not become ready');
  }
}

export interface JUnitSummary { tests: number; failures: number; skipped: number; names: string[]; failed: string[] }

/** Counts the test cases of a JUnit XML report (Node's reporter or the bundles' writer). */
export function summariseJUnit(xml: string): JUnitSummary {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) =>
    ['testsuite', 'testcase'].includes(name) });
  const cases: Array<Record<string, unknown>> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(visit); return; }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'testcase') cases.push(...(value as Array<Record<string, unknown>>));
      else visit(value);
    }
  };
  visit(parser.parse(xml));
  const failed = cases.filter((c) => 'failure' in c || 'error' in c);
  return {
    tests: cases.length,
    failures: failed.length,
    skipped: cases.filter((c) => 'skipped' in c).length,
    names: cases.map((c) => String(c.name)),
    failed: failed.map((c) => String(c.name)),
  };
}

/** Line coverage (LH/LF) of an lcov file, and the source files it covers. */
export function lcovLineCoverage(lcov: string): { ratio: number; files: string[] } {
  let hit = 0;
  let found = 0;
  for (const m of lcov.matchAll(/^LH:(\d+)$/gm)) hit += Number(m[1]);
  for (const m of lcov.matchAll(/^LF:(\d+)$/gm)) found += Number(m[1]);
  return { ratio: found === 0 ? 0 : hit / found, files: [...lcov.matchAll(/^SF:(.+)$/gm)].map((m) => m[1] ?? '') };
}
