// Pipeline and environment variables. A set sends only the changes (PATCH); -d deletes.
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { table } from '../format.ts';
import type { VariableView } from '../hal.ts';
import { action } from './context.ts';

interface SetOptions {
  variable?: string[];
  secret?: string[];
  delete?: string[];
  service?: string;
}

const NAME = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

/** -v NAME VALUE and -s NAME VALUE come as flat lists of pairs; -d NAME deletes (value ""). */
export function changesFrom(opts: SetOptions): VariableView[] {
  const service = opts.service ? { service: opts.service } : {};
  const pairs = (list: string[] | undefined, type: string, flag: string): VariableView[] => {
    const values = list ?? [];
    if (values.length % 2 !== 0) throw new CliError(`${flag} takes NAME VALUE pairs`, EXIT.refused);
    const out: VariableView[] = [];
    for (let i = 0; i < values.length; i += 2) out.push({ name: values[i] as string, value: values[i + 1] as string, type, ...service });
    return out;
  };
  const changes = [
    ...pairs(opts.variable, 'string', '-v/--variable'),
    ...pairs(opts.secret, 'secretString', '-s/--secret'),
    ...(opts.delete ?? []).map((name) => ({ name, value: '', type: 'string', ...service })),
  ];
  if (changes.length === 0) throw new CliError('nothing to change: use -v NAME VALUE, -s NAME VALUE or -d NAME', EXIT.refused);
  const bad = changes.find((c) => !NAME.test(c.name));
  if (bad) throw new CliError(`invalid variable name "${bad.name}" (letters, digits and _; not starting with a digit)`, EXIT.refused);
  return changes;
}

const show = (list: VariableView[]) => table(['NAME', 'TYPE', 'SERVICE', 'VALUE'],
  list.map((v) => [v.name, v.type, v.service ?? '(all)', v.type === 'secretString' ? '****' : v.value]));

function withSetOptions(cmd: Command, services: string): Command {
  return cmd
    .option('-v, --variable <nameValue...>', 'set NAME VALUE (repeatable)')
    .option('-s, --secret <nameValue...>', 'set secret NAME VALUE (repeatable)')
    .option('-d, --delete <name...>', 'delete NAME (repeatable)')
    .option('--service <service>', `only for one service: ${services}`);
}

export function registerVariableCommands(program: Command): void {
  program.command('list-pipeline-variables')
    .argument('<pipelineId>')
    .description('a pipeline\'s variables (secret values are never shown)')
    .action(action<object, [string]>(async (ctx, _o, pipelineId) => {
      const list = await ctx.client.pipelineVariables(await ctx.programId(), pipelineId);
      ctx.print(list, () => show(list));
    }));

  withSetOptions(program.command('set-pipeline-variables'), 'build, functionalTest, uiTest, loadTest')
    .argument('<pipelineId>')
    .description('change a pipeline\'s variables')
    .action(action<SetOptions, [string]>(async (ctx, opts, pipelineId) => {
      const programId = await ctx.programId();
      await ctx.client.setPipelineVariables(programId, pipelineId, changesFrom(opts));
      const list = await ctx.client.pipelineVariables(programId, pipelineId);
      ctx.print(list, () => show(list));
    }));

  program.command('list-environment-variables')
    .argument('<environmentId>')
    .description('an environment\'s variables (secret values are never shown)')
    .action(action<object, [string]>(async (ctx, _o, environmentId) => {
      const list = await ctx.client.environmentVariables(await ctx.programId(), environmentId);
      ctx.print(list, () => show(list));
    }));

  withSetOptions(program.command('set-environment-variables'), 'author, publish, preview')
    .argument('<environmentId>')
    .description('change an environment\'s variables (applied on the next deployment)')
    .action(action<SetOptions, [string]>(async (ctx, opts, environmentId) => {
      const programId = await ctx.programId();
      await ctx.client.setEnvironmentVariables(programId, environmentId, changesFrom(opts));
      const list = await ctx.client.environmentVariables(programId, environmentId);
      ctx.print(list, () => show(list));
    }));
}
