// Images: what a base image costs the first time on a machine (mmdebstrap from the Debian
// archive, into a fresh cache dir) and afterwards (from the machine-wide cache, into a fresh data
// dir), what the buildImage step costs for the sample site once its bases are cached, and how
// big the images are. Goals: a cached base costs well under a second; the app's own layer is the
// build output, not a system.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ARTIFACT_TYPES } from '../src/artifacts/artifact-types.ts';
import { ensureBaseImage, type BaseName } from '../src/artifacts/base-image.ts';
import { FsArtifactStore } from '../src/artifacts/fs-store.ts';
import { buildImage, readManifest } from '../src/artifacts/oci.ts';
import { parseContract } from '../src/domain/contract.ts';
import { buildImageHandler } from '../src/steps/build-image.ts';
import type { ExecutionArtifact } from '../src/steps/handler.ts';
import { copySampleSite } from '../test/support/sample-repo.ts';
import { makeStepContext } from '../test/support/step-context.ts';

const RUNS = 3;
const MB = 1024 * 1024;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** First build into an empty cache dir, then the same base from that cache into a fresh store. */
async function baseFigures(root: string, base: BaseName): Promise<void> {
  const cacheDir = join(root, `cache-${base}`);
  const first = await timed(() => ensureBaseImage(new FsArtifactStore(join(root, `first-${base}`)), base, { cacheDir }));
  const cached: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    cached.push((await timed(() => ensureBaseImage(new FsArtifactStore(join(root, `cached-${base}-${i}`)), base, { cacheDir }))).ms);
  }
  const size = first.value.layers.reduce((sum, l) => sum + l.size, 0);
  console.log(`  base ${base.padEnd(10)} first build ${(first.ms / 1000).toFixed(1)} s, cached ${median(cached).toFixed(0)} ms (median of ${RUNS}), layer ${(size / MB).toFixed(1)} MB`);
}

/** The buildImage step on the built sample site (bases from the machine-wide cache). */
async function appFigures(root: string): Promise<void> {
  const site = join(root, 'site');
  await copySampleSite(site, 'default');
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: site, stdio: 'ignore' });
  const contract = parseContract(parseYaml(readFileSync(join(site, 'slipway.yaml'), 'utf8')));
  // Built once before timing: the first run on a machine would otherwise measure mmdebstrap.
  await ensureBaseImage(new FsArtifactStore(join(root, 'warm')), contract.image);
  await ensureBaseImage(new FsArtifactStore(join(root, 'warm')), 'dispatcher');
  const stepMs: number[] = [];
  let sizes = '';
  for (let i = 0; i < RUNS; i++) {
    const prior: ExecutionArtifact[] = [];
    const ctx = makeStepContext({ dataDir: join(root, `app-${i}`), priorArtifacts: prior });
    const output = await buildImage(ctx.artifacts, { dir: join(site, contract.app.output) });
    const pkg = await buildImage(ctx.artifacts, { dir: join(site, 'dispatcher') });
    const contractBlob = await ctx.artifacts.putBytes(JSON.stringify(contract));
    prior.push({ type: ARTIFACT_TYPES.BUILD_OUTPUT, name: 'o', stepId: 'b', ...output }, { type: ARTIFACT_TYPES.DISPATCHER_PACKAGE, name: 'd', stepId: 'b', ...pkg },
      { type: ARTIFACT_TYPES.CONTRACT, name: 'c', stepId: 'b', ...contractBlob });
    const { ms, value } = await timed(() => buildImageHandler.run(ctx));
    if (value.outcome !== 'finished') throw new Error(`buildImage ${value.outcome}`);
    stepMs.push(ms);
    if (i === 0) {
      const parts: string[] = [];
      for (const type of [ARTIFACT_TYPES.APP_IMAGE, ARTIFACT_TYPES.DISPATCHER_IMAGE]) {
        const digest = ctx.recorded.find((a) => a.type === type)?.digest ?? '';
        const layers = (await readManifest(ctx.artifacts, digest)).layers;
        const own = layers.at(-1)?.size ?? 0;
        const total = layers.reduce((sum, l) => sum + l.size, 0);
        parts.push(`  ${type}: ${(total / MB).toFixed(1)} MB uncompressed, of which its own layer ${(own / 1024).toFixed(0)} KB`);
      }
      sizes = parts.join('\n');
    }
  }
  console.log(`  buildImage step (sample site: app + dispatcher images + manifests): ${median(stepMs).toFixed(0)} ms (median of ${RUNS}; runs: ${stepMs.map((m) => m.toFixed(0)).join(', ')})`);
  console.log(sizes);
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'slipway-bench-images-'));
  try {
    console.log('images: base images from the Debian archive with mmdebstrap (first build needs the network)');
    await baseFigures(root, 'static');
    await baseFigures(root, 'node');
    await appFigures(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
