// Shared set-up of the stage-testing tests: a real StepContext (test/support/step-context.ts)
// aimed at a StaticTopology, plus real OCI test bundles and a CONTRACT artifact in its store.
import type { ExecutionArtifact } from '../../src/steps/handler.ts';
import type { StepAction, PipelineOptions } from '../../src/domain/model.ts';
import { buildImage } from '../../src/artifacts/oci.ts';
import { parseContract } from '../../src/domain/contract.ts';
import { makeStepContext, type TestStepContext, type StepContextOverrides } from '../support/step-context.ts';
import { StaticTopology, STAGE_ENVIRONMENT } from '../support/static-topology.ts';
import type { TopologyView } from '../../src/topology/driver.ts';

export interface StageContextOptions extends StepContextOverrides {
  action: StepAction;
  /** Real processes behind a StaticTopology; leave out and pass `driver` for a real topology. */
  view?: TopologyView;
  /** Directories that become OCI bundles of the given artifact types. */
  bundles?: { type: string; dir: string }[];
  /** Raw slipway.yaml value; stored as the CONTRACT artifact. */
  contract?: unknown;
  options?: Partial<PipelineOptions>;
}

export async function stageContext(opts: StageContextOptions): Promise<TestStepContext> {
  const { action, view, bundles = [], contract, options, ...overrides } = opts;
  const ctx = makeStepContext({ environment: STAGE_ENVIRONMENT, ...(view ? { driver: new StaticTopology(view) } : {}), ...overrides });
  ctx.step.action = action;
  ctx.pipeline.options = { ...ctx.pipeline.options, ...options };
  const prior: ExecutionArtifact[] = [];
  for (const bundle of bundles) {
    const image = await buildImage(ctx.artifacts, { dir: bundle.dir });
    prior.push({ digest: image.digest, size: image.size, type: bundle.type, name: `${bundle.type.toLowerCase()}.oci`, stepId: 'buildImage' });
  }
  if (contract !== undefined) {
    const blob = await ctx.artifacts.putBytes(JSON.stringify(parseContract(contract)));
    prior.push({ ...blob, type: 'CONTRACT', name: 'slipway.yaml.json', stepId: 'build' });
  }
  const own = ctx.executionArtifacts;
  ctx.executionArtifacts = async () => [...prior, ...(await own())];
  return ctx;
}
