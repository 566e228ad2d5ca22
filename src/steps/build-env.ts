// Pure pieces of the build step: the build's environment, as Cloud
// Manager's build step sets them (CM_BUILD, BRANCH, CM_PIPELINE_ID, ...).
import { dirname, join } from 'node:path';

/** PATH inside the sandbox: the node running Slipway first, then the system directories. */
export function sandboxPath(nodeExecPath = process.execPath): string {
  const dirs = [dirname(nodeExecPath), '/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return [...new Set(dirs)].join(':');
}

export interface BuildEnvInput {
  branch: string;
  pipelineId: string;
  pipelineName: string;
  programId: string;
  programName: string;
  artifactsVersion: string;
  homeDir: string;
  tmpDir: string;
  /** The pipeline's build cache (package managers' downloads, kept between builds). */
  cacheDir: string;
  /** Pipeline variables for the build service (secrets included). */
  variables: Record<string, string>;
}

/** The complete environment of the build command; Slipway's own names win over variables. */
export function buildEnvironment(input: BuildEnvInput): Record<string, string> {
  return {
    ...input.variables,
    PATH: sandboxPath(),
    HOME: input.homeDir,
    TMPDIR: input.tmpDir,
    // Package managers keep their downloads in the pipeline's cache, not in the throw-away HOME.
    npm_config_cache: join(input.cacheDir, 'npm'),
    XDG_CACHE_HOME: join(input.cacheDir, 'xdg'),
    LANG: 'C.UTF-8',
    CI: 'true',
    CM_BUILD: 'true',
    BRANCH: input.branch,
    CM_PIPELINE_ID: input.pipelineId,
    CM_PIPELINE_NAME: input.pipelineName,
    CM_PROGRAM_ID: input.programId,
    CM_PROGRAM_NAME: input.programName,
    ARTIFACTS_VERSION: input.artifactsVersion,
  };
}

/** "2 unit tests failed: suite › name, suite › other" (at most 5 names, then "and N more"). */
export function failedTestsReason(failed: { suite: string; name: string }[]): string {
  const names = failed.slice(0, 5).map((f) => (f.suite ? `${f.suite} › ${f.name}` : f.name));
  const more = failed.length > 5 ? ` and ${failed.length - 5} more` : '';
  return `${failed.length} unit test${failed.length === 1 ? '' : 's'} failed: ${names.join(', ')}${more}`;
}
