// Members and tokens: grant and revoke a member's roles on the program, rotate one's own
// token, revoke every token of a user (administrators), get a registry pull token. New tokens
// are printed once.
import type { Command } from 'commander';
import { action } from './context.ts';

const enc = encodeURIComponent;

export function registerAccessCommands(program: Command): void {
  program.command('add-member <user> <role>')
    .description('grant a role on the program (admin); prints a new token for the user')
    .action(action<object, [string, string]>(async (ctx, _opts, user, role) => {
      const res = await ctx.client.request<{ token: string }>('POST', `/api/program/${enc(await ctx.programId())}/members`, { user, role });
      ctx.print(res.body, () => `${user} is ${role}; token (shown once): ${res.body.token}`);
    }));

  program.command('remove-member <user>')
    .description('revoke a member\'s roles on the program (admin): all, or the one given with --role')
    .option('--role <role>', 'revoke only this role')
    .action(action<{ role?: string }, [string]>(async (ctx, opts, user) => {
      const query = opts.role ? `?role=${enc(opts.role)}` : '';
      await ctx.client.request('DELETE', `/api/program/${enc(await ctx.programId())}/members/${enc(user)}${query}`);
      ctx.print({ user, revoked: opts.role ?? 'all roles' }, () => `${user}: ${opts.role ?? 'all roles'} revoked`);
    }));

  program.command('rotate-token')
    .description('replace the token in use with a new one (printed once); the old one stops working')
    .action(action<object, []>(async (ctx) => {
      const res = await ctx.client.request<{ user: string; token: string }>('POST', '/api/tokens/rotate');
      ctx.print(res.body, () => `New token for ${res.body.user} (shown once): ${res.body.token}`);
    }));

  program.command('pull-token')
    .description('a read-only token for pulling the program\'s images from Slipway\'s registry (printed once)')
    .option('--days <n>', 'how long it stays valid, 1-365', '30')
    .action(action<{ days: string }, []>(async (ctx, opts) => {
      const res = await ctx.client.request<{ registry: string; username: string; password: string; expiresAt: string }>(
        'POST', `/api/program/${enc(await ctx.programId())}/registry/token`, { days: Number(opts.days) });
      const b = res.body;
      ctx.print(b, () => `Pull token for ${b.registry}, valid until ${b.expiresAt} (shown once):\n`
        + `  podman login --username ${b.username} --password '${b.password}' ${b.registry}`);
    }));

  program.command('revoke-tokens <user>')
    .description('revoke every token of a user (admin)')
    .action(action<object, [string]>(async (ctx, _opts, user) => {
      const res = await ctx.client.request<{ user: string; revoked: number }>('DELETE', `/api/users/${enc(user)}/tokens`);
      ctx.print(res.body, () => `${res.body.revoked} token(s) of ${res.body.user} revoked`);
    }));
}
