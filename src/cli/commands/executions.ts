// Execution commands, named as in Adobe's Cloud Manager CLI: start, inspect, advance, cancel,
// quality-gate results, plus Slipway's re-execute, redeploy-execution, rollback-pipeline and wait-execution.
import type { Command } from 'commander';
import { advanceCommand, cancelCommand, findStep, overrideBody } from '../current-step.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { deployProgress, duration, stepLabel, table } from '../format.ts';
import { hasEnded, linkOf, rel, stepsOf, type ExecutionView, type StepStateView } from '../hal.ts';
import { action, type CommandContext } from './context.ts';

export function describeExecution(e: ExecutionView): string {
  const head = `Execution ${e.id} of pipeline ${e.pipelineId}: ${e.status} (${e.trigger}${e.pipelineExecutionMode === 'EMERGENCY' ? ', EMERGENCY' : ''})`
    + `${e.user ? ` by ${e.user}` : ''}${e.artifactsVersion ? `, artifacts ${e.artifactsVersion}` : ''}`;
  const rows = stepsOf(e).map((s) => [s.id, stepLabel(s, e.trigger), s.status, duration(s.startedAt, s.finishedAt), s.reason ?? '']);
  const deploys = stepsOf(e).map((s) => deployProgress(s, e.trigger)).filter((line) => line !== undefined);
  return [head, table(['STEP', 'ACTION', 'STATUS', 'DURATION', 'REASON'], rows), ...deploys].join('\n');
}

async function current(ctx: CommandContext, pipelineId: string): Promise<ExecutionView> {
  const programId = await ctx.programId();
  const execution = await ctx.client.currentExecution(programId, pipelineId);
  if (!execution) throw new CliError(`pipeline ${pipelineId} has no current execution`, EXIT.notFound);
  return execution;
}

