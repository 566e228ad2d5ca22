// A test bundle run as a container (runner/container.ts) of its own image (test-image.ts), with
// the places Cloud Manager's test containers have: the bundle at /tests (the working directory),
// REPORTS_PATH=/reports mounted from the step's reports dir (JUnit XML, screenshots), a private
// HOME, and Slipway's own helper scripts (the UI tests' chromedriver launcher) mounted
// read-only and run by the image's node.
import { basename } from 'node:path';
import type { StepContext } from '../handler.ts';
import { runContainer, type ContainerMount } from '../../runner/container.ts';
import { shellQuote } from '../../runner/node-script.ts';
import type { SandboxResult } from '../../runner/sandbox.ts';
import { RUN_LIMITS } from '../run-limits.ts';
import { buildTestImage, TESTS_DIR } from './test-image.ts';
import type { BundleRunRequest, RunPlaces } from './bundle-request.ts';

const REPORTS = '/reports';
const HOME = '/home/tests';
const SCRIPTS = '/opt/slipway';

export async function runBundleInContainer(ctx: StepContext, req: BundleRunRequest, containersConf: string): Promise<SandboxResult> {
  const log = (line: string): void => ctx.log.line(line);
  const image = await buildTestImage({ store: ctx.artifacts, containersConf, signal: ctx.signal, log }, req.dirs.bundle);
  try {
    const mounts: ContainerMount[] = [
      { source: req.dirs.reports, target: REPORTS, writable: true },
      { source: req.dirs.home, target: HOME, writable: true },
    ];
    const places: RunPlaces = {
      home: HOME,
      nodeScript: (script, input) => {
        const target = `${SCRIPTS}/${basename(script)}`;
        if (!mounts.some((m) => m.target === target)) mounts.push({ source: script, target, writable: false });
        return `exec node ${shellQuote(target)} ${shellQuote(JSON.stringify(input))}`;
      },
    };
    const command = req.wrap ? req.wrap(places) : req.command;
    return await runContainer({
      image: image.reference,
      containersConf,
      command,
      workdir: TESTS_DIR,
      env: { HOME, TMPDIR: HOME, CI: 'true', ...req.env, REPORTS_PATH: REPORTS },
      mounts,
      limits: RUN_LIMITS,
      hostPorts: req.hostPorts ?? [],
      labels: { 'io.slipway.execution': ctx.step.executionId, 'io.slipway.step': ctx.step.id },
      timeoutMs: req.timeoutMinutes * 60_000,
      signal: ctx.signal,
      onOutput: (chunk) => ctx.log.write(chunk),
      log,
    });
  } finally {
    await image.remove();
  }
}
