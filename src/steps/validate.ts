// `validate`: before anything is built, check that the branch exists, the environments exist
// and are ready, every step of the layout has a real handler, and the repository contract
// (slipway.yaml at that commit) is well-formed, naming the file, the field and what was expected.
// The commit it fetched and checked out to read the contract is kept for the build
// (fetched-commit.ts).
import { dirname } from 'node:path';
import YAML from 'yaml';
import { CONTRACT_FILE, ContractError, parseContract } from '../domain/contract.ts';
import { actionsOf, layoutFor, requiredEnvironmentTypes } from '../domain/layout.ts';
import type { Environment } from '../domain/model.ts';
import { targetProblem } from '../domain/targets.ts';
import { fetchCommit } from '../runner/fetched-commit.ts';
import { resolveBranch } from '../runner/git.ts';
import { readWorkspaceFile } from '../runner/workspace-path.ts';
import type { HandlerRegistry, StepContext, StepHandler } from './handler.ts';

export interface ValidateDeps {
  handlers: () => HandlerRegistry;
  environment(id: string): Promise<Environment | undefined>;
}

/**
 * slipway.yaml at `commit` (undefined when there is none), read as the build reads it (inside the
 * work tree) from the commit checked out in the execution's dir and kept there for the build
 * (fetched-commit.ts).
 */
async function readContractAt(url: string, commit: string, ctx: StepContext): Promise<string | undefined> {
  return fetchCommit(url, commit, dirname(ctx.workDir), (dir) => readWorkspaceFile(dir, CONTRACT_FILE), ctx.signal);
}

export function makeValidateHandler(deps: ValidateDeps): StepHandler {
  return {
    action: 'validate',
    idempotent: true,
    async run(ctx) {
      const problems: string[] = [];
      const { pipeline, execution, repository } = ctx;

      const layout = layoutFor(pipeline, execution.trigger, execution.mode);
      const registry = deps.handlers();
      const missing = actionsOf(layout).filter((a) => !registry[a]);
      if (missing.length) problems.push(`no handler is available yet for step(s): ${missing.join(', ')}`);

      for (const type of requiredEnvironmentTypes(pipeline)) {
        const id = pipeline.environments[type];
        const env = id ? await deps.environment(id) : undefined;
        const problem = !env
          ? `the pipeline needs a ${type} environment${id ? ` (environment ${id} does not exist)` : ''}`
          : targetProblem(type, env) ?? (env.status !== 'ready' ? `environment ${env.name} is ${env.status}, not ready` : undefined);
        if (problem) problems.push(problem);
        else ctx.log.line(`environment ${env?.name ?? id} (${type}) is ready`);
      }

      let commit: string | undefined;
      try {
        commit = await resolveBranch(repository.url, pipeline.branch, ctx.signal);
        ctx.log.line(`branch ${pipeline.branch} of ${repository.name} is at ${commit}`);
      } catch (error) {
        problems.push(`branch ${pipeline.branch} of ${repository.url} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
      }

      if (commit && execution.trigger !== 'RE_EXECUTE') {
        try {
          const text = await readContractAt(repository.url, commit, ctx);
          parseContract(text === undefined ? {} : YAML.parse(text));
          ctx.log.line(text === undefined ? `no ${CONTRACT_FILE}: building by convention` : `${CONTRACT_FILE} is valid`);
        } catch (error) {
          problems.push(error instanceof ContractError || error instanceof Error ? error.message : String(error));
        }
      }

      for (const p of problems) ctx.log.line(`✗ ${p}`);
      if (problems.length) return { outcome: 'failed', reason: problems.join('; ') };
      // A re-execution deploys its source's build: the branch head is checked (the repository
      // must still be readable) but is not the commit this execution deploys; the build step
      // names that one.
      const recorded = commit && execution.trigger !== 'RE_EXECUTE' ? { commitId: commit } : {};
      return { outcome: 'finished', details: recorded };
    },
  };
}
