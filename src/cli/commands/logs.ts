// Step logs: download one (get-execution-step-log) or follow a running one (tail-step-log)
// with HTTP Range requests on the log's redirect URL, as Adobe's library does.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { findStep } from '../current-step.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { stepsOf } from '../hal.ts';
import { action } from './context.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerLogCommands(program: Command): void {
  program.command('get-execution-step-log')
    .description('a step\'s log: build, codeQuality, buildImage, stageDeploy, prodDeploy, devDeploy or any action')
    .argument('<pipelineId>').argument('<executionId>').argument('[action]', 'step', 'build')
    .option('-f, --file <name>', 'an alternate log of the step (e.g. sonarLogFile)')
    .option('-o, --output <path>', 'write to this file instead of stdout')
    .action(action<{ file?: string; output?: string }, [string, string, string]>(async (ctx, opts, pipelineId, executionId, name) => {
      const e = await ctx.client.execution(await ctx.programId(), pipelineId, executionId);
      const step = findStep(stepsOf(e), name);
      if (!step) throw new CliError(`execution ${executionId} has no ${name} step`, EXIT.notFound);
      const url = await ctx.client.logUrl(step, opts.file);
      const { status, bytes } = await ctx.client.readLog(url);
      if (status === 404) throw new CliError(`the ${name} step has not written a log yet`, EXIT.notFound);
      if (opts.output) {
        writeFileSync(opts.output, bytes);
        ctx.progress(`wrote ${bytes.length} bytes to ${opts.output}`);
      } else {
        process.stdout.write(bytes);
      }
    }));

  program.command('tail-step-log')
    .description('follow the log of a running step of the current execution (default: build)')
    .argument('<pipelineId>').argument('[action]', 'step', 'build')
    .option('--interval <seconds>', 'pause between reads when nothing is new', '1')
    .action(action<{ interval: string }, [string, string]>(async (ctx, opts, pipelineId, name) => {
      const programId = await ctx.programId();
      const e = await ctx.client.currentExecution(programId, pipelineId);
      if (!e) throw new CliError(`pipeline ${pipelineId} has no current execution`, EXIT.notFound);
      let step = findStep(stepsOf(e), name);
      if (!step) throw new CliError(`the current execution has no ${name} step`, EXIT.notFound);
      if (step.status !== 'RUNNING') throw new CliError(`the ${name} step is ${step.status}, not RUNNING`, EXIT.refused);
      const url = await ctx.client.logUrl(step);
      const pause = Math.max(0.2, Number(opts.interval) || 1) * 1000;
      let offset = 0;
      const drain = async (): Promise<boolean> => {
        const { bytes } = await ctx.client.readLog(url, offset);
        if (bytes.length === 0) return false;
        process.stdout.write(bytes);
        offset += bytes.length;
        return true;
      };
      while (step.status === 'RUNNING') {
        if (!(await drain())) {
          await sleep(pause);
          step = await ctx.client.step(step);
        }
      }
      while (await drain()) { /* the rest written before the step ended */ }
      ctx.progress(`${name}: ${step.status}`);
    }));
}
