// The `slipway` command's program: the server (serve, demo) and Cloud Manager CLI-style client
// commands. main() runs one command line and returns its exit code (tests call it in-process).
// Exit codes: 0 ok, 1 general, 2 configuration, 3 refused/validation, 4 not found, 5 execution failed.
import { Command, CommanderError } from 'commander';
import { registerEnvironmentLogCommands } from './commands/environment-logs.ts';
import { registerAccessCommands } from './commands/access.ts';
import { registerExecutionCommands } from './commands/executions.ts';
import { registerLogCommands } from './commands/logs.ts';
import { registerProgramCommands } from './commands/programs.ts';
import { registerServerCommands } from './commands/server.ts';
import { registerVariableCommands } from './commands/variables.ts';
import { EXIT, exitCodeFor, messageFor } from './exit-codes.ts';

export function buildProgram(): Command {
  const program = new Command('slipway')
    .description('Slipway: a self-hosted, Cloud Manager-compatible deployment pipeline')
    .option('--base-url <url>', 'Slipway API base URL (env SLIPWAY_URL; default http://127.0.0.1:$SLIPWAY_PORT or 8080)')
    .option('--token <token>', 'API token (env SLIPWAY_TOKEN; default: <SLIPWAY_DATA>/admin-token)')
    .option('-p, --program <id>', 'program id (env SLIPWAY_PROGRAM; optional when there is only one)')
    .option('-j, --json', 'JSON output for scripts')
    .addHelpText('after', `
Exit codes: 0 ok, 1 general error, 2 configuration (URL, token, program), 3 refused or invalid,
            4 not found, 5 the execution failed (wait-execution, start-execution --wait)`)
    .showHelpAfterError()
    .exitOverride();
  registerServerCommands(program);
  registerProgramCommands(program);
  registerExecutionCommands(program);
  registerLogCommands(program);
  registerEnvironmentLogCommands(program);
  registerVariableCommands(program);
  registerAccessCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.refused;
    }
    process.stderr.write(`slipway: ${messageFor(error)}\n`);
    return exitCodeFor(error);
  } finally {
    process.exitCode = before;
  }
}

