// Lighthouse 12 in a child process (lighthouse-child.mjs) started through the sandbox: the
// audited pages are repository content, so their browser runs as the unprivileged user and
// reaches only the stage environment's ports; and a crash, hang or stray rejection of
// Lighthouse ends the child, never Slipway. One Chromium serves every run of a step (launching
// costs about half a second); its profile is fresh, so no cache or cookie leaks in.
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIT_CATEGORIES, toPercent, type CategoryScores } from '../../domain/audit-compare.ts';
import { nodeScriptCommand, SCRIPT_READ_ONLY_PATHS } from '../../runner/node-script.ts';
import { runSandboxed } from '../../runner/sandbox.ts';
import { sandboxPath } from '../build-env.ts';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './browser.ts';

/** The child's script; the audit benchmark also runs it outside the sandbox, as its peer. */
export const LIGHTHOUSE_CHILD = fileURLToPath(new URL('./lighthouse-child.mjs', import.meta.url));
/** A Lighthouse result is a few hundred KB; anything far larger is not one. */
const MAX_REPORT_BYTES = 32 * 1024 * 1024;
/** Per run, generous: a run takes about 7 s here; the child is killed after runs × this. */
const RUN_BUDGET_MS = 90_000;

/** Kept for the audit benchmark, which launches the same browser outside a step. */
export const AUDIT_CHROME_FLAGS = CHROMIUM_FLAGS;

/**
 * Lighthouse's settings for every run (the benchmark's bare runs use them too). Without the
 * full-page screenshot (the element thumbnails of Lighthouse's own report viewer; no score
 * reads it): it costs about a second of a run's seven here, in a step that waits for
 * pages × runs of them.
 */
export const AUDIT_SETTINGS = { onlyCategories: [...AUDIT_CATEGORIES], disableFullPageScreenshot: true };

export interface LighthouseRun {
  scores: CategoryScores;
  /** The raw Lighthouse result (LHR) as JSON text. */
  json: string;
  timeMs: number;
  /** Set when Lighthouse could not load the page (e.g. ERRORED_DOCUMENT_REQUEST). */
  runtimeError?: string;
}

export type RunOutcome = LighthouseRun | { error: string };

export interface AuditRequest {
  urls: string[];
  runs: number;
  /** Private, writable: the child's workspace (profile, results). */
  workDir: string;
  /** Host ports the browser may reach (the stage environment's). */
  hostPorts: number[];
  /** Directories to hide from the child (Slipway's data dir). */
  hidePaths: string[];
  signal: AbortSignal;
  onOutput(chunk: Buffer): void;
  log(line: string): void;
}

export interface AuditRunResult {
  /** Per url, per run. */
  runs: RunOutcome[][];
  /** Why the child did not finish cleanly (crash, timeout), when it did not. */
  error?: string;
  cancelled: boolean;
}

/** The child's input (its argument): the pages, the runs of each, where the results go. */
export function lighthouseJob(urls: string[], runs: number, out: string): unknown {
  return { urls, runs, chromePath: CHROMIUM_PATH, chromeFlags: CHROMIUM_FLAGS, settings: AUDIT_SETTINGS, out };
}

/** Reads a file the sandboxed child wrote: never through a symlink, never without bound. */
async function readChildFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_REPORT_BYTES) return undefined;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export function lighthouseRun(json: string, timeMs: number): LighthouseRun {
  const lhr = JSON.parse(json) as {
    categories?: Record<string, { score?: number | null } | undefined>;
    runtimeError?: { code?: string; message?: string };
  };
  const scores: CategoryScores = {};
  for (const category of AUDIT_CATEGORIES) {
    const value = toPercent(lhr.categories?.[category]?.score);
    if (value !== undefined) scores[category] = value;
  }
  const runtimeError = lhr.runtimeError ? `${lhr.runtimeError.code}: ${lhr.runtimeError.message}` : undefined;
  return { scores, json, timeMs, ...(runtimeError ? { runtimeError } : {}) };
}

async function collect(out: string, page: number, run: number, childError: string | undefined): Promise<RunOutcome> {
  const base = join(out, `lhr-${page}-${run}`);
  const json = await readChildFile(`${base}.json`);
  if (json === undefined) {
    const error = await readChildFile(`${base}.error`);
    return { error: error?.trim().slice(0, 500) || childError || 'no Lighthouse result' };
  }
  try {
    return lighthouseRun(json, Number(await readChildFile(`${base}.ms`)) || 0);
  } catch (err) {
    return { error: `unreadable Lighthouse result: ${(err as Error).message}` };
  }
}

export async function runLighthouse(req: AuditRequest): Promise<AuditRunResult> {
  const out = join(req.workDir, 'out');
  const home = join(req.workDir, 'home');
  await mkdir(out, { recursive: true });
  await mkdir(home, { recursive: true });
  const result = await runSandboxed({
    command: nodeScriptCommand(LIGHTHOUSE_CHILD, lighthouseJob(req.urls, req.runs, out)),
    workspace: req.workDir,
    hidePaths: req.hidePaths,
    readOnlyPaths: [...SCRIPT_READ_ONLY_PATHS],
    // TMPDIR is the sandbox's private /tmp: Chromium puts its singleton socket there, and a
    // socket path under a deep work dir exceeds the 108 bytes a unix socket may have.
    env: { PATH: sandboxPath(), HOME: home, TMPDIR: '/tmp', LANG: 'C.UTF-8' },
    timeoutMs: RUN_BUDGET_MS * req.urls.length * req.runs + 30_000,
    signal: req.signal,
    network: { outbound: false, hostPorts: req.hostPorts },
    onOutput: req.onOutput,
    log: req.log,
  });
  let error: string | undefined;
  if (result.timedOut) error = 'Lighthouse did not finish in time';
  else if (result.exitCode !== 0 && !result.cancelled) error = `Lighthouse ended with ${result.exitCode ?? result.signal}`;
  const runs: RunOutcome[][] = [];
  for (let page = 0; page < req.urls.length; page++) {
    const pageRuns: RunOutcome[] = [];
    for (let run = 1; run <= req.runs; run++) pageRuns.push(await collect(out, page, run, error));
    runs.push(pageRuns);
  }
  return { runs, cancelled: result.cancelled, ...(error ? { error } : {}) };
}
