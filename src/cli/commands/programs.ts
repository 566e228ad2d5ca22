// Listing commands: programs, pipelines, environments.
import type { Command } from 'commander';
import { table } from '../format.ts';
import { action } from './context.ts';

export function registerProgramCommands(program: Command): void {
  program.command('list-programs')
    .description('the programs this token may see')
    .action(action<object, []>(async (ctx) => {
      const list = await ctx.client.listPrograms();
      ctx.print(list, () => table(['ID', 'NAME', 'ENABLED'], list.map((p) => [p.id, p.name, p.enabled === false ? 'no' : 'yes'])));
    }));

  program.command('list-pipelines')
    .description('the pipelines of the program')
    .action(action<object, []>(async (ctx) => {
      const list = await ctx.client.listPipelines(await ctx.programId());
      ctx.print(list, () => table(['ID', 'NAME', 'TYPE', 'STATUS', 'TRIGGER', 'LAST STARTED'],
        list.map((p) => [p.id, p.name, p.type, p.status, p.trigger, p.lastStartedAt])));
    }));

  program.command('list-environments')
    .description('the environments of the program')
    .action(action<object, []>(async (ctx) => {
      const list = await ctx.client.listEnvironments(await ctx.programId());
      ctx.print(list, () => table(['ID', 'NAME', 'TYPE', 'STATUS', 'REGION'],
        list.map((e) => [e.id, e.name, e.type, e.status, e.region])));
    }));
}
