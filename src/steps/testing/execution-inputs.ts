// What the stage-testing steps read from earlier steps: the repository contract (the CONTRACT
// artifact, JSON of RepositoryContract) and the test bundles (OCI images).
import type { StepContext, ExecutionArtifact } from '../handler.ts';
import { parseContract, type RepositoryContract } from '../../domain/contract.ts';

/** The last artifact of the type recorded by this execution, if any. */
export async function latestArtifact(ctx: StepContext, type: string): Promise<ExecutionArtifact | undefined> {
  const all = await ctx.executionArtifacts();
  return all.filter((a) => a.type === type).at(-1);
}

/**
 * The repository contract of this execution. A missing CONTRACT artifact means "all defaults";
 * an unreadable one is logged and treated the same, since the build already validated it.
 */
export async function loadContract(ctx: StepContext): Promise<RepositoryContract> {
  const artifact = await latestArtifact(ctx, 'CONTRACT');
  if (!artifact) return parseContract({});
  try {
    return parseContract(JSON.parse((await ctx.artifacts.read(artifact.digest)).toString('utf8')));
  } catch (err) {
    ctx.log.line(`warning: CONTRACT artifact ${artifact.name} is unreadable (${(err as Error).message}); using defaults`);
    return parseContract({});
  }
}