async function executionOrCurrent(ctx: CommandContext, pipelineId: string, executionId?: string): Promise<ExecutionView> {
  if (!executionId) return current(ctx, pipelineId);
  return ctx.client.execution(await ctx.programId(), pipelineId, executionId);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the execution ends (or a step waits, with stopOnWaiting); reports step changes. */
export async function waitForExecution(
  ctx: CommandContext, pipelineId: string, executionId: string,
  options: { intervalMs: number; timeoutMs?: number; stopOnWaiting?: boolean },
): Promise<ExecutionView> {
  const programId = await ctx.programId();
  const seen = new Map<string, string>();
  const deadline = options.timeoutMs ? Date.now() + options.timeoutMs : Infinity;
  for (;;) {
    const e = await ctx.client.execution(programId, pipelineId, executionId);
    for (const s of stepsOf(e)) {
      if (seen.get(s.id) !== s.status) {
        if (seen.has(s.id) || s.status !== 'NOT_STARTED') {
          ctx.progress(`${new Date().toISOString().slice(11, 19)}  ${stepLabel(s, e.trigger).padEnd(18)} ${s.status}${s.reason ? ` — ${s.reason}` : ''}`);
        }
        seen.set(s.id, s.status);
      }
    }
    if (hasEnded(e)) return e;
    if (options.stopOnWaiting && stepsOf(e).some((s) => s.status === 'WAITING')) return e;
    if (Date.now() > deadline) throw new CliError(`execution ${executionId} still ${e.status} after the timeout`, EXIT.general);
    await sleep(options.intervalMs);
  }
}

export function registerExecutionCommands(program: Command): void {
  program.command('start-execution').alias('create-execution')
    .description('start the pipeline (PUT …/execution); 412 when it is already running')
    .argument('<pipelineId>')
    .option('--emergency', 'emergency mode: skips the security and load test gates')
    .option('--push-upgrade', 'run it as a push update (trigger PUSH_UPGRADES; administrators only)')
    .option('--wait', 'wait until the execution ends (exit 5 if it fails)')
    .action(action<{ emergency?: boolean; pushUpgrade?: boolean; wait?: boolean }, [string]>(async (ctx, opts, pipelineId) => {
      const e = await ctx.client.startExecution(await ctx.programId(), pipelineId, { emergency: opts.emergency, pushUpgrade: opts.pushUpgrade });
      ctx.progress(`started execution ${e.id}`);
      if (!opts.wait) {
        ctx.print(e, () => describeExecution(e));
        return;
      }
      const end = await waitForExecution(ctx, pipelineId, e.id, { intervalMs: 2000 });
      ctx.print(end, () => describeExecution(end));
      if (end.status !== 'FINISHED') process.exitCode = EXIT.executionFailed;
    }));

  program.command('get-current-execution')
    .description('the running execution of a pipeline (exit 4 when it is idle)')
    .argument('<pipelineId>')
    .action(action<object, [string]>(async (ctx, _o, pipelineId) => {
      const e = await current(ctx, pipelineId);
      ctx.print(e, () => describeExecution(e));
    }));

  program.command('list-executions')
    .description('a pipeline\'s executions, newest first')
    .argument('<pipelineId>')
    .option('-l, --limit <n>', 'how many', '20')
    .option('--status <status>', 'only executions with this status (FINISHED, FAILED, …)')
    .option('--trigger <trigger>', 'only executions with this trigger (MANUAL, ON_COMMIT, RE_EXECUTE, …)')
    .action(action<{ limit: string; status?: string; trigger?: string }, [string]>(async (ctx, opts, pipelineId) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive integer, got ${opts.limit}`, EXIT.refused);
      let list = await ctx.client.listExecutions(await ctx.programId(), pipelineId, limit);
      if (opts.status) list = list.filter((e) => e.status === opts.status?.toUpperCase());
      if (opts.trigger) list = list.filter((e) => e.trigger === opts.trigger?.toUpperCase());
      ctx.print(list, () => table(['ID', 'STATUS', 'TRIGGER', 'USER', 'STARTED', 'DURATION'],
        list.map((e) => [e.id, e.status, e.trigger, e.user, e.createdAt, duration(e.createdAt, e.finishedAt)])));
    }));

  program.command('get-execution-step-details')
    .description('the steps of an execution (the current one when no id is given)')
    .argument('<pipelineId>').argument('[executionId]')
    .action(action<object, [string, string | undefined]>(async (ctx, _o, pipelineId, executionId) => {
      const e = await executionOrCurrent(ctx, pipelineId, executionId);
      ctx.print(stepsOf(e), () => describeExecution(e));
    }));

  program.command('get-quality-gate-results')
    .description('metrics of a gate: codeQuality, security, performance, experienceAudit (contentAudit)')
    .argument('<pipelineId>').argument('<executionId>').argument('<action>')
    .action(action<object, [string, string, string]>(async (ctx, _o, pipelineId, executionId, gate) => {
      const e = await ctx.client.execution(await ctx.programId(), pipelineId, executionId);
      const step = findStep(stepsOf(e), gate);
      if (!step) throw new CliError(`execution ${executionId} has no ${gate} step`, EXIT.notFound);
      const metrics = await ctx.client.metrics(step);
      ctx.print(metrics, () => table(['KPI', 'SEVERITY', 'ACTUAL', 'EXPECTED', 'PASSED', 'OVERRIDE'],
        metrics.map((m) => [m.kpi, m.severity, m.actualValue, `${m.comparator} ${m.expectedValue}`, m.passed ? 'yes' : 'NO', m.override ? 'yes' : ''])));
    }));

  program.command('advance-current-execution')
    .description('approve / override / schedule now / resume the waiting step (as Adobe\'s library chooses)')
    .argument('<pipelineId>')
    .action(action<object, [string]>(async (ctx, _o, pipelineId) => {
      const e = await current(ctx, pipelineId);
      const cmd = advanceCommand(stepsOf(e));
      const body = 'needsMetrics' in cmd ? overrideBody(await ctx.client.metrics(cmd.step)) : cmd.body;
      await ctx.client.advance(cmd.step, body);
      ctx.print({ executionId: e.id, stepId: cmd.step.id, action: cmd.step.action, body },
        () => `advanced ${stepLabel(cmd.step, e.trigger)} (step ${cmd.step.id}) of execution ${e.id} with ${JSON.stringify(body)}`);
    }));

  program.command('cancel-current-execution')
    .description('reject / stop / cancel at the current step (as Adobe\'s library chooses)')
    .argument('<pipelineId>')
    .action(action<object, [string]>(async (ctx, _o, pipelineId) => {
      const e = await current(ctx, pipelineId);
      const cmd = cancelCommand(stepsOf(e));
      const body = 'body' in cmd ? cmd.body : { cancel: true };
      if (cmd.link === 'advance') await ctx.client.advance(cmd.step, body);
      else await ctx.client.cancel(cmd.step, body);
      ctx.print({ executionId: e.id, stepId: cmd.step.id, action: cmd.step.action, link: cmd.link, body },
        () => `sent ${JSON.stringify(body)} to the ${cmd.link} link of ${stepLabel(cmd.step, e.trigger)} (step ${cmd.step.id}) of execution ${e.id}`);
    }));

  program.command('re-execute')
    .description('deploy the last execution\'s artifacts to production again (its prod deploy step\'s reExecute link)')
    .argument('<pipelineId>').argument('[executionId]', 'defaults to the pipeline\'s last execution')
    .action(action<object, [string, string | undefined]>(async (ctx, _o, pipelineId, executionId) => {
      const programId = await ctx.programId();
      const source = executionId
        ? await ctx.client.execution(programId, pipelineId, executionId)
        : (await ctx.client.listExecutions(programId, pipelineId, 1))[0];
      if (!source) throw new CliError(`pipeline ${pipelineId} has no executions`, EXIT.notFound);
      const step = stepsOf(source).find((s: StepStateView) => linkOf(s, rel.reExecute));
      if (!step) throw new CliError(`execution ${source.id} cannot be re-executed (no reExecute link on its production deploy step)`, EXIT.refused);
      const e = await ctx.client.reExecute(step);
      ctx.print(e, () => describeExecution(e));
    }));

  program.command('redeploy-execution')
    .description('deploy an earlier execution\'s release to production again, a rollback (its redeploy link; trigger RE_EXECUTE)')
    .argument('<pipelineId>').argument('<executionId>', 'an earlier execution whose production deployment finished')
    .action(action<object, [string, string]>(async (ctx, _o, pipelineId, executionId) => {
      const source = await ctx.client.execution(await ctx.programId(), pipelineId, executionId);
      const e = await ctx.client.redeploy(source);
      ctx.print(e, () => `${describeExecution(e)}\nredeploying the release of execution ${source.id} (artifacts ${e.artifactsVersion ?? '?'} of execution ${e.sourceExecutionId ?? source.id})`);
    }));

  program.command('rollback-pipeline')
    .description('roll production back to the release live before the last one (the pipeline\'s rollbackLastSuccessfulExecution link; trigger RE_EXECUTE)')
    .argument('<pipelineId>')
    .action(action<object, [string]>(async (ctx, _o, pipelineId) => {
      const e = await ctx.client.rollback(await ctx.programId(), pipelineId);
      ctx.print(e, () => `${describeExecution(e)}\nrolling back to the release of execution ${e.sourceExecutionId ?? '?'} (artifacts ${e.artifactsVersion ?? '?'})`);
    }));

  program.command('wait-execution')
    .description('wait until the current (or given) execution ends; progress on stderr; exit 5 unless FINISHED')
    .argument('<pipelineId>').argument('[executionId]')
    .option('--interval <seconds>', 'polling interval', '2')
    .option('--timeout <seconds>', 'give up after this long (exit 1)')
    .option('--until-waiting', 'also return (exit 0) as soon as a step waits for a person')
    .action(action<{ interval: string; timeout?: string; untilWaiting?: boolean }, [string, string | undefined]>(
      async (ctx, opts, pipelineId, executionId) => {
        // No current execution: it may have ended already; wait-execution then reports the latest.
        const id = executionId ?? (await ctx.client.currentExecution(await ctx.programId(), pipelineId))?.id
          ?? (await ctx.client.listExecutions(await ctx.programId(), pipelineId, 1))[0]?.id;
        if (!id) throw new CliError(`pipeline ${pipelineId} has no executions`, EXIT.notFound);
        const end = await waitForExecution(ctx, pipelineId, id, {
          intervalMs: Math.max(0.2, Number(opts.interval) || 2) * 1000,
          ...(opts.timeout ? { timeoutMs: Number(opts.timeout) * 1000 } : {}),
          stopOnWaiting: opts.untilWaiting,
        });
        ctx.print(end, () => describeExecution(end));
        const waiting = stepsOf(end).some((s) => s.status === 'WAITING');
        if (end.status !== 'FINISHED' && !(opts.untilWaiting && waiting && !hasEnded(end))) {
          process.exitCode = EXIT.executionFailed;
        }
      },
    ));
}
